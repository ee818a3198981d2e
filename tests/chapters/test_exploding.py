"""Chapter 2's experiments, figures and widget, at toy sizes."""

from __future__ import annotations

import itertools
import math

import matplotlib.pyplot as plt
import pytest
import torch

from rnncourse.chapters.ch02_exploding_gradients import figures as plots
from rnncourse.chapters.ch02_exploding_gradients import remedy_figures
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
    run_divergence,
    train_adding_rnn,
)
from rnncourse.chapters.ch02_exploding_gradients.remedies import (
    run_initialization_comparison,
    run_normalization_comparison,
    run_weight_decay,
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


def test_divergence_without_clipping_and_not_with_it():
    runs = run_divergence(steps=60, clip_values=(0.1,), device="cpu")
    assert list(runs) == ["no clipping", "clip by norm, c = 1", "clip by value, c = 0.1"]
    assert runs["no clipping"].diverged and runs["no clipping"].final_loss() == math.inf
    assert not runs["clip by norm, c = 1"].diverged
    assert not runs["clip by value, c = 0.1"].diverged
    # Every run kept its raw gradients, up to the last finite step of the diverging one.
    assert len(runs["clip by norm, c = 1"].gradients) == 60
    assert 0 < len(runs["no clipping"].gradients) < 60


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


def test_normalization_comparison_runs_every_pair():
    results = run_normalization_comparison(orders=("rows",), hidden_size=4, steps=3,
                                           batch_size=8, device="cpu")
    assert list(results) == [("rows", "none"), ("rows", "layer"), ("rows", "batch")]
    for run in results.values():
        assert len(run.history.loss) == 3 and 0 <= run.test_accuracy <= 1


def test_weight_decay_shrinks_the_spectral_radius():
    runs = run_weight_decay(decays=(0.0, 0.5), steps=20, seq_len=5, track_every=10,
                            device="cpu")
    assert runs[0.5].spectral_radii[0] == pytest.approx(1.2)
    # θ ← θ(1 - lr λ) - lr g: with lr λ = 0.05 per step, 20 steps shrink W_hh by about 0.36.
    assert runs[0.5].spectral_radii[-1] < 0.6 < runs[0.0].spectral_radii[-1]


def test_initialization_comparison_measures_gradients_at_init():
    results = run_initialization_comparison(seq_len=12, hidden_size=8, steps=4, device="cpu")
    assert list(results) == ["tanh, default", "tanh, orthogonal", "IRNN (ReLU, identity)"]
    irnn, default = results["IRNN (ReLU, identity)"], results["tanh, default"]
    assert irnn.initial_spectral_radius == pytest.approx(1.0)
    assert irnn.gradient_norms_at_init.shape == (12,)
    assert irnn.decay_per_step > default.decay_per_step  # identity keeps the gradient longer
    assert len(irnn.run.history.loss) == 4


# --------------------------------------------------------------------------------------------
# Figures, tables and the widget


@pytest.fixture(scope="module")
def small_runs():
    return run_divergence(steps=30, clip_values=(1.0,), seq_len=5, hidden_size=4, device="cpu")


def assert_labelled(figure: plt.Figure) -> None:
    for axis in figure.axes:
        if axis.get_label() == "<colorbar>":
            continue
        assert axis.get_xlabel() or axis.get_ylabel(), "an axis without a label"
    plt.close(figure)


def test_figures_and_tables(small_runs):
    step = step_at_the_wall(clipped_steps=3)
    assert_labelled(plots.plot_cliff(cliff_surface(resolution=21), cliff_slice(points=51), step))
    assert_labelled(plots.plot_divergence(small_runs))
    assert "| no clipping |" in plots.divergence_table(small_runs)
    anatomy = plots.explosion_anatomy_table(small_runs["no clipping"], steps=3)
    assert anatomy.count("\n") == 4 and "share in W_hh" in anatomy
    assert_labelled(plots.plot_clipping_directions(clipping_directions(list(small_runs.values()))))
    normalization = run_normalization_comparison(orders=("rows",), hidden_size=4, steps=2,
                                                 batch_size=8, device="cpu")
    assert_labelled(remedy_figures.plot_normalization(normalization))
    assert "LN-LSTM" in remedy_figures.normalization_table(normalization)
    decay = run_weight_decay(decays=(0.0, 0.1), steps=4, seq_len=5, track_every=2, device="cpu")
    assert_labelled(remedy_figures.plot_weight_decay(decay))
    assert "| 0.1 |" in remedy_figures.weight_decay_table(decay)
    init = run_initialization_comparison(seq_len=6, hidden_size=4, steps=3, device="cpu")
    assert_labelled(remedy_figures.plot_initialization(init))
    assert "IRNN" in remedy_figures.initialization_table(init)
    assert_labelled(plots.plot_training_run(small_runs["no clipping"]))


def test_widget_has_both_controls_and_draws():
    widget = clipping_explorer(lr=0.05, clip_norm="none", steps=5)
    descriptions = {child.description for child in widget.children[:-1]}
    assert descriptions == {"learning rate", "clip at ‖g‖ ="}
    figure = draw_training_run(lr=0.05, clip_norm="none", steps=5, device="cpu")
    assert_labelled(figure)


def test_cooijmans_numbers_are_the_published_ones():
    from rnncourse.chapters.ch02_exploding_gradients.remedies import COOIJMANS_TABLE_1

    assert COOIJMANS_TABLE_1 == {"pixels": {"none": 98.9, "batch": 99.0},
                                 "permuted": {"none": 90.2, "batch": 95.4}}
