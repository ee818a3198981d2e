"""Chapter 3 experiments, figures, tables and the LSTM stepper, at toy sizes."""

from __future__ import annotations

import math
from dataclasses import replace

import ipywidgets
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

from rnncourse.chapters.ch03_lstm_gru.figures import (
    forget_bias_table,
    long_range_table,
    parameter_count_table,
    plot_gate_inspection,
    plot_gradient_flow,
    plot_lstm_step,
    published_table,
    seeds_caption,
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
    cell_hidden_size,
    make_task,
    run_long_range_tasks,
    train_until_solved,
)
from rnncourse.chapters.ch03_lstm_gru.settings import SETTINGS
from rnncourse.chapters.ch03_lstm_gru.widgets import lstm_stepper, pick_units
from rnncourse.cli import main
from rnncourse.data.synthetic import AddingTask, CopyTask
from rnncourse.models.cells import gru_step
from rnncourse.models.gate_trace import record_gates
from rnncourse.training.task_training import build_task_model, score_held_out, training_batches

TINY = LongRangeSettings(
    adding_lengths=(6,), copy_delays=(3,), lstm_hidden_size=4, adding_max_steps=20,
    copy_max_steps=10, batch_size=8, eval_every=10, eval_batch_size=16, num_seeds=2,
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


def test_the_two_gru_conventions_differ_by_the_sign_of_the_update_gate() -> None:
    """torch/Cho et al.: h = z h' + (1 − z) ñ; Chung et al./minGRU: h = (1 − z) h' + z ñ.
    Negating the update gate's weights and biases (1 − σ(a) = σ(−a)) maps one onto the other."""
    torch.manual_seed(0)
    gru = torch.nn.GRUCell(3, 5)
    x, h = torch.randn(4, 3), torch.randn(4, 5)
    kept = gru_step(x, h, gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh)
    assert torch.allclose(kept, gru(x, h), atol=1e-6)
    flip = torch.ones(15, 1)
    flip[5:10] = -1  # the update gate's rows (torch's order r, z, n)
    weights = (gru.weight_ih * flip, gru.weight_hh * flip, gru.bias_ih * flip[:, 0],
               gru.bias_hh * flip[:, 0])  # fmt: skip
    projection = F.linear(x, weights[0], weights[2]).chunk(3, dim=-1)
    recurrent = F.linear(h, weights[1], weights[3]).chunk(3, dim=-1)
    reset = torch.sigmoid(projection[0] + recurrent[0])
    z_written = torch.sigmoid(projection[1] + recurrent[1])
    candidate = torch.tanh(projection[2] + reset * recurrent[2])
    written = (1 - z_written) * h + z_written * candidate  # h_t = (1 − z_t) h_{t-1} + z_t h̃_t
    assert torch.allclose(written, kept, atol=1e-6)


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


def test_long_range_runs_cover_every_cell_task_length_and_seed(tiny_result) -> None:
    runs = tiny_result.runs
    assert len(runs) == 2 * 3 * 2, "two (task, T), three cells, two seeds"
    assert [(run.task, run.length) for run in runs][::6] == [("adding", 6), ("copy", 3)]
    assert {run.cell for run in runs} == set(TINY.cells)
    assert tiny_result.seeds == (0, 1) and {run.seed for run in runs} == {0, 1}
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
    with pytest.raises(KeyError):
        tiny_result.get("adding", 6, "lstm", seed=5)
    assert tiny_result.lengths("copy") == [3]
    assert tiny_result.get("copy", 3, "gru") is tiny_result.get("copy", 3, "gru", seed=0)


def test_seeds_differ_in_weights_and_batches_but_share_the_held_out_batch(tiny_result) -> None:
    first, second = (tiny_result.get("adding", 6, "lstm", seed) for seed in (0, 1))
    assert not torch.equal(first.initial_state["rnn.weight_hh_l0"],
                           second.initial_state["rnn.weight_hh_l0"])
    assert first.baseline == second.baseline
    summary = tiny_result.summary("adding", 6, "lstm")
    assert summary.losses == (first.final_loss, second.final_loss)
    assert summary.mean_loss == pytest.approx((first.final_loss + second.final_loss) / 2)
    assert summary.std_loss == pytest.approx(abs(first.final_loss - second.final_loss) / 2 ** 0.5)
    assert summary.accuracies is None and tiny_result.summary("copy", 3, "gru").accuracies
    best = tiny_result.best("adding", 6, "lstm")
    assert best.final_loss == min(first.final_loss, second.final_loss)


def test_a_run_matches_a_single_seed_run_of_its_seed() -> None:
    """Seed 1 of a two-seed run trains exactly as a one-seed run from seed 1 (same initial
    weights, same batches); only the held-out batch, which belongs to the base seed, differs."""
    one = replace(TINY, adding_lengths=(6,), copy_delays=(), cells=("gru",), num_seeds=1,
                  stop_when_solved=False)
    both = run_long_range_tasks(replace(one, num_seeds=2), device="cpu", seed=0)
    alone = run_long_range_tasks(one, device="cpu", seed=1)
    first, second = alone.get("adding", 6, "gru"), both.get("adding", 6, "gru", seed=1)
    torch.testing.assert_close(first.initial_state, second.initial_state)
    torch.testing.assert_close(first.trained_state, second.trained_state)


def test_training_stops_once_solved() -> None:
    task = AddingTask(4)
    model = build_task_model("gru", task, 8, device="cpu", seed=0)
    generous = replace(TINY, solved_fraction=0.99, eval_every=5)
    steps, losses, solved, diverged = train_until_solved(model, task, generous, 200, seed=0)
    assert solved and not diverged
    assert steps[-1] < 200 and losses[-1] < 0.99 * task.baseline_loss()
    assert all(losses[i] >= 0.99 * task.baseline_loss() for i in range(len(losses) - 1))


def test_training_batches_are_one_seeded_stream(default_device_elsewhere) -> None:
    """Drawn and returned on the CPU, also where the default device is a GPU (`fit` moves
    them), so that every device trains on the same sequences."""
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
    inputs, targets = copy.sample(32, seed=1, device="cpu")
    score = score_held_out(model, copy, inputs, targets)
    with torch.no_grad():
        assert score.loss == pytest.approx(copy.loss(model(inputs), targets).item())
    assert len(score.position_accuracy) == 2
    assert score.accuracy == pytest.approx(sum(score.position_accuracy) / 2, abs=1e-6)
    adding = AddingTask(5)
    model = build_task_model("rnn_tanh", adding, 6, device="cpu", seed=0)
    score = score_held_out(model, adding, *adding.sample(16, seed=1, device="cpu"))
    assert score.accuracy is None and score.position_accuracy is None
    assert not model.training, "scored in eval mode"


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="cells"):
        LongRangeSettings(cells=("lstm", "transformer"))
    with pytest.raises(ValueError, match="batch_size"):
        LongRangeSettings(batch_size=0)
    with pytest.raises(ValueError, match="num_seeds"):
        LongRangeSettings(num_seeds=0)
    with pytest.raises(ValueError, match="solved_fraction"):
        LongRangeSettings(solved_fraction=1.5)
    with pytest.raises(ValueError, match="clip_norm or clip_value"):
        LongRangeSettings(clip_norm=1.0, clip_value=1.0)
    with pytest.raises(ValueError, match="optimizer"):
        LongRangeSettings(optimizer="adagrad")
    with pytest.raises(ValueError, match="hidden_sizes"):
        LongRangeSettings(hidden_sizes={"adding": {"lstm": 0}})
    with pytest.raises(ValueError, match="task"):
        LongRangeSettings(hidden_sizes={"sorting": {"lstm": 8}})
    with pytest.raises(ValueError, match="task"):
        make_task("sorting", 10)


def test_paper_scale_is_arjovsky_et_als_setting() -> None:
    """Sizes, optimiser and clipping of Arjovsky, Shah and Bengio (2016), sec. 5."""
    paper = SETTINGS.paper.long_range["settings"]
    assert paper.adding_lengths == (100, 200, 400, 750)
    assert paper.copy_delays == (100, 200, 300, 500)
    adding, copy = make_task("adding", 100), make_task("copy", 100)
    sizes = {cell: cell_hidden_size(paper, "adding", adding, cell) for cell in paper.cells}
    assert sizes == {"rnn_tanh": 128, "lstm": 128, "gru": 128}
    assert cell_hidden_size(paper, "copy", copy, "rnn_tanh") == 80
    assert cell_hidden_size(paper, "copy", copy, "lstm") == 40
    assert paper.optimizer == "rmsprop" and paper.lr == 1e-3
    assert paper.optimizer_options == {"alpha": 0.9}, "RMSProp decay 0.9"
    assert paper.clip_value == 1.0 and paper.clip_norm is None, "element-wise clipping at ±1"
    assert paper.batch_size == 20 and not paper.stop_when_solved
    cpu = SETTINGS.cpu.long_range["settings"]
    assert cpu.num_seeds >= 3, "the book compares cells over at least three seeds"


def test_element_wise_clipping_and_optimizer_options_reach_training() -> None:
    task = AddingTask(4)
    model = build_task_model("lstm", task, 4, device="cpu", seed=0)
    settings = replace(TINY, optimizer="rmsprop", lr=1e-3, optimizer_options={"alpha": 0.9},
                       clip_norm=None, clip_value=1e-4, stop_when_solved=False, eval_every=5)
    before = [parameter.detach().clone() for parameter in model.parameters()]
    steps, _, _, _ = train_until_solved(model, task, settings, 5, seed=0)
    assert steps == [5], "ran its budget: no stop once solved"
    for old, new in zip(before, model.parameters(), strict=True):
        # RMSProp moves every weight by about lr · g / sqrt(v); with g clipped to ±1e-4 each
        # step stays near lr (sqrt(1 - alpha) scale), far from an unclipped step's size.
        assert (new.detach() - old).abs().max() < 5 * 1e-3 / (1 - 0.9) ** 0.5


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
    assert " ± " in table and "/2" in table, "mean ± spread, solved k/2 seeds"
    assert "2 seeds" in seeds_caption(tiny_result)
    counts_table = parameter_count_table(parameter_counts(2, 8))
    assert counts_table.count("| yes |") == 3
    published = published_table()
    for fact in ("0.164", "5.3e-5", "0.0204", "0.0197", "0.0202", "0.167", "0.173", "0.040",
                 "Table 1", "Fig. 1", "Fig. 2", "40", "6,500", "element-wise"):
        assert fact in published, fact
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


def test_run_command_prints_chapter_3s_tables_and_sentences(tiny_settings, capsys) -> None:
    tiny_settings("ch03", forget_bias={"biases": (0.0, 1.0), "seq_len": 8, "fit_lags": 4,
                                       "hidden_size": 4, "batch_size": 4},
                  parameter_counts={"input_size": 2, "hidden_size": 4},
                  long_range={"settings": replace(TINY, num_seeds=1, copy_delays=())})
    assert main(["run", "ch03", "--experiment", "inside-lstm", "--experiment", "forget-bias",
                 "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert printed.index("## forget-bias") < printed.index("## long-range")
    assert "4 steps back from the end" in printed and "One seed (0)" in printed
    assert "On the adding problem" in printed and "Arjovsky et al. 2016, sec. 5.2" in printed
    assert "The LSTM at T = 6 from seed 0" in printed and "held-out MSE" in printed
