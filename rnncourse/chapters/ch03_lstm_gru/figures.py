"""Figures and tables for chapter 3 (LSTM and GRU)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import MaxNLocator
from torch import Tensor

from rnncourse.chapters.ch03_lstm_gru.gradient_flow import (
    ForgetBiasDecay,
    GateInspection,
    GradientFlowResult,
)
from rnncourse.chapters.ch03_lstm_gru.long_range import CELL_LABELS, CELLS, LongRangeSettings
from rnncourse.chapters.ch03_lstm_gru.published import PUBLISHED_RESULTS
from rnncourse.chapters.ch03_lstm_gru.results import CellSummary, LongRangeResult
from rnncourse.chapters.plotting import OKABE_ITO, PALETTE, markdown_table, new_figure
from rnncourse.models.gate_trace import GateTrace

__all__ = [
    "CELL_COLOURS",
    "describe_settings",
    "forget_bias_table",
    "long_range_table",
    "parameter_count_table",
    "plot_gate_inspection",
    "plot_gradient_flow",
    "plot_lstm_step",
    "published_table",
    "seeds_caption",
]

# One colour and line style per cell throughout the chapter; the LSTM's cell state is dotted.
CELL_COLOURS = dict(zip(CELLS, PALETTE, strict=False))
CELL_LINESTYLES = {"rnn_tanh": "-", "lstm": "--", "gru": "-."}
GATE_COLOURS = {"i": OKABE_ITO["bluish green"], "f": OKABE_ITO["blue"],
                "g": OKABE_ITO["orange"], "o": OKABE_ITO["reddish purple"]}  # fmt: skip
GATE_LABELS = {"i": "input gate $i_t$", "f": "forget gate $f_t$", "g": "candidate $g_t$",
               "o": "output gate $o_t$"}  # fmt: skip
MARKER_STYLE = {"color": OKABE_ITO["vermillion"], "linestyle": ":", "linewidth": 1.2}


# ----------------------------------------------------------------------------------------------
# Tables (Markdown, for IPython.display.Markdown and `rnncourse run ch03`)


def parameter_count_table(counts: dict[str, dict[str, int]]) -> str:
    """`parameter_counts(...)` as a table: cell, formula, torch.nn, whether they agree."""
    rows = [[CELL_LABELS[cell], f"{c['formula']:,}", f"{c['torch.nn']:,}",
             "yes" if c["formula"] == c["torch.nn"] else "**no**"]
            for cell, c in counts.items()]  # fmt: skip
    return markdown_table(["cell", "G (HI + HH + 2H)", "torch.nn", "equal"], rows)


def forget_bias_table(result: ForgetBiasDecay) -> str:
    """Forget-gate bias against the measured decay of ‖∂L/∂c_t‖ at initialisation, beside what
    the cell path alone predicts, σ(b)^k."""
    lags = result.fit_lags
    rows = [[f"{bias:g}", f"{sigmoid:.2f}", f"{mean_f:.2f}", f"{rate:.2f}", f"{share:.1e}",
             f"{sigmoid ** lags:.1e}"]
            for bias, sigmoid, mean_f, rate, share in zip(
                result.biases, result.sigmoid_of_bias, result.mean_forget_gate,
                result.decay_per_step, result.share_left, strict=True)]  # fmt: skip
    header = ["forget bias b", "σ(b)", "mean f_t (measured)", "‖∂L/∂c_t‖ factor per step back",
              f"share of ‖∂L/∂c_T‖ left {lags} steps back", f"σ(b)^{lags}"]  # fmt: skip
    return markdown_table(header, rows)


OPTIMIZER_NAMES = {"adam": "Adam", "rmsprop": "RMSProp", "sgd": "SGD"}


def describe_settings(settings: LongRangeSettings) -> str:
    """How the long-range comparison trains its models, in one Markdown paragraph."""
    if settings.clip_norm is not None:
        clipping = f"gradients clipped by norm at {settings.clip_norm:g}"
    elif settings.clip_value is not None:
        clipping = f"gradients clipped element-wise at ±{settings.clip_value:g}"
    else:
        clipping = "no gradient clipping"
    options = "".join(f", {name} {value:g}" for name, value in settings.optimizer_options.items())
    stop = (f", stopping once its held-out loss is below {settings.solved_fraction:.0%} of the "
            "baseline" if settings.stop_when_solved else "")
    sizes = ("the hidden sizes the settings name" if settings.hidden_sizes else
             "the hidden size at which its whole model (core and readout) has about as many "
             f"parameters as an LSTM with {settings.lstm_hidden_size} units")
    seeds = "one seed" if settings.num_seeds == 1 else f"{settings.num_seeds} seeds"
    return (f"Each cell gets {sizes}, and is trained with "
            f"{OPTIMIZER_NAMES.get(settings.optimizer, settings.optimizer)} (learning rate "
            f"{settings.lr:g}{options}), {clipping}, on batches of {settings.batch_size} fresh "
            f"sequences, for at most {settings.adding_max_steps} steps on the adding problem and "
            f"{settings.copy_max_steps} on copy memory{stop}; the held-out loss is measured on "
            f"{settings.eval_batch_size} sequences every {settings.eval_every} steps. Every "
            f"(task, T, cell) is trained from {seeds}.")


def seeds_caption(result: LongRangeResult) -> str:
    """What one entry of the long-range table is: over how many seeds, or that there is one."""
    seeds = len(result.seeds)
    if seeds == 1:
        return f"One seed ({result.seeds[0]}): no spread is shown."
    return (f"Mean ± standard deviation over {seeds} seeds ({result.seeds[0]} to "
            f"{result.seeds[-1]}); a seed sets the initial weights and the training batches.")


def _entry(summary: CellSummary) -> str:
    text = f"{summary.mean_loss:#.3g}"
    if summary.seeds > 1:
        text += f" ± {summary.std_loss:.2g}"
    if summary.mean_accuracy is not None:
        text += f", {summary.mean_accuracy:.0%} right"
    steps = summary.mean_steps_solved
    solved = f"solved {summary.num_solved}/{summary.seeds}"
    if steps is not None:
        solved += f" ({steps:.0f} steps)"
    return f"**{text}**, {solved}" if summary.num_solved == summary.seeds else f"{text}, {solved}"


def long_range_table(result: LongRangeResult) -> str:
    """Final held-out loss of each cell at each (task, T) beside the memoryless baseline.

    Each entry: the mean (± standard deviation over the seeds) of the final loss, for copy
    memory the share of copied symbols predicted right (chance: 1/K), and in how many seeds the
    task was solved (loss below `solved_fraction` of the baseline), with the mean number of
    steps those seeds needed; bold when every seed solved it.
    """
    cells = [cell for cell in CELLS if cell in result.cells()]
    labels = [CELL_LABELS[cell] for cell in cells]
    header = ["task", "T", "baseline", *labels, "parameters (" + " / ".join(labels) + ")"]
    rows = []
    for task in ("adding", "copy"):
        for length in result.lengths(task):
            summaries = [result.summary(task, length, cell) for cell in cells]
            sizes = " / ".join(f"{summary.parameters:,}" for summary in summaries)
            rows.append([task, str(length), f"{summaries[0].baseline:.3f}",
                         *map(_entry, summaries), sizes])
    return markdown_table(header, rows)


def published_table() -> str:
    """The published results this chapter's comparison is held against."""
    rows = [[entry["task"], entry["T"], entry["result"], entry["setting"], entry["source"]]
            for entry in PUBLISHED_RESULTS]  # fmt: skip
    return markdown_table(["task", "T", "published result", "setting", "source"], rows)


# ----------------------------------------------------------------------------------------------
# Gradient flow


def plot_gradient_flow(result: GradientFlowResult) -> plt.Figure:
    """‖∂L/∂h_t‖ / ‖∂L/∂h_T‖ against the lag T - t, per cell, at initialisation (left) and
    after training (right); the LSTM's cell state ‖∂L/∂c_t‖ dotted."""
    figure, axes = new_figure(ncols=2, width=5.2, height=3.8, sharey=True)
    lags = torch.arange(result.seq_len).numpy()
    titles = {"initial": "at initialisation", "trained": "after training"}
    # The y axis runs from a decade below the smallest share drawn (at least 1e-20) up to 1e2.
    shares = [result.relative(stage, cell, state)
              for stage in titles for cell, gradients in result.norms[stage].items()
              for state in ("hidden", "cell") if state == "hidden" or gradients.cell is not None]
    smallest = min((values[values > 0].min().item() for values in shares if (values > 0).any()),
                   default=1e-20)
    bottom = max(1e-20, 10.0 ** (math.floor(math.log10(smallest)) - 1))
    for axis, stage in zip(axes, ("initial", "trained"), strict=True):
        for cell, gradients in result.norms[stage].items():
            colour = CELL_COLOURS[cell]
            rate = result.decay_per_step(stage, cell)
            label = f"{CELL_LABELS[cell]} $h_t$ (×{rate:.2f} per step)"
            axis.semilogy(lags, result.relative(stage, cell).numpy(), color=colour,
                          linestyle=CELL_LINESTYLES.get(cell, "-"), label=label)  # fmt: skip
            if gradients.cell is not None:
                axis.semilogy(lags, result.relative(stage, cell, "cell").numpy(), color=colour,
                              linestyle=":", label=f"{CELL_LABELS[cell]} $c_t$")  # fmt: skip
        axis.set_title(titles[stage])
        axis.set_xlabel("lag $T - t$ (steps back from the end)")
        axis.set_ylim(bottom, 1e2)
        axis.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel(r"$\|\partial L/\partial h_t\| \,/\, \|\partial L/\partial h_T\|$")
    figure.suptitle(f"Gradient reaching back through time, {result.task} problem, "
                    f"T = {result.seq_len}", fontsize=11)  # fmt: skip
    return figure


# ----------------------------------------------------------------------------------------------
# Gates of a trained LSTM


def _draw_inputs(axis: plt.Axes, inputs: Tensor, marked: list[int]) -> None:
    steps = torch.arange(1, inputs.shape[0] + 1).numpy()
    values = inputs[:, 0].numpy()
    axis.bar(steps, values, color=OKABE_ITO["sky blue"], width=0.8, label="value $u_t$")
    axis.bar(steps[marked], values[marked], color=OKABE_ITO["vermillion"], width=0.8,
             label="marked value")  # fmt: skip
    axis.set_ylabel("input")
    axis.set_ylim(0, 1.35)  # room for the legend above the bars
    axis.set_yticks([0, 0.5, 1])


def _marked_steps(inputs: Tensor) -> list[int]:
    return torch.nonzero(inputs[:, 1] > 0.5).flatten().tolist()


def plot_gate_inspection(inspection: GateInspection, num_units: int | None = None) -> plt.Figure:
    """One adding-problem sequence through a trained LSTM: the inputs, then the input gate,
    forget gate and cell state of its memory units (the first `num_units` of them, default
    all), with the marked steps as dotted lines."""
    inputs, trace = inspection.example_inputs, inspection.example_trace
    units = inspection.units[:num_units] if num_units is not None else inspection.units
    marked = _marked_steps(inputs)
    steps = torch.arange(1, inputs.shape[0] + 1).numpy()
    figure, axes = new_figure(nrows=4, width=9.0, height=1.7, sharex=True)
    _draw_inputs(axes[0], inputs, marked)
    axes[0].set_title(
        f"target $u_p + u_q$ = {inspection.example_target:.2f}, "
        f"prediction {inspection.example_prediction:.2f}", fontsize=10)  # fmt: skip
    axes[0].legend(fontsize=8, loc="upper right", ncols=2, framealpha=0.9)
    panels = [("i", "input gate $i_t$"), ("f", "forget gate $f_t$"), ("c", "cell state $c_t$")]
    for axis, (name, label) in zip(axes[1:], panels, strict=True):
        values = trace.cell[0] if name == "c" else trace.gates[name][0]
        for number, unit in enumerate(units):
            axis.plot(steps, values[:, unit].numpy(), color=PALETTE[number % len(PALETTE)],
                      linestyle=["-", "--", "-.", ":"][number % 4], label=f"unit {unit}")
        axis.set_ylabel(label)
        if name != "c":
            axis.set_ylim(-0.05, 1.05)
    axes[1].legend(fontsize=8, loc="center right")
    for axis in axes:
        for step in marked:
            axis.axvline(step + 1, **MARKER_STYLE)
    axes[-1].set_xlabel("step $t$ (dotted: the two marked steps)")
    return figure


# ----------------------------------------------------------------------------------------------
# One LSTM step (the stepper widget draws this)


def plot_lstm_step(inputs: Tensor, trace: GateTrace, step: int, units: list[int],
                   prediction: float | None = None) -> plt.Figure:
    """The LSTM at step `step` (1-based) of one sequence: left, the inputs with the cell state
    of `units` so far; right, each unit's gates i, f, g, o at this step and its cell state
    before (c_{t-1}) and after (c_t):  c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t."""
    length = inputs.shape[0]
    if not 1 <= step <= length:
        raise ValueError(f"step must be in [1, {length}], got {step}")
    t = step - 1
    figure = plt.figure(figsize=(11, 4.2), layout="constrained")
    grid = figure.add_gridspec(2, 2, width_ratios=[1.25, 1])
    axis_inputs = figure.add_subplot(grid[0, 0])
    axis_cell = figure.add_subplot(grid[1, 0], sharex=axis_inputs)
    axis_gates = figure.add_subplot(grid[0, 1])
    axis_state = figure.add_subplot(grid[1, 1])
    for axis in (axis_inputs, axis_cell, axis_gates, axis_state):
        axis.grid(True, alpha=0.3)

    marked = _marked_steps(inputs)
    _draw_inputs(axis_inputs, inputs, marked)
    axis_inputs.axvline(step, color=OKABE_ITO["black"], linewidth=1.5)
    axis_inputs.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis_inputs.set_title(f"step t = {step} of {length}", fontsize=10)
    steps = torch.arange(1, step + 1).numpy()
    for number, unit in enumerate(units):
        axis_cell.plot(steps, trace.cell[0, :step, unit].numpy(),
                       color=PALETTE[number % len(PALETTE)],
                       marker=".", label=f"unit {unit}")  # fmt: skip
    axis_cell.set_xlim(0.5, length + 0.5)
    axis_cell.set_xlabel("step $t$")
    axis_cell.set_ylabel("cell state $c_t$")
    axis_cell.legend(fontsize=8, loc="upper left", ncols=2)

    positions = torch.arange(len(units), dtype=torch.float32).numpy()
    width = 0.2
    for offset, name in enumerate("ifgo"):
        axis_gates.bar(positions + (offset - 1.5) * width, trace.gates[name][0, t, units].numpy(),
                       width=width, color=GATE_COLOURS[name], label=GATE_LABELS[name])  # fmt: skip
    axis_gates.set_ylim(-1.05, 1.05)
    axis_gates.axhline(0, color=OKABE_ITO["black"], linewidth=0.8)
    axis_gates.set_xticks(positions, [f"unit {unit}" for unit in units])
    axis_gates.set_ylabel("gate value")
    axis_gates.legend(fontsize=7, ncols=2, loc="lower left")
    axis_gates.set_title("gates at this step", fontsize=10)

    before = trace.cell[0, t - 1, units] if t > 0 else torch.zeros(len(units))
    axis_state.bar(positions - 0.2, before.numpy(), width=0.4, color=OKABE_ITO["sky blue"],
                   label="$c_{t-1}$")  # fmt: skip
    axis_state.bar(positions + 0.2, trace.cell[0, t, units].numpy(), width=0.4,
                   color=OKABE_ITO["blue"], label="$c_t = f_t c_{t-1} + i_t g_t$")  # fmt: skip
    axis_state.axhline(0, color=OKABE_ITO["black"], linewidth=0.8)
    axis_state.set_xticks(positions, [f"unit {unit}" for unit in units])
    axis_state.set_ylabel("cell state")
    axis_state.legend(fontsize=8, loc="best")
    if prediction is not None and step == length:
        axis_state.set_title(f"prediction after the last step: {prediction:.2f}", fontsize=10)
    return figure
