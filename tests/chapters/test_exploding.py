"""Chapter 2's experiments, figures and widget, at toy sizes."""

from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import pytest
import torch

from rnncourse.chapters.ch02_exploding_gradients import figures as plots
from rnncourse.chapters.ch02_exploding_gradients import remedy_figures
from rnncourse.chapters.ch02_exploding_gradients.adding_sweeps import (
    AddingMember,
    group_by_label,
    run_clipping_sweep,
    seed_summary,
    train_adding_members,
)
from rnncourse.chapters.ch02_exploding_gradients.cliff import (
    cliff_slice,
    cliff_surface,
    one_unit_rnn_loss,
    step_at_the_wall,
    wall_bias,
)
from rnncourse.chapters.ch02_exploding_gradients.divergence import (
    TrainingRun,
    clipping_directions,
    train_adding_rnn,
)
from rnncourse.chapters.ch02_exploding_gradients.remedies import (
    read_digits,
    run_initialization_comparison,
    run_normalization_comparison,
    set_population_statistics_,
)
from rnncourse.chapters.ch02_exploding_gradients.widgets import clipping_explorer, draw_training_run
from rnncourse.training import History

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# --------------------------------------------------------------------------------------------
# The cliff


def test_one_unit_rnn_loss_is_the_recurrence():
    w, b = torch.tensor([5.0, 2.0]), torch.tensor([-2.0, 0.3])
    for k in range(2):
        x = 0.5
        for _ in range(7):
            x = w[k].item() / (1 + math.exp(-x)) + b[k].item()
        assert one_unit_rnn_loss(w, b, steps=7)[k].item() == pytest.approx((x - 0.7) ** 2)
    with pytest.raises(ValueError, match="steps"):
        one_unit_rnn_loss(w, b, steps=0)


def test_the_wall_is_where_the_loss_jumps():
    # x_0 is a fixed point on the wall ...
    w = torch.tensor(5.0, dtype=torch.float64)
    b_star = wall_bias(5.0)
    assert (w * torch.sigmoid(torch.tensor(0.5)) + b_star).item() == pytest.approx(0.5)
    # ... and, where w σ'(x_0) > 1, a jump of the loss: below the wall x_T runs to the lower
    # attractor; below w σ'(x_0) = 1 (w < 4.25) there is no jump.
    def jump(weight: float) -> float:
        w = torch.tensor(weight, dtype=torch.float64)
        near = torch.tensor([wall_bias(weight) - 1e-3, wall_bias(weight) + 1e-3],
                            dtype=torch.float64)
        below, above = one_unit_rnn_loss(w, near)
        return (below - above).item()

    assert jump(6.0) > 5
    assert abs(jump(3.0)) < 0.1


def test_the_gradient_peaks_at_the_wall():
    slice_ = cliff_slice(weight=5.0, points=201)
    peak = slice_.biases[slice_.gradient_norm.argmax()]
    assert abs(peak - slice_.wall) < 1e-3
    assert slice_.gradient_norm.max() > 1e3 > 100 * slice_.gradient_norm.median()
    surface = cliff_surface(resolution=11)
    assert surface.loss.shape == (11, 11) and torch.isfinite(surface.loss).all()


def test_clipping_bounds_the_step_at_the_wall():
    step = step_at_the_wall(lr=0.3, clip_norm=1.0, clipped_steps=5)
    assert step.gradient_norm > 1e3
    assert step.unclipped_length == pytest.approx(0.3 * step.gradient_norm)
    moved = math.dist(step.unclipped_end, step.start)
    assert moved == pytest.approx(step.unclipped_length)
    assert step.loss_unclipped > 1e3 * step.loss_clipped
    lengths = [math.dist(a, b) for a, b in itertools.pairwise(step.clipped_path)]
    assert len(lengths) == 5 and max(lengths) <= 0.3 + 1e-12
    assert lengths[0] == pytest.approx(0.3)
    # The gradient is the true one (central differences).
    eps = 1e-7
    w, b = (torch.tensor(v, dtype=torch.float64) for v in step.start)
    numeric = (one_unit_rnn_loss(w, b + eps) - one_unit_rnn_loss(w, b - eps)) / (2 * eps)
    assert step.gradient[1] == pytest.approx(numeric.item(), rel=1e-3)


# --------------------------------------------------------------------------------------------
# Training runs, divergence and clipping


def test_train_adding_rnn_records_raw_gradients_and_spectral_radius():
    run = train_adding_rnn(lr=0.2, clip_norm=0.5, steps=12, seq_len=5, hidden_size=6,
                           track_spectral_radius_every=4, record_gradients_every=3,
                           device="cpu")
    assert len(run.history.loss) == 12 and not run.diverged
    assert run.gradient_steps == [0, 3, 6, 9]
    # The recorded gradients are the raw ones, before clipping: their norms are fit's.
    for step, gradient in zip(run.gradient_steps, run.gradients, strict=True):
        assert gradient.norm().item() == pytest.approx(run.history.grad_norm[step], rel=1e-5)
    assert max(run.history.grad_norm) > 0.5  # so clipping did act on some of them
    shares = run.gradient_shares(0)
    assert list(shares) == ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
                            "rnn.bias_hh_l0", "head.weight", "head.bias"]
    assert sum(share**2 for share in shares.values()) == pytest.approx(1.0)
    assert run.gradient_share(0, "head.") == pytest.approx(
        math.hypot(shares["head.weight"], shares["head.bias"]))
    assert run.spectral_radius_steps == [0, 4, 8, 12]
    assert run.spectral_radii[0] == pytest.approx(1.0)  # orthogonal, ρ = 1
    again = train_adding_rnn(lr=0.2, clip_norm=0.5, steps=12, seq_len=5, hidden_size=6,
                             device="cpu")
    assert again.history.loss == run.history.loss  # seeded: the same run


def test_clipping_sweep_diverges_without_clipping_and_not_with_it():
    sweep = run_clipping_sweep(steps=60, clip_values=(0.1,), decays=(0.0, 0.5), num_seeds=2,
                               track_every=20, device="cpu")
    divergence = sweep.divergence
    assert list(divergence) == ["no clipping", "clip by norm, c = 1", "clip by value, c = 0.1"]
    assert all(len(runs) == 2 for runs in divergence.values())
    assert [run.settings["seed"] for run in divergence["no clipping"]] == [0, 1]
    for run in divergence["no clipping"]:
        assert run.diverged and run.final_loss() == math.inf
    assert not any(run.diverged for run in divergence["clip by norm, c = 1"])
    assert not any(run.diverged for run in divergence["clip by value, c = 0.1"])
    # The first seed kept its raw gradients, up to the last finite step of the diverging run.
    first = divergence["clip by norm, c = 1"][0]
    assert len(first.gradients) == 60 and not divergence["clip by norm, c = 1"][1].gradients
    for step, gradient in zip(first.gradient_steps, first.gradients, strict=True):
        assert gradient.norm().item() == pytest.approx(first.history.grad_norm[step], rel=1e-4)
    assert 0 < len(divergence["no clipping"][0].gradients) < 60
    # Weight decay: θ ← θ(1 - lr λ) - lr g; with lr λ = 0.1, 60 steps shrink W_hh a lot (the
    # clipped gradient, at most 1 long, holds it at ‖θ‖ ≈ ‖g‖ / λ, not at 0). Without decay
    # ρ stays above 1.
    decayed, plain = sweep.weight_decay[0.5], sweep.weight_decay[0.0]
    for run in decayed:
        assert run.spectral_radius_steps == [0, 20, 40, 60]
        assert run.spectral_radii[0] == pytest.approx(1.2, rel=1e-5)
        assert run.spectral_radii[-1] < 0.4 and run.spectral_radii == sorted(run.spectral_radii,
                                                                              reverse=True)
    assert all(run.spectral_radii[-1] > 1.1 for run in plain)


def test_members_of_a_sweep_train_as_alone():
    """A member of a stacked sweep computes what train_adding_rnn's network computes alone (the
    from-scratch RNN under vmap against torch's fused one: the same function)."""
    members = [AddingMember("a", 0, lr=0.1, clip_norm=0.5), AddingMember("b", 1, lr=0.05)]
    runs = train_adding_members(members, seq_len=5, hidden_size=6, batch_size=4, steps=8,
                                device="cpu")
    for member, run in zip(members, runs, strict=True):
        alone = train_adding_rnn(lr=member.lr, clip_norm=member.clip_norm, seq_len=5,
                                 hidden_size=6, batch_size=4, steps=8, seed=member.seed,
                                 device="cpu")
        assert run.history.loss == pytest.approx(alone.history.loss, rel=1e-4)
    summary = seed_summary(group_by_label(runs), window=4)
    assert summary["a"].seeds == 1 and summary["a"].diverged == 0
    with pytest.raises(ValueError, match="at least one"):
        train_adding_members([])


def fake_run(gradients: list[list[float]]) -> TrainingRun:
    return TrainingRun(label="fake", settings={}, history=History(), baseline_loss=0.0,
                       gradient_steps=list(range(len(gradients))),
                       gradients=[torch.tensor(g) for g in gradients])


def test_clipping_directions_by_hand():
    directions = clipping_directions(fake_run([[3.0, 0.05], [0.02, -0.01], [4.0, -4.0]]),
                                     clip_norm=1.0, clip_values=(0.1,))
    assert directions.num_parameters == 2
    assert directions.cosine_norm == pytest.approx([1.0, 1.0, 1.0])
    assert directions.clipped_norm_norm == pytest.approx([1.0, math.hypot(0.02, 0.01), 1.0])
    # clamp([3, 0.05], -0.1, 0.1) = [0.1, 0.05]: turned by the clipping.
    expected = (3 * 0.1 + 0.05 * 0.05) / (math.hypot(3, 0.05) * math.hypot(0.1, 0.05))
    assert directions.cosine_value[0.1] == pytest.approx([expected, 1.0, 1.0])
    assert directions.clipped_norm_value[0.1][2] == pytest.approx(0.1 * math.sqrt(2))
    with pytest.raises(ValueError, match="recorded no gradients|no run recorded"):
        clipping_directions(fake_run([]))


# --------------------------------------------------------------------------------------------
# The remedies, at toy sizes


def test_normalization_comparison_runs_every_pair_and_seed():
    results = run_normalization_comparison(orders=("pixels", "permuted"), hidden_size=4, steps=3,
                                           batch_size=8, num_seeds=2, device="cpu")
    assert list(results) == [(o, n) for n in ("none", "layer", "batch")
                             for o in ("pixels", "permuted")]
    for runs in results.values():
        assert [run.seed for run in runs] == [0, 1]
        for run in runs:
            assert len(run.history.loss) == 3 and 0 <= run.test_accuracy <= 1


def test_digits_read_several_pixels_per_step():
    one, two = read_digits("permuted", 1), read_digits("permuted", 2)
    assert one.train_inputs.shape[1:] == (64, 1) and two.train_inputs.shape[1:] == (32, 2)
    torch.testing.assert_close(two.train_inputs.flatten(1), one.train_inputs.flatten(1))
    with pytest.raises(ValueError, match="pixels_per_step must divide 64"):
        read_digits("pixels", 3)
    with pytest.raises(ValueError, match="order"):
        read_digits("diagonal")


def test_population_statistics_are_those_of_the_whole_training_set():
    from rnncourse.models import normalized_lstm_model

    model = normalized_lstm_model("batch", input_size=2, hidden_size=3, output_size=2,
                                  max_steps=4, seed=0, device="cpu")
    inputs = torch.randn(50, 4, 2, generator=torch.Generator().manual_seed(0)) + 2.0
    set_population_statistics_(model, inputs)
    norm = model.rnn.cell.norm_ih
    projected = inputs[:, 0] @ model.rnn.cell.weight_ih.T  # W_ih x_1 for every example
    torch.testing.assert_close(norm.running_mean[0], projected.mean(0))
    torch.testing.assert_close(norm.running_var[0], projected.var(0))  # unbiased, as torch
    assert norm.momentum == 0.1  # restored
    plain = normalized_lstm_model("none", input_size=2, hidden_size=3, output_size=2, seed=0)
    set_population_statistics_(plain, inputs)  # nothing to do, no error


def test_initialization_comparison_measures_gradients_at_init():
    results = run_initialization_comparison(seq_len=12, hidden_size=8, steps=4, num_seeds=2,
                                            device="cpu")
    assert list(results) == ["tanh, default", "tanh, orthogonal", "IRNN (ReLU, identity)"]
    irnn, default = results["IRNN (ReLU, identity)"], results["tanh, default"]
    assert [result.seed for result in irnn] == [0, 1]
    assert irnn[0].initial_spectral_radius == pytest.approx(1.0)
    assert irnn[0].gradient_norms_at_init.shape == (12,)
    assert irnn[0].decay_per_step > default[0].decay_per_step  # identity keeps the gradient
    assert irnn[0].gradient_ratio > default[0].gradient_ratio
    assert len(irnn[1].run.history.loss) == 4 and irnn[1].run.settings["cell"] == "rnn_relu"


# --------------------------------------------------------------------------------------------
# Figures, tables and the widget


@pytest.fixture(scope="module")
def small_sweep():
    """A tiny sweep whose unclipped runs diverge (lr 1.0) within its 30 steps."""
    return run_clipping_sweep(steps=30, lr=1.0, clip_values=(1.0,), decays=(0.0, 0.1), seq_len=5,
                              hidden_size=4, num_seeds=2, track_every=10, device="cpu")


def assert_labelled(figure: plt.Figure) -> None:
    for axis in figure.axes:
        if axis.get_label() == "<colorbar>":
            continue
        assert axis.get_xlabel() or axis.get_ylabel(), "an axis without a label"
    plt.close(figure)


def test_figures_and_tables(small_sweep):
    runs = small_sweep.divergence
    step = step_at_the_wall(clipped_steps=3)
    assert_labelled(plots.plot_cliff(cliff_surface(resolution=21), cliff_slice(points=51), step))
    assert_labelled(plots.plot_divergence(runs))
    table = plots.divergence_table(runs)
    assert "| no clipping | 2 of 2, at step" in table and "±" in table
    anatomy = plots.explosion_anatomy_table(runs["no clipping"][0], steps=3)
    assert anatomy.count("\n") == 4 and "share in W_hh" in anatomy
    first_seed = [group[0] for group in runs.values()]
    assert_labelled(plots.plot_clipping_directions(clipping_directions(first_seed)))
    normalization = run_normalization_comparison(orders=("pixels",), hidden_size=4, steps=2,
                                                 batch_size=8, num_seeds=2, device="cpu")
    assert_labelled(remedy_figures.plot_normalization(normalization))
    assert "LN-LSTM" in remedy_figures.normalization_table(normalization)
    assert_labelled(remedy_figures.plot_weight_decay(small_sweep.weight_decay))
    assert "| 0.1 |" in remedy_figures.weight_decay_table(small_sweep.weight_decay)
    init = run_initialization_comparison(seq_len=6, hidden_size=4, steps=3, num_seeds=2,
                                         device="cpu")
    assert_labelled(remedy_figures.plot_initialization(init))
    assert "IRNN" in remedy_figures.initialization_table(init)
    assert_labelled(plots.plot_training_run(runs["no clipping"][0]))


def test_widget_has_both_controls_and_draws():
    widget = clipping_explorer(lr=0.05, clip_norm="none", steps=5)
    descriptions = {child.description for child in widget.children[:-1]}
    assert descriptions == {"learning rate", "clip at ‖g‖ ="}
    figure = draw_training_run(lr=0.05, clip_norm="none", steps=5, device="cpu")
    assert_labelled(figure)


def test_widget_starts_from_a_run_trained_with_its_settings(small_sweep):
    run = train_adding_rnn(lr=0.2, clip_norm=1.0, steps=4, device="cpu")
    clipping_explorer(lr=0.2, clip_norm=1.0, steps=4, first_run=run)
    with pytest.raises(ValueError, match="other settings"):
        clipping_explorer(lr=0.1, clip_norm=1.0, steps=4, first_run=run)
    plt.close("all")


def test_cooijmans_numbers_are_the_published_ones():
    from rnncourse.chapters.ch02_exploding_gradients.remedies import COOIJMANS_TABLE_1

    assert COOIJMANS_TABLE_1 == {"pixels": {"none": 98.9, "batch": 99.0},
                                 "permuted": {"none": 90.2, "batch": 95.4}}
