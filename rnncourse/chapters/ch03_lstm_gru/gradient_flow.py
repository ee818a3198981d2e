"""Chapter 3 experiments: how gates keep gradients alive, and what a trained LSTM does with them.

    parameter_counts(...)         the formula G (H I + H H + 2H) against torch.nn's modules
    run_forget_bias_decay(...)    ‖∂L/∂c_t‖ at initialisation for several forget-gate biases
    run_gradient_flow(...)        ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖) against lag, before and after training
    inspect_adding_lstm(...)      gate activations of an LSTM trained on the adding problem

The long-range comparison itself (adding and copy at several T) is in `long_range.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnncourse.chapters.ch03_lstm_gru.long_range import CELLS
from rnncourse.chapters.ch03_lstm_gru.results import LongRangeResult, make_task
from rnncourse.data.synthetic import AddingTask
from rnncourse.models.gate_trace import GateTrace, record_gates
from rnncourse.models.parameter_count import recurrent_parameter_count
from rnncourse.runtime import resolve_device
from rnncourse.training.diagnostics import (
    HiddenStateGradients,
    decay_rate_per_step,
    hidden_state_gradient_norms,
)
from rnncourse.training.task_training import build_task_model

__all__ = [
    "ForgetBiasDecay",
    "decay_over_lags",
    "GateInspection",
    "GradientFlowResult",
    "inspect_adding_lstm",
    "parameter_counts",
    "run_forget_bias_decay",
    "run_gradient_flow",
]

TORCH_MODULES = {"rnn_tanh": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


# ----------------------------------------------------------------------------------------------
# Parameter counts


def parameter_counts(input_size: int, hidden_size: int) -> dict[str, dict[str, int]]:
    """{cell: {"formula": G (H I + H H + 2H), "torch.nn": what torch.nn's module holds}}."""
    counts = {}
    for cell in CELLS:
        module = TORCH_MODULES[cell](input_size, hidden_size)
        counts[cell] = {
            "formula": recurrent_parameter_count(cell, input_size, hidden_size),
            "torch.nn": sum(parameter.numel() for parameter in module.parameters()),
        }
    return counts


# ----------------------------------------------------------------------------------------------
# The forget-gate bias and the cell-state gradient at initialisation


def decay_over_lags(norms: Tensor, max_lag: int | None = None) -> float:
    """Per-step factor of a gradient norm going back from the end of the sequence.

    `norms` are in time order (t = 1 .. T). The rate is fitted (`decay_rate_per_step`) on
    lags 1 .. `max_lag` (T - t; lag 0, the step the loss reads, is left out as a transient)
    and stops before the first norm that underflowed to 0.
    """
    backwards = norms.flip(0)[1 : (max_lag + 1) if max_lag is not None else None]
    positive = backwards > 0
    usable = int(positive.cumprod(0).sum())  # the leading run of positive norms
    if usable < 2:
        return 0.0  # gone within a step or two: no rate to fit, the factor is ~0
    return decay_rate_per_step(backwards[:usable])


@dataclass
class ForgetBiasDecay:
    """For each forget-gate bias b: σ(b), the mean forget gate measured over a batch, the
    measured factor by which ‖∂L/∂c_t‖ shrinks per step back from the end of the sequence
    (fitted over `fit_lags` steps), and the share of the end gradient ‖∂L/∂c_T‖ that is left
    `fit_lags` steps back."""

    seq_len: int
    fit_lags: int
    biases: list[float]
    sigmoid_of_bias: list[float]
    mean_forget_gate: list[float]
    decay_per_step: list[float]
    share_left: list[float]
    cell_gradients: list[Tensor]  # ‖∂L/∂c_t‖ for t = 1 .. T, one tensor per bias


def run_forget_bias_decay(
    biases: tuple[float, ...] = (0.0, 1.0, 2.0),
    *,
    seq_len: int = 100,
    fit_lags: int = 50,
    hidden_size: int = 32,
    batch_size: int = 128,
    device: str | torch.device | None = None,
    seed: int = 0,
) -> ForgetBiasDecay:
    """‖∂L/∂c_t‖ of an untrained LSTM on the adding problem, for each forget-gate bias.

    Along the cell path ∂c_t/∂c_{t-1} = diag(f_t), so the gradient that reaches c_{T-k} from
    the end is multiplied by about E[f]^k: the bias sets the rate, f ≈ σ(b) at initialisation.
    The same initial weights (from `seed`) are used for every bias.
    """
    device = resolve_device(device)
    task = AddingTask(seq_len)
    inputs, targets = task.sample(batch_size, seed=seed + 1, device=device)
    if not 2 <= fit_lags < seq_len:
        raise ValueError(f"fit_lags must be in [2, seq_len), got {fit_lags}")
    result = ForgetBiasDecay(seq_len, fit_lags, [], [], [], [], [], [])
    for bias in biases:
        model = build_task_model("lstm", task, hidden_size, forget_gate_bias=float(bias),
                                 backend="rnncourse", device=device, seed=seed)
        gradients = hidden_state_gradient_norms(model, inputs, targets, task.loss)
        trace = record_gates(model, inputs)
        backwards = gradients.cell.flip(0)  # lag 0, 1, ..., T - 1
        result.biases.append(float(bias))
        result.sigmoid_of_bias.append(1.0 / (1.0 + math.exp(-bias)))
        result.mean_forget_gate.append(trace.gates["f"].mean().item())
        result.decay_per_step.append(decay_over_lags(gradients.cell, fit_lags))
        result.share_left.append((backwards[fit_lags] / backwards[0]).item())
        result.cell_gradients.append(gradients.cell)
    return result


# ----------------------------------------------------------------------------------------------
# Gradient flow before and after training


@dataclass
class GradientFlowResult:
    """‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖ for the LSTM) at every step, per cell, at initialisation
    ("initial") and after training ("trained"), on one held-out batch of the task."""

    task: str
    seq_len: int
    norms: dict[str, dict[str, HiddenStateGradients]]  # stage -> cell -> norms over t
    final_loss: dict[str, float]  # cell -> held-out loss after training
    baseline: float
    run_seed: int = 0  # the seed of the long-range runs whose models were measured

    def relative(self, stage: str, cell: str, state: str = "hidden") -> Tensor:
        """‖∂L/∂s_t‖ / ‖∂L/∂s_T‖ for s = h (or c): the share of the end gradient that
        reaches step t, ordered by lag T - t = 0, 1, ..., T - 1."""
        gradients = self.norms[stage][cell]
        values = gradients.hidden if state == "hidden" else gradients.cell
        if values is None:
            raise ValueError(f"{cell} has no cell state")
        return (values / values[-1]).flip(0)

    def decay_per_step(self, stage: str, cell: str) -> float:
        """The fitted per-step factor of ‖∂L/∂h_t‖ going back in time (1: no decay)."""
        return decay_over_lags(self.norms[stage][cell].hidden)


def run_gradient_flow(
    long_range: LongRangeResult,
    *,
    task: str = "adding",
    length: int | None = None,
    run_seed: int | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    seed: int = 0,
) -> GradientFlowResult:
    """Measure ‖∂L/∂h_t‖ for every cell of `long_range` at one (task, length), with the
    initial and the trained weights of its runs from `run_seed` (default: the longest length
    and the first seed), on a fresh batch drawn with `seed + 2`."""
    length = length if length is not None else max(long_range.lengths(task))
    run_seed = long_range.seeds[0] if run_seed is None else run_seed
    device = resolve_device(device)
    task_object = make_task(task, length)
    inputs, targets = task_object.sample(batch_size, seed=seed + 2, device=device)
    cells = [cell for cell in CELLS if cell in long_range.settings.cells]
    norms: dict[str, dict[str, HiddenStateGradients]] = {"initial": {}, "trained": {}}
    final_loss = {}
    for cell in cells:
        run = long_range.get(task, length, cell, run_seed)
        for stage in norms:
            model = run.model(trained=stage == "trained", backend="rnncourse", device=device)
            norms[stage][cell] = hidden_state_gradient_norms(
                model, inputs, targets, task_object.loss
            )
        final_loss[cell] = run.final_loss
    return GradientFlowResult(task, length, norms, final_loss, task_object.baseline_loss(),
                              run_seed)


# ----------------------------------------------------------------------------------------------
# Looking inside a trained LSTM


@dataclass
class GateInspection:
    """Gates of an LSTM trained on the adding problem.

    `example_inputs` (T, 2) is one typical sequence (values, markers), the one whose error is
    the median of the batch, and `example_trace` its gates and states (B = 1). `units` are the
    memory units: those whose input gate opens most at the markers. The statistics, one per
    unit, are over a batch of fresh sequences: mean input gate at the markers and elsewhere,
    mean forget gate after the first marker, and the correlation of the final cell state c_T
    with the target u_p + u_q.
    """

    example_inputs: Tensor
    example_target: float
    example_prediction: float
    example_trace: GateTrace
    units: list[int]
    input_gate_at_markers: list[float]
    input_gate_elsewhere: list[float]
    forget_gate_after_first_marker: list[float]
    cell_target_correlation: list[float]
    mse: float


def _correlation(first: Tensor, second: Tensor) -> float:
    first, second = first - first.mean(), second - second.mean()
    return ((first * second).sum() / (first.norm() * second.norm()).clamp_min(1e-12)).item()


@torch.no_grad()
def inspect_adding_lstm(
    model: nn.Module,
    seq_len: int,
    *,
    num_units: int = 2,
    batch_size: int = 512,
    seed: int = 0,
) -> GateInspection:
    """Record the gates of `model` (an LSTM `RecurrentModel` for `AddingTask(seq_len)`) on
    fresh sequences, pick its `num_units` memory units and measure what they do."""
    task = AddingTask(seq_len)
    device = next(model.parameters()).device
    inputs, targets = task.sample(batch_size, seed=seed, device=device)
    trace = record_gates(model, inputs)
    if trace.kind != "LSTM":
        raise TypeError(f"inspect_adding_lstm needs an LSTM, got a {trace.kind}")
    predictions = model(inputs)
    errors = (predictions - targets).abs().squeeze(-1).cpu()
    example = int((errors - errors.median()).abs().argmin())  # a typical sequence, not the best
    markers = inputs[..., 1].cpu() > 0.5  # (B, T)
    input_gate = trace.gates["i"]  # (B, T, H)
    at_markers = input_gate[markers].mean(0)  # (H,)
    elsewhere = input_gate[~markers].mean(0)
    units = torch.argsort(at_markers - elsewhere, descending=True)[:num_units].tolist()

    # Steps from the first marker on, where a memory must hold what it stored.
    after_first = markers.long().cumsum(1) >= 1
    forget_after = trace.gates["f"][after_first].mean(0)  # (H,)
    final_cell = trace.cell[:, -1, :]  # (B, H)
    targets_cpu = targets.squeeze(-1).cpu()
    return GateInspection(
        example_inputs=inputs[example].cpu(),
        example_target=targets[example].item(),
        example_prediction=predictions[example].item(),
        example_trace=GateTrace(
            trace.kind,
            {name: gate[example : example + 1] for name, gate in trace.gates.items()},
            trace.hidden[example : example + 1],
            trace.cell[example : example + 1],
        ),
        units=units,
        input_gate_at_markers=[at_markers[unit].item() for unit in units],
        input_gate_elsewhere=[elsewhere[unit].item() for unit in units],
        forget_gate_after_first_marker=[forget_after[unit].item() for unit in units],
        cell_target_correlation=[_correlation(final_cell[:, unit], targets_cpu) for unit in units],
        mse=task.loss(predictions, targets).item(),
    )
