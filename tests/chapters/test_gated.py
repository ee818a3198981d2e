"""Chapter 3 experiments, figures, tables and the LSTM stepper, at toy sizes."""

from __future__ import annotations

import math
from dataclasses import replace

import ipywidgets
import matplotlib.pyplot as plt
import pytest
import torch

from rnncourse.chapters.ch03_lstm_gru.figures import (
    forget_bias_table,
    long_range_table,
    parameter_count_table,
    plot_gate_inspection,
    plot_gradient_flow,
    plot_lstm_step,
    published_table,
)
from rnncourse.chapters.ch03_lstm_gru.gradient_flow import (
    decay_over_lags,
    inspect_adding_lstm,
    parameter_counts,
    run_forget_bias_decay,
    run_gradient_flow,
)
from rnncourse.chapters.ch03_lstm_gru.long_range import (
    LongRangeSettings,
    make_task,
    run_long_range_tasks,
    train_until_solved,
)
from rnncourse.chapters.ch03_lstm_gru.settings import SETTINGS
from rnncourse.chapters.ch03_lstm_gru.widgets import lstm_stepper, pick_units
from rnncourse.data.synthetic import AddingTask, CopyTask
from rnncourse.models.gate_trace import record_gates
from rnncourse.training.task_training import build_task_model, score_held_out, training_batches

TINY = LongRangeSettings(
    adding_lengths=(6,), copy_delays=(3,), lstm_hidden_size=4, adding_max_steps=20,
    copy_max_steps=10, batch_size=8, eval_every=10, eval_batch_size=16,
)  # fmt: skip


@pytest.fixture(scope="module")
def tiny_result():
    return run_long_range_tasks(TINY, device="cpu", seed=0)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------------------------
# Experiments


def test_parameter_counts_agree_with_torch() -> None:
    counts = parameter_counts(input_size=2, hidden_size=32)
    assert counts["lstm"] == {"formula": 4608, "torch.nn": 4608}
    assert all(count["formula"] == count["torch.nn"] for count in counts.values())
    assert counts["gru"]["formula"] * 4 == counts["lstm"]["formula"] * 3


def test_decay_over_lags_recovers_a_geometric_rate() -> None:
    norms = 0.8 ** torch.arange(30, dtype=torch.float64).flip(0)  # in time order: grows to 1
    assert decay_over_lags(norms) == pytest.approx(0.8)
    assert decay_over_lags(norms, max_lag=10) == pytest.approx(0.8)
    underflowed = norms.clone()
    underflowed[:20] = 0.0  # the earliest steps lost to underflow: fit what is left
    assert decay_over_lags(underflowed) == pytest.approx(0.8)
    assert decay_over_lags(torch.tensor([0.0, 0.0, 1.0])) == 0.0


def test_forget_bias_sets_the_cell_gradient_decay() -> None:
    result = run_forget_bias_decay((0.0, 2.0), seq_len=30, fit_lags=10, hidden_size=8,
                                   batch_size=16, device="cpu", seed=0)  # fmt: skip
    for sigmoid, mean_f in zip(result.sigmoid_of_bias, result.mean_forget_gate, strict=True):
        assert abs(mean_f - sigmoid) < 0.05, "at initialisation f_t ≈ σ(b)"
    assert result.sigmoid_of_bias[0] == pytest.approx(0.5)
    assert result.decay_per_step[0] < result.decay_per_step[1]
    assert result.share_left[0] < result.share_left[1] <= 1.5
    assert all(gradients.shape == (30,) for gradients in result.cell_gradients)
    with pytest.raises(ValueError, match="fit_lags"):
        run_forget_bias_decay((1.0,), seq_len=10, fit_lags=10, device="cpu")


def test_long_range_runs_cover_every_cell_task_and_length(tiny_result) -> None:
    runs = tiny_result.runs
    assert [(run.task, run.length) for run in runs][::3] == [("adding", 6), ("copy", 3)]
    assert {run.cell for run in runs} == set(TINY.cells)
    for run in runs:
        assert math.isfinite(run.final_loss) and run.final_loss > 0
        assert run.steps <= (TINY.adding_max_steps if run.task == "adding" else TINY.copy_max_steps)
        assert run.eval_step[-1] == run.steps and run.eval_loss[-1] == run.final_loss
        assert (run.accuracy is None) == (run.task == "adding")
    for task, length in (("adding", 6), ("copy", 3)):
        sizes = [tiny_result.get(task, length, cell).parameters for cell in TINY.cells]
        assert max(sizes) / min(sizes) < 1.3, f"about equal parameter counts, got {sizes}"
    with pytest.raises(KeyError):
        tiny_result.get("adding", 7, "lstm")
    assert tiny_result.lengths("copy") == [3]


def test_a_run_reloads_its_initial_and_trained_weights(tiny_result) -> None:
    run = tiny_result.get("adding", 6, "lstm")
    trained, initial = run.model(), run.model(trained=False)
    assert trained.backend == "rnncourse"
    hidden = run.hidden_size
    forget = slice(hidden, 2 * hidden)
    forget_bias = initial.rnn.bias_ih_l0[forget] + initial.rnn.bias_hh_l0[forget]
    torch.testing.assert_close(forget_bias, torch.ones(hidden))  # LSTMs start with bias 1
    inputs, _ = make_task("adding", 6).sample(64, seed=1)
    with torch.no_grad():
        assert not torch.equal(trained(inputs), initial(inputs))
    fresh = build_task_model("lstm", make_task("adding", 6), hidden, device="cpu", seed=0)
    torch.testing.assert_close(fresh.state_dict(), run.initial_state)


def test_training_stops_once_solved() -> None:
    task = AddingTask(4)
    model = build_task_model("gru", task, 8, device="cpu", seed=0)
    generous = replace(TINY, solved_fraction=0.99, eval_every=5)
    steps, losses, solved, diverged = train_until_solved(model, task, generous, 200, seed=0)
    assert solved and not diverged
    assert steps[-1] < 200 and losses[-1] < 0.99 * task.baseline_loss()
    assert all(losses[i] >= 0.99 * task.baseline_loss() for i in range(len(losses) - 1))


def test_training_batches_are_one_seeded_stream() -> None:
    task = CopyTask(3, num_symbols=4, copy_length=2)
    first, again = training_batches(task, 5, seed=7), training_batches(task, 5, seed=7)
    batches = [first(step) for step in range(3)]
    for inputs, targets in batches:
        assert inputs.shape == (5, task.seq_len, task.input_size) and inputs.device.type == "cpu"
        assert targets.shape == (5, task.seq_len)
    assert not torch.equal(batches[0][0], batches[1][0]), "a fresh batch at every step"
    for (inputs, targets), (same_inputs, same_targets) in zip(
            batches, (again(step) for step in range(3)), strict=True):
        assert torch.equal(inputs, same_inputs) and torch.equal(targets, same_targets)


def test_held_out_score_of_copy_and_adding() -> None:
    copy = CopyTask(3, num_symbols=4, copy_length=2)
    model = build_task_model("gru", copy, 6, device="cpu", seed=0)
    inputs, targets = copy.sample(32, seed=1)
    score = score_held_out(model, copy, inputs, targets)
    with torch.no_grad():
        assert score.loss == pytest.approx(copy.loss(model(inputs), targets).item())
    assert len(score.position_accuracy) == 2
    assert score.accuracy == pytest.approx(sum(score.position_accuracy) / 2, abs=1e-6)
    adding = AddingTask(5)
    model = build_task_model("rnn_tanh", adding, 6, device="cpu", seed=0)
    score = score_held_out(model, adding, *adding.sample(16, seed=1))
    assert score.accuracy is None and score.position_accuracy is None
    assert not model.training, "scored in eval mode"


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="cells"):
        LongRangeSettings(cells=("lstm", "transformer"))
    with pytest.raises(ValueError, match="batch_size"):
        LongRangeSettings(batch_size=0)
    with pytest.raises(ValueError, match="solved_fraction"):
        LongRangeSettings(solved_fraction=1.5)
    with pytest.raises(ValueError, match="task"):
        make_task("sorting", 10)
    paper = SETTINGS.paper.long_range["settings"]
    assert paper.adding_lengths == (100, 200, 400, 750) and paper.lstm_hidden_size == 128
    assert paper.copy_delays == (100, 200, 300, 500) and paper.optimizer == "rmsprop"


def test_gradient_flow_before_and_after_training(tiny_result) -> None:
    flow = run_gradient_flow(tiny_result, task="adding", batch_size=16, device="cpu", seed=0)
    assert flow.seq_len == 6 and set(flow.norms) == {"initial", "trained"}
    for stage in ("initial", "trained"):
        assert set(flow.norms[stage]) == set(TINY.cells)
        for cell in TINY.cells:
            relative = flow.relative(stage, cell)
            assert relative.shape == (6,) and relative[0] == pytest.approx(1.0)
            assert flow.decay_per_step(stage, cell) >= 0
    assert flow.norms["initial"]["lstm"].cell is not None
    assert flow.relative("trained", "lstm", "cell")[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="cell state"):
        flow.relative("initial", "gru", "cell")


def test_inspection_finds_the_marker_units(tiny_result) -> None:
    run = tiny_result.get("adding", 6, "lstm")
    inspection = inspect_adding_lstm(run.model(), 6, num_units=2, batch_size=64, seed=0)
    assert len(inspection.units) == 2 and len(set(inspection.units)) == 2
    gaps = [at - away for at, away in zip(inspection.input_gate_at_markers,
                                          inspection.input_gate_elsewhere, strict=True)]
    assert gaps == sorted(gaps, reverse=True), "units come in order of their marker response"
    assert inspection.example_inputs.shape == (6, 2)
    assert inspection.example_inputs[:, 1].sum() == 2, "the example has its two markers"
    assert inspection.example_trace.cell.shape == (1, 6, run.hidden_size)
    assert all(-1 <= value <= 1 for value in inspection.cell_target_correlation)
    gru = tiny_result.get("adding", 6, "gru")
    with pytest.raises(TypeError, match="LSTM"):
        inspect_adding_lstm(gru.model(), 6)


# ----------------------------------------------------------------------------------------------
# Tables, figures and the widget


def test_tables(tiny_result) -> None:
    table = long_range_table(tiny_result)
    assert table.splitlines()[0].startswith("| task | T | baseline | RNN | LSTM | GRU |")
    assert "| adding | 6 | 0.167 |" in table and "% right" in table
    counts_table = parameter_count_table(parameter_counts(2, 8))
    assert counts_table.count("| yes |") == 3
    published = published_table()
    assert "0.164" in published and "5.3e-5" in published and "0.0204" in published
    decay = run_forget_bias_decay((1.0,), seq_len=12, fit_lags=4, hidden_size=4, device="cpu")
    assert "0.73" in forget_bias_table(decay)


def test_figures_have_labelled_axes(tiny_result) -> None:
    flow = run_gradient_flow(tiny_result, batch_size=8, device="cpu")
    figure = plot_gradient_flow(flow)
    assert len(figure.axes) == 2
    assert all(axis.get_xlabel() for axis in figure.axes) and figure.axes[0].get_ylabel()
    assert len(figure.axes[0].get_lines()) == 4, "RNN, LSTM h and c, GRU"

    inspection = inspect_adding_lstm(tiny_result.get("adding", 6, "lstm").model(), 6, num_units=2)
    figure = plot_gate_inspection(inspection, num_units=1)
    assert len(figure.axes) == 4 and all(axis.get_ylabel() for axis in figure.axes)
    assert len(figure.axes[1].get_lines()) == 1 + 2, "one unit, two marker lines"


def test_lstm_step_figure_and_stepper(tiny_result) -> None:
    model = tiny_result.get("adding", 6, "lstm").model()
    inputs, _ = AddingTask(6).sample(1, seed=3)
    trace = record_gates(model, inputs)
    figure = plot_lstm_step(inputs[0], trace, 3, [0, 1])
    assert len(figure.axes) == 4 and all(axis.get_ylabel() for axis in figure.axes)
    with pytest.raises(ValueError, match="step"):
        plot_lstm_step(inputs[0], trace, 7, [0])

    stepper = lstm_stepper(model, inputs[0], num_units=2)
    assert isinstance(stepper, ipywidgets.interactive)
    slider = stepper.children[0]
    assert (slider.min, slider.max, slider.value) == (1, 6, 6), "opens at the last step"
    with pytest.raises(ValueError, match="units"):
        lstm_stepper(model, inputs[0], units=[99])
    with pytest.raises(ValueError, match="one sequence"):
        lstm_stepper(model, inputs)
    with pytest.raises(TypeError, match="LSTM"):
        lstm_stepper(tiny_result.get("adding", 6, "gru").model(), inputs[0])


def test_pick_units_takes_the_most_moving_cells() -> None:
    cells = torch.zeros(5, 4)
    cells[:, 2] = torch.linspace(0, 3, 5)
    cells[:, 0] = torch.linspace(0, 1, 5)
    assert pick_units(cells, 2) == [0, 2]
    assert pick_units(cells, 10) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="cell_states"):
        pick_units(torch.zeros(5), 1)
