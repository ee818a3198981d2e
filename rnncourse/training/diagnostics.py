"""Diagnostics for gradients through time: per-step gradient norms, spectral radii, the
Pascanu et al. (2013) bound and measured decay rates.

Back-propagation through time multiplies Jacobians,

    ∂L/∂h_k = ∂L/∂h_t · ∏_{s=k+1}^{t} ∂h_s/∂h_{s-1},   ∂h_s/∂h_{s-1} = diag(φ'(a_s)) W_hh,

so ‖∂h_t/∂h_k‖ ≤ (γ σ_max(W_hh))^{t-k} with γ a bound on |φ'|: the gradient that reaches an
early step shrinks (or grows) geometrically with the distance. These functions measure that.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = [
    "HiddenStateGradients",
    "decay_rate_per_step",
    "hidden_state_gradient_norms",
    "jacobian_norm_bound",
    "recurrent_spectral_radii",
    "spectral_radius",
]


# ----------------------------------------------------------------------------------------------
# Gradient norm at every time step


@dataclass
class HiddenStateGradients:
    """‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖ for an LSTM) at every step t of one layer, on the CPU.

    `hidden[t]` is the norm of the total gradient of the loss with respect to the hidden state
    h_t, through everything h_t feeds (the output at t and every later step). `cell` is None
    unless the layer is an LSTM.
    """

    hidden: torch.Tensor  # (T,)
    cell: torch.Tensor | None  # (T,) or None


def _recurrent_core(model: nn.Module) -> nn.Module:
    """The module that records the hidden states: the model's `.rnn`, or the model itself."""
    core = getattr(model, "rnn", None)
    if isinstance(core, nn.Module) and hasattr(core, "record_hidden_states"):
        return core
    for candidate in (core, model):
        if isinstance(candidate, nn.RNNBase):
            raise TypeError(
                f"the model's recurrent core is torch.nn.{type(candidate).__name__}, whose fused "
                "kernel gives no access to the hidden state at each step; build the model with "
                'backend="rnncourse" to measure gradients through time'
            )
    if hasattr(model, "record_hidden_states"):
        return model
    raise TypeError(
        "model must be an rnncourse sequence module (RNN, LSTM, GRU) or a model whose .rnn is "
        f"one, got {type(model).__name__}"
    )


def _norms(
    states: Sequence[torch.Tensor], gradients: Sequence[torch.Tensor | None]
) -> torch.Tensor:
    # A state the loss does not depend on has gradient None: its norm is 0.
    norms = [
        gradient.detach().norm() if gradient is not None else state.new_zeros(())
        for state, gradient in zip(states, gradients, strict=True)
    ]
    return torch.stack(norms).float().cpu()


def hidden_state_gradient_norms(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: Any,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    *,
    layer: int = -1,
    training: bool = False,
) -> HiddenStateGradients:
    """‖∂L/∂h_t‖ for every step t of one layer, for one batch.

    L = loss_fn(model(inputs), targets) is the batch-averaged loss; the norm is taken over the
    batch and the features together, ‖∂L/∂h_t‖ = sqrt(Σ_{b,j} (∂L/∂h_{t,b,j})²). For an LSTM
    the cell state's ‖∂L/∂c_t‖ comes too.

    `model` is an rnncourse `RNN`, `LSTM` or `GRU`, or a model (like `RecurrentModel`) whose
    `.rnn` is one; a torch.nn core (cuDNN) has no per-step states and raises a TypeError.
    The gradients are taken with `torch.autograd.grad`, so the parameters' `.grad` are left
    as they were. The model runs in eval mode (no dropout noise) unless `training=True`, and
    is given back in the mode it came in.
    """
    core = _recurrent_core(model)
    device = next(model.parameters()).device
    inputs = inputs.to(device)
    targets = targets.to(device) if hasattr(targets, "to") else targets

    was_training = model.training
    model.train(training)
    try:
        with torch.enable_grad(), core.record_hidden_states() as recorded:
            outputs = model(inputs)
            if isinstance(outputs, tuple):  # (output, state), as torch.nn modules return
                outputs = outputs[0]
            loss = loss_fn(outputs, targets)
    finally:
        model.train(was_training)

    num_layers = len(recorded.hidden)
    if not -num_layers <= layer < num_layers:
        raise ValueError(f"layer must be in [{-num_layers}, {num_layers - 1}], got {layer}")
    hidden = list(recorded.hidden[layer])
    cells = list(recorded.cell[layer]) if getattr(recorded, "cell", None) else []

    if not loss.requires_grad:
        raise ValueError(
            "the loss does not depend on anything that requires grad: the model's parameters "
            "must have requires_grad=True"
        )
    # ∂L/∂h_t for all t in one backward pass, without touching the parameters' gradients.
    gradients = torch.autograd.grad(loss, hidden + cells, allow_unused=True)
    return HiddenStateGradients(
        hidden=_norms(hidden, gradients[: len(hidden)]),
        cell=_norms(cells, gradients[len(hidden) :]) if cells else None,
    )


# ----------------------------------------------------------------------------------------------
# Spectra and the Pascanu et al. bound


def _check_matrix(name: str, weight: torch.Tensor, square: bool) -> torch.Tensor:
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(weight).__name__}")
    if weight.dim() != 2 or (square and weight.shape[0] != weight.shape[1]):
        kind = "a square matrix (n, n)" if square else "a matrix (2-D)"
        raise ValueError(f"{name} must be {kind}, got shape {tuple(weight.shape)}")
    # float64 on the CPU: eigenvalues and singular values of small matrices, exactly enough.
    return weight.detach().to("cpu", torch.float64)


def spectral_radius(weight: torch.Tensor) -> float:
    """ρ(W) = max_i |λ_i(W)|, the largest eigenvalue modulus of a square matrix.

    ‖W^n‖^{1/n} → ρ(W): repeated multiplication by W grows like ρ^n in the long run.
    """
    matrix = _check_matrix("weight", weight, square=True)
    return torch.linalg.eigvals(matrix).abs().max().item()


GATE_NAMES = {"LSTM": ("i", "f", "g", "o"), "GRU": ("r", "z", "n")}


def _gate_names(module: nn.Module) -> tuple[str, ...] | None:
    name = type(module).__name__
    for kind, gates in GATE_NAMES.items():
        if kind in name:
            return gates
    return None


def recurrent_spectral_radii(module: nn.Module) -> dict[str, float]:
    """Spectral radius of every recurrent weight `weight_hh*` in `module`, by parameter name.

    An RNN's W_hh (H, H) gets one entry. An LSTM's or GRU's stacks its gates, (4H, H) or
    (3H, H), and is not square: it gets one entry per gate block, named like
    "weight_hh_l0[f]" (LSTM gates i, f, g, o; GRU gates r, z, n). Works for rnncourse and
    torch.nn modules alike, since both use torch.nn's names.
    """
    radii: dict[str, float] = {}
    for module_name, submodule in module.named_modules():
        for name, weight in submodule.named_parameters(recurse=False):
            if not name.startswith("weight_hh"):
                continue
            full_name = f"{module_name}.{name}" if module_name else name
            rows, columns = weight.shape
            gates = _gate_names(submodule)
            if gates is None and rows % columns == 0 and rows > columns:
                gates = tuple(str(k) for k in range(rows // columns))  # unknown gated cell
            if gates is None and rows == columns:  # an Elman RNN: W_hh itself
                radii[full_name] = spectral_radius(weight)
            elif gates is not None and rows == len(gates) * columns:
                for gate, block in zip(gates, weight.chunk(len(gates), dim=0), strict=True):
                    radii[f"{full_name}[{gate}]"] = spectral_radius(block)
            # else: a projected LSTM's (4H, P) weight has no square blocks; nothing to report
    return radii


def jacobian_norm_bound(weight: torch.Tensor, steps: int, gamma: float = 1.0) -> float:
    """Upper bound on ‖∂h_t/∂h_k‖ over t - k = `steps` steps (Pascanu, Mikolov, Bengio 2013):

        ‖∂h_t/∂h_k‖ ≤ ∏_{s=k+1}^{t} ‖diag(φ'(a_s))‖ ‖W‖ ≤ (γ σ_max(W))^{t-k}

    with σ_max(W) the largest singular value and γ ≥ |φ'|: 1 for tanh, 1/4 for the sigmoid.
    Below 1 the gradient is sure to vanish; above 1 it may (not must) explode.
    """
    matrix = _check_matrix("weight", weight, square=False)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    if not gamma > 0:
        raise ValueError(f"gamma must be positive (1 for tanh, 1/4 for sigmoid), got {gamma!r}")
    largest_singular_value = torch.linalg.matrix_norm(matrix, ord=2).item()  # σ_max(W)
    return (gamma * largest_singular_value) ** steps  # (γ σ_max)^(t-k)


def decay_rate_per_step(norms: torch.Tensor | Sequence[float]) -> float:
    """The per-step factor r with norms[t+1] ≈ r · norms[t], fitted in log space.

    Least squares on log n_t = a + b t gives r = e^b, the geometric mean ratio of successive
    norms (exactly so when they lie on a line in log space). r < 1: shrinking; r > 1: growing.

    For ‖∂L/∂h_t‖ with the loss at the end, the gradient shrinks going back in time: pass the
    norms in backward order (`result.hidden.flip(0)`) and r is the factor lost per step back,
    the measured counterpart of γ σ_max(W) in `jacobian_norm_bound`.
    """
    values = torch.as_tensor(norms, dtype=torch.float64).detach().cpu().flatten()
    if values.numel() < 2:
        raise ValueError(f"norms must hold at least 2 values, got {values.numel()}")
    if not (torch.isfinite(values).all() and (values > 0).all()):
        raise ValueError("norms must be positive and finite to fit a rate in log space")
    steps = torch.arange(values.numel(), dtype=torch.float64)
    log_norms = values.log()
    centred_steps = steps - steps.mean()
    # b = Σ (t - t̄)(log n_t - mean) / Σ (t - t̄)²
    slope = (centred_steps * (log_norms - log_norms.mean())).sum() / centred_steps.pow(2).sum()
    return math.exp(slope.item())  # r = e^b
