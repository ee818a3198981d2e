"""Figures for chapter 3 (LSTM and GRU); its tables are in `tables.py`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import MaxNLocator
from torch import Tensor

from rnncourse.chapters.ch03_lstm_gru.gradient_flow import GateInspection, GradientFlowResult
from rnncourse.chapters.ch03_lstm_gru.long_range import CELL_LABELS, CELLS
from rnncourse.chapters.plotting import OKABE_ITO, PALETTE, new_figure
from rnncourse.models.gate_trace import GateTrace

__all__ = [
    "CELL_COLOURS",
    "plot_gate_inspection",
    "plot_gradient_flow",
    "plot_lstm_step",
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
# Gradient flow


def plot_gradient_flow(result: GradientFlowResult) -> plt.Figure:
    """‖∂L/∂h_t‖ / ‖∂L/∂h_T‖ against the lag T - t, per cell, at initialisation (left) and
    after training (right); the LSTM's cell state ‖∂L/∂c_t‖ dotted."""
    figure, axes = new_figure(ncols=2, width=5.2, height=3.8, sharey=True)
    lags = torch.arange(result.seq_len).numpy()
    titles = {"initial": "at initialisation", "trained": "after training"}
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
        axis.set_ylim(1e-20, 1e2)
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
