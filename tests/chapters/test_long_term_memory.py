"""Chapter 1's experiments (gradient decay, adding problem, copy capacity), figures and widget.

Tiny sizes: seconds in all, except one test marked slow that checks the page's own setting.
"""

from __future__ import annotations

import math

import matplotlib
import matplotlib.figure
import pytest
import torch

from rnncourse.chapters.ch01_long_term_memory.gradient_decay import (
    CHAPTER_SETTINGS,
    DERIVATIVE_BOUNDS,
    GradientDecayResult,
    RecurrentInit,
    fit_resolved_decay_rate,
    measure_gradient_decay,
    run_gradient_decay,
)
from rnncourse.chapters.ch01_long_term_memory.memory_tasks import (
    run_adding_problem,
    run_copy_capacity,
)
from rnncourse.chapters.ch01_long_term_memory.settings import SETTINGS
from rnncourse.chapters.ch01_long_term_memory.task_runs import TrainingSettings, train_on_task
from rnncourse.data.synthetic import AddingTask, CopyTask, adding_baseline_mse

matplotlib.use("Agg")
SMALL = {"seq_len": 40, "hidden_size": 64, "batch_size": 4}
SEEDS = 3
TINY = TrainingSettings(hidden_size=8, steps=5, batch_size=4, test_size=16)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def small_result() -> GradientDecayResult:
    return run_gradient_decay(**SMALL, num_seeds=SEEDS, seed=0, device="cpu")


def test_one_curve_per_setting_and_seed_starting_at_one(small_result: GradientDecayResult) -> None:
    assert small_result.seeds == (0, 1, 2) and len(small_result.curves_by_seed) == SEEDS
    for curves in small_result.curves_by_seed:
        assert [curve.init for curve in curves] == list(CHAPTER_SETTINGS)
        for curve in curves:
            assert curve.relative_norms.shape == (SMALL["seq_len"],)
            assert curve.lags.tolist() == list(range(SMALL["seq_len"]))
            assert curve.relative_norms[0].item() == pytest.approx(1.0)
            assert curve.gamma == 1.0  # tanh
    assert small_result.curves is small_result.curves_by_seed[0]


def test_seeds_are_the_single_runs_and_summaries_their_statistics(
    small_result: GradientDecayResult,
) -> None:
    init = CHAPTER_SETTINGS[2]
    second = measure_gradient_decay(init, **SMALL, seed=1, device="cpu")
    assert second.measured_rate == small_result.curves_by_seed[1][2].measured_rate
    summary = small_result.summary(init.label)
    rates = torch.tensor(summary.rates, dtype=torch.float64)
    assert len(summary.rates) == SEEDS and len(set(summary.rates)) == SEEDS, "seeds must differ"
    assert summary.mean == pytest.approx(rates.mean().item(), rel=1e-12)
    assert summary.std == pytest.approx(rates.std().item(), rel=1e-9)  # n - 1, as torch
    assert summary.seeds_under_bound == SEEDS
    assert [s.label for s in small_result.summaries()] == [i.label for i in CHAPTER_SETTINGS]
    with pytest.raises(KeyError, match="no initialisation"):
        small_result.summary("ρ = 7")
    with pytest.raises(ValueError, match="num_seeds"):
        run_gradient_decay(**SMALL, num_seeds=0, device="cpu")


def test_weights_have_the_asked_spectral_radius(small_result: GradientDecayResult) -> None:
    for curve in small_result.curves:
        expected = curve.init.spectral_radius or 1.0  # orthogonal and identity: |λ| = 1
        assert curve.spectral_radius == pytest.approx(expected, abs=1e-5)
        # σ_max ≥ ρ always; for a random (non-normal) matrix it is well above it.
        assert curve.largest_singular_value >= curve.spectral_radius - 1e-6
    orthogonal = next(c for c in small_result.curves if c.init.scheme == "orthogonal")
    assert orthogonal.largest_singular_value == pytest.approx(1.0, abs=1e-5)


def test_every_gradient_lies_under_the_pascanu_bound(small_result: GradientDecayResult) -> None:
    for curve in (curve for curves in small_result.curves_by_seed for curve in curves):
        lags = curve.lags.double()
        bound = curve.bound_rate**lags  # (γ σ_max)^k
        assert (curve.relative_norms <= bound * (1 + 1e-4) + 1e-30).all(), curve.label
        assert curve.measured_rate <= curve.bound_rate, curve.label


def test_rates_grow_with_the_spectral_radius(small_result: GradientDecayResult) -> None:
    rates = {s.label: s.mean for s in small_result.summaries()}
    assert rates["ρ = 0.5"] < rates["ρ = 0.9"] < rates["ρ = 1.0"] < rates["ρ = 1.5"]
    assert rates["ρ = 0.5"] < 0.7, "ρ = 0.5 must vanish fast"
    assert rates["ρ = 1.5"] > 1.0, "a tanh RNN at ρ = 1.5 should, on average, explode going back"


def test_table_reports_rates_beside_the_bound(small_result: GradientDecayResult) -> None:
    from rnncourse.chapters.ch01_long_term_memory.figures import gradient_decay_table

    lines = gradient_decay_table(small_result).splitlines()
    assert len(lines) == 2 + len(CHAPTER_SETTINGS)  # header, rule, one row per setting
    assert "measured rate (mean ± sd, 3 seeds)" in lines[0] and "bound γ·σ_max" in lines[0]
    for line, summary in zip(lines[2:], small_result.summaries(), strict=True):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[0] == summary.label
        assert cells[3] == f"{summary.bound_mean:.3f}"
        assert cells[4] == f"**{summary.mean:.3f}** ± {summary.std:.3f}"
        assert cells[5] == "3 of 3"


def test_measurement_is_reproducible() -> None:
    init = RecurrentInit("ρ = 0.9", "default", 0.9)
    first = measure_gradient_decay(init, **SMALL, seed=3, device="cpu")
    again = measure_gradient_decay(init, **SMALL, seed=3, device="cpu")
    other = measure_gradient_decay(init, **SMALL, seed=4, device="cpu")
    assert torch.equal(first.relative_norms, again.relative_norms)
    assert not torch.equal(first.relative_norms, other.relative_norms)


def test_relu_identity_keeps_the_gradient_alive() -> None:
    """The IRNN: relu with W_hh = I passes the gradient back undiminished on active units."""
    curve = measure_gradient_decay(RecurrentInit("identity", "identity"), **SMALL,
                                   nonlinearity="relu", seed=0, device="cpu")
    assert curve.gamma == DERIVATIVE_BOUNDS["relu"] == 1.0
    assert curve.measured_rate == pytest.approx(1.0, abs=0.05)


def test_fit_rate_recovers_a_geometric_decay_and_stops_at_lost_values() -> None:
    norms = 0.8 ** torch.arange(30, dtype=torch.float64)
    rate, used = fit_resolved_decay_rate(norms)
    assert rate == pytest.approx(0.8, rel=1e-9) and used == 30
    lost = norms.clone()
    lost[10:] = 0.0  # underflowed in float32
    rate, used = fit_resolved_decay_rate(lost)
    assert rate == pytest.approx(0.8, rel=1e-9) and used == 10
    exploded = 2.0 ** torch.arange(5, dtype=torch.float64)
    exploded[3:] = math.inf
    assert fit_resolved_decay_rate(exploded) == (pytest.approx(2.0), 3)


def test_bad_arguments_are_named() -> None:
    init = CHAPTER_SETTINGS[0]
    with pytest.raises(ValueError, match="nonlinearity"):
        measure_gradient_decay(init, **SMALL, nonlinearity="sigmoid", device="cpu")
    with pytest.raises(ValueError, match="seq_len"):
        measure_gradient_decay(init, seq_len=1, device="cpu")
    with pytest.raises(TypeError, match="hidden_size"):
        measure_gradient_decay(init, hidden_size=8.0, device="cpu")
    with pytest.raises(TypeError, match="RecurrentInit"):
        measure_gradient_decay(("ρ", "default", 0.5), device="cpu")
    with pytest.raises(ValueError, match="spectral_radius"):
        measure_gradient_decay(RecurrentInit("bad", "default", -1.0), **SMALL, device="cpu")
    with pytest.raises(ValueError, match="inits"):
        run_gradient_decay([], device="cpu")


@pytest.mark.gpu
def test_runs_on_cuda() -> None:
    curve = measure_gradient_decay(CHAPTER_SETTINGS[1], **SMALL, seed=0, device="cuda")
    on_cpu = measure_gradient_decay(CHAPTER_SETTINGS[1], **SMALL, seed=0, device="cpu")
    assert curve.measured_rate == pytest.approx(on_cpu.measured_rate, rel=1e-3)


# ----------------------------------------------------------------------------------------------
# Figures and widget


def _labelled(axis) -> bool:
    return bool(axis.get_xlabel()) and bool(axis.get_ylabel())


def test_gradient_figure_has_a_log_axis_and_every_curve(small_result) -> None:
    from rnncourse.chapters.ch01_long_term_memory.figures import plot_gradient_decay

    figure = plot_gradient_decay(small_result)
    curves_axis, rates_axis = figure.axes[:2]
    assert curves_axis.get_yscale() == "log"
    assert _labelled(curves_axis) and rates_axis.get_ylabel()
    assert len(curves_axis.get_lines()) == SEEDS * len(small_result.curves)  # a line per seed
    labels = [text.get_text() for text in curves_axis.get_legend().get_texts()]
    assert labels == [curve.label for curve in small_result.curves]
    circles, triangles = rates_axis.collections[1::2], rates_axis.collections[::2]
    assert all(len(points.get_offsets()) == SEEDS for points in circles + triangles)


def test_moving_average() -> None:
    from rnncourse.chapters.plotting import moving_average

    smoothed = moving_average([1.0, 3.0, 5.0, 7.0], window=2)
    assert smoothed.tolist() == [1.0, 2.0, 4.0, 6.0]
    assert moving_average([2.0, 4.0, 9.0], window=10).tolist() == [2.0, 3.0, 5.0]
    assert moving_average([], window=3).numel() == 0
    with pytest.raises(ValueError, match="window"):
        moving_average([1.0], window=0)


def test_markdown_table() -> None:
    from rnncourse.chapters.plotting import markdown_table

    table = markdown_table(["T", "model"], [["50", "LSTM"], ["100", "tanh RNN"]])
    assert table.splitlines() == [
        "| T | model |", "|---|---|", "| 50 | LSTM |", "| 100 | tanh RNN |"]
    assert markdown_table(["a"], []) == "| a |\n|---|"


def test_widget_draws_its_first_state_and_redraws() -> None:
    from rnncourse.chapters.ch01_long_term_memory.widgets import (
        draw_gradient_decay,
        gradient_decay_explorer,
    )

    figure = draw_gradient_decay(0.5, "tanh", 30, hidden_size=8, device="cpu")
    axis = figure.axes[0]
    assert axis.get_yscale() == "log" and _labelled(axis)
    assert "ρ = 0.50" in axis.get_title()
    with pytest.raises(ValueError, match="matrix"):
        draw_gradient_decay(matrix="diagonal")

    explorer = gradient_decay_explorer(spectral_radius=0.9, seq_len=30)
    controls = {child.description: child for child in explorer.children[:-1]}
    assert set(controls) == {"ρ(W_hh)", "φ", "length T", "W_hh"}
    assert controls["ρ(W_hh)"].value == 0.9
    first = explorer.result
    assert isinstance(first, matplotlib.figure.Figure), (
        "the first state must draw a figure (what the static site shows)")
    assert "tanh RNN" in first.axes[0].get_title() and "ρ = 0.90" in first.axes[0].get_title()
    controls["φ"].value = "relu"  # a change reruns the drawing
    assert explorer.result is not first
    assert "relu RNN" in explorer.result.axes[0].get_title()


# ----------------------------------------------------------------------------------------------
# Adding problem and copy capacity


def test_lstm_beats_the_adding_baseline_and_the_tanh_rnn_at_a_small_setting() -> None:
    settings = TrainingSettings(hidden_size=16, steps=300, batch_size=32, lr=1e-2, test_size=500)
    lstm = train_on_task(AddingTask(20), "lstm", settings, seed=0, device="cpu")
    rnn = train_on_task(AddingTask(20), "rnn_tanh", settings, seed=0, device="cpu")
    assert lstm.baseline_loss == pytest.approx(1 / 6)
    assert lstm.test_loss < 0.5 * lstm.baseline_loss, "the LSTM should halve the 1/6 baseline"
    assert rnn.loss_over_baseline > 0.8, "the tanh RNN should stay near the baseline"
    assert len(lstm.train_loss) == settings.steps and not lstm.diverged
    assert lstm.accuracy is None and lstm.position_accuracy is None


def test_lstm_beats_the_memoryless_copy_baseline_at_a_short_delay() -> None:
    settings = TrainingSettings(hidden_size=32, steps=400, batch_size=32, lr=1e-2, test_size=500)
    task = CopyTask(5, copy_length=2)
    run = train_on_task(task, "lstm", settings, seed=0, device="cpu")
    assert run.baseline_loss == pytest.approx(task.baseline_loss())
    assert run.loss_over_baseline < 0.8
    assert run.accuracy > 2 / task.num_symbols, "recall should be well above chance 1/K"
    assert len(run.position_accuracy) == 2
    assert run.accuracy == pytest.approx(sum(run.position_accuracy) / 2, abs=1e-6)


def test_training_is_reproducible_under_a_seed() -> None:
    first = train_on_task(AddingTask(6), "lstm", TINY, seed=1, device="cpu")
    again = train_on_task(AddingTask(6), "lstm", TINY, seed=1, device="cpu")
    other = train_on_task(AddingTask(6), "lstm", TINY, seed=2, device="cpu")
    assert first.train_loss == again.train_loss and first.test_loss == again.test_loss
    assert first.train_loss != other.train_loss


def test_adding_problem_trains_every_cell_at_every_length() -> None:
    result = run_adding_problem((4, 6), ("rnn_tanh", "lstm"), TINY, seed=0, device="cpu")
    assert [(run.length, run.cell) for run in result.runs] == [
        (4, "rnn_tanh"), (4, "lstm"), (6, "rnn_tanh"), (6, "lstm")]
    assert result.baseline == adding_baseline_mse()
    assert result.mse("lstm", 6) == result.runs[3].test_loss
    with pytest.raises(KeyError):
        result.mse("gru", 6)
    assert result.runs[0].loss_over_baseline == pytest.approx(result.runs[0].test_loss * 6)


def test_copy_capacity_shares_the_run_at_the_main_size() -> None:
    settings = TrainingSettings(hidden_size=8, steps=5, batch_size=4, test_size=16)
    result = run_copy_capacity((3, 6), (4, 8), settings, copy_length=2, seed=0, device="cpu")
    assert [run.length for run in result.by_delay] == [3, 6]
    assert [run.hidden_size for run in result.by_hidden_size] == [4, 8]
    assert all(run.length == 3 for run in result.by_hidden_size)  # the shortest delay
    assert result.by_hidden_size[1] is result.by_delay[0], "the (T=3, H=8) run is shared"
    assert result.chance_accuracy == 1 / 8
    assert result.paper_baselines[100] == pytest.approx(10 * torch.log(torch.tensor(8.0)) / 120)
    assert result.by_delay[1].baseline_loss == pytest.approx(
        2 * torch.log(torch.tensor(8.0)).item() / 10)  # L ln K / (T + 2L) at T = 6, L = 2


def test_settings_and_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="hidden_size"):
        TrainingSettings(hidden_size=0)
    with pytest.raises(ValueError, match="optimizer"):
        TrainingSettings(optimizer="lbfgs")
    with pytest.raises(ValueError, match="lr"):
        TrainingSettings(lr=0.0)
    with pytest.raises(ValueError, match="not both"):
        TrainingSettings(clip_norm=1.0, clip_value=1.0)
    with pytest.raises(ValueError, match="clip_value"):
        TrainingSettings(clip_norm=None, clip_value=-1.0)
    with pytest.raises(ValueError, match="rmsprop_decay"):
        TrainingSettings(rmsprop_decay=1.0)
    with pytest.raises(ValueError, match="cell"):
        train_on_task(AddingTask(5), "transformer", TINY, device="cpu")
    with pytest.raises(TypeError, match="task"):
        train_on_task("adding", "lstm", TINY, device="cpu")
    with pytest.raises(TypeError, match="settings"):
        train_on_task(AddingTask(5), "lstm", {"steps": 5}, device="cpu")
    with pytest.raises(ValueError, match="seq_lens"):
        run_adding_problem((), settings=TINY, device="cpu")
    with pytest.raises(ValueError, match="delays"):
        run_copy_capacity((0,), settings=TINY, device="cpu")


def test_paper_settings_are_the_published_ones() -> None:
    """Arjovsky et al. (2016), sec. 5: RMSProp at 1e-3 with decay 0.9, gradients clipped at 1
    (element-wise in their code); 128 units on the adding problem, an LSTM of 40 on copy."""
    adding = SETTINGS.paper.adding["settings"]
    assert (adding.hidden_size, adding.optimizer, adding.lr, adding.rmsprop_decay) == (
        128, "rmsprop", 1e-3, 0.9)
    assert (adding.clip_norm, adding.clip_value, adding.batch_size) == (None, 1.0, 20)
    assert adding.forget_gate_bias == 1.0
    assert SETTINGS.paper.adding["seq_lens"] == (100, 200, 400, 750)
    copy = SETTINGS.paper.copy
    assert copy["settings"].hidden_size == 40 and copy["settings"].clip_value == 1.0
    assert copy["delays"] == (100, 200, 300, 500) and copy["copy_length"] == 10
    assert 40 in copy["hidden_sizes"] and copy["sizes_delay"] == 100
    assert adding.describe() == ("hidden 128, 20000 steps of rmsprop (decay 0.9) (lr 0.001) on "
                                 "batches of 20, clipping element-wise at ±1")
    assert "hidden 32" in SETTINGS.cpu.adding["settings"].describe()
    assert "clipping by norm at 1" in SETTINGS.cpu.copy["settings"].describe()


def test_rmsprop_and_element_wise_clipping_reach_the_training_loop(monkeypatch) -> None:
    from rnncourse.chapters.ch01_long_term_memory import task_runs

    settings = TrainingSettings(hidden_size=8, steps=3, batch_size=4, test_size=8,
                                optimizer="rmsprop", lr=1e-3, rmsprop_decay=0.9,
                                clip_norm=None, clip_value=0.5)
    model = torch.nn.Linear(2, 1)
    optimizer = settings.make_optimizer(model.parameters())
    assert isinstance(optimizer, torch.optim.RMSprop)
    assert optimizer.defaults["alpha"] == 0.9 and optimizer.defaults["lr"] == 1e-3
    adam = TrainingSettings().make_optimizer(model.parameters())
    assert isinstance(adam, torch.optim.Adam) and adam.defaults["fused"]

    calls, fit = [], task_runs.fit

    def recording_fit(*args, **kwargs):
        calls.append(kwargs)
        return fit(*args, **kwargs)

    monkeypatch.setattr(task_runs, "fit", recording_fit)
    run = train_on_task(AddingTask(5), "lstm", settings, seed=0, device="cpu")
    assert len(run.train_loss) == 3 and not run.diverged
    (kwargs,) = calls
    assert kwargs["clip_value"] == 0.5 and kwargs["clip_norm"] is None
    assert isinstance(kwargs["optimizer"], torch.optim.RMSprop)
    assert kwargs["optimizer"].defaults["alpha"] == 0.9


def test_figures_label_their_axes_and_tables_have_a_row_per_run() -> None:
    from rnncourse.chapters.ch01_long_term_memory.figures import (
        adding_table,
        copy_delay_table,
        copy_size_table,
        plot_adding_problem,
        plot_copy_capacity,
    )

    adding = run_adding_problem((4, 6), ("rnn_tanh", "lstm"), TINY, seed=0, device="cpu")
    figure = plot_adding_problem(adding, window=2)
    assert len(figure.axes) == 2
    assert all(axis.get_xlabel() for axis in figure.axes) and figure.axes[0].get_ylabel()
    table = adding_table(adding).splitlines()
    assert len(table) == 2 + 4 and "Arjovsky et al. 2016, sec. 5.2 and Fig. 2" in table[0]
    assert f"{adding.runs[0].test_loss:.4f}" in table[2]
    assert "does not beat the baseline at any of T = 100, 200, 400, 750" in table[2]
    assert "convincingly below the baseline up to T = 400; does well at T = 750" in table[3]

    copy = run_copy_capacity((3, 5), (4, 8), TINY, copy_length=2, seed=0, device="cpu")
    figure = plot_copy_capacity(copy)
    for axis in figure.axes:
        assert axis.get_xlabel() and axis.get_ylabel()
    assert len(copy_delay_table(copy).splitlines()) == 2 + 2
    sizes = copy_size_table(copy).splitlines()
    assert "symbol 2" in sizes[0] and len(sizes) == 2 + 2


@pytest.mark.slow
def test_chapter_setting_separates_lstm_from_tanh_rnn() -> None:
    """The page's adding-problem lesson at its longest length, T = 50 (about 10 s)."""
    longest = max(SETTINGS.cpu.adding["seq_lens"])
    result = run_adding_problem((longest,), ("rnn_tanh", "lstm"),
                                SETTINGS.cpu.adding["settings"], seed=0, device="cpu")
    assert result.mse("lstm", longest) < 0.1 * result.baseline
    assert result.mse("rnn_tanh", longest) > 0.8 * result.baseline


@pytest.mark.gpu
def test_trains_on_cuda() -> None:
    run = train_on_task(AddingTask(6), "lstm", TINY, seed=0, device="cuda")
    assert run.test_loss == run.test_loss  # finite, not nan


def test_quotation_spans_pair_marks_within_paragraphs() -> None:
    from rnncourse.chapters.ch01_long_term_memory.text_dependencies import quotation_spans

    text = 'He said "yes" and "no".\n\n"A speech that goes on\n\n"Ends here," he said.'
    # "yes" spans 4 characters, "no" 3; the paragraph with one mark is skipped.
    assert quotation_spans(text) == [4, 3, len('"Ends here,')]
    assert quotation_spans("no quotes at all") == []
    with pytest.raises(ValueError, match="mark"):
        quotation_spans(text, mark="''")
    with pytest.raises(TypeError, match="text"):
        quotation_spans(b"bytes")
