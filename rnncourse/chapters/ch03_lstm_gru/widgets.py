"""Chapter 3 widget: step through an LSTM on one sequence, gate by gate."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import Tensor, nn

from rnncourse.chapters.ch03_lstm_gru.figures import plot_lstm_step
from rnncourse.models.gate_trace import record_gates

__all__ = ["lstm_stepper", "pick_units"]


def pick_units(cell_states: Tensor, count: int) -> list[int]:
    """The `count` units whose cell state c_t moves the most over the sequence (range of c_t),
    in unit order: the ones worth watching. `cell_states` is (T, H)."""
    if cell_states.dim() != 2:
        raise ValueError(f"cell_states must be (T, H), got shape {tuple(cell_states.shape)}")
    spread = cell_states.max(0).values - cell_states.min(0).values
    count = max(1, min(count, cell_states.shape[1]))
    return sorted(torch.argsort(spread, descending=True)[:count].tolist())


def lstm_stepper(
    model: nn.Module,
    inputs: Tensor,
    *,
    units: list[int] | None = None,
    num_units: int = 4,
    step: int | None = None,
) -> widgets.interactive:
    """A slider over the steps of one sequence through an LSTM (`model`, or a model whose
    `.rnn` is one, like an LSTM `RecurrentModel`): at each step the gates i, f, g, o of the
    chosen units, their cell state before and after, and c_t so far.

    `inputs` is one sequence (T, I). `units` defaults to the `num_units` whose cell state
    moves most. The widget opens at `step` (default: the last one, where the prediction is
    read), so its saved state already shows a whole sequence.
    """
    if not isinstance(inputs, Tensor) or inputs.dim() != 2:
        raise ValueError("inputs must be one sequence, a tensor of shape (T, I)")
    model_device = next(model.parameters()).device
    sequence = inputs.detach().to(model_device).unsqueeze(0)  # (1, T, I), batch first
    trace = record_gates(model, sequence)
    if trace.kind != "LSTM":
        raise TypeError(f"lstm_stepper needs an LSTM, got a {trace.kind}")
    if units is None:
        units = pick_units(trace.cell[0], num_units)
    elif not all(0 <= unit < trace.hidden_size for unit in units):
        raise ValueError(f"units must be in [0, {trace.hidden_size}), got {units}")
    prediction = None
    if getattr(model, "readout", None) == "last" and getattr(model, "output_size", 0) == 1:
        with torch.no_grad():
            prediction = model(sequence).item()
    length = trace.seq_len
    step = length if step is None else step
    if not 1 <= step <= length:
        raise ValueError(f"step must be in [1, {length}], got {step}")
    inputs_cpu = inputs.detach().cpu()

    def draw(step: int) -> None:
        plot_lstm_step(inputs_cpu, trace, step, units, prediction=prediction)
        plt.show()

    slider = widgets.IntSlider(value=step, min=1, max=length, step=1, description="step t",
                               continuous_update=False)  # fmt: skip
    return widgets.interactive(draw, step=slider)
