"""Initialising recurrent weights: the knob chapter 2 turns.

Gradients through time are products of Jacobians ∂h_t/∂h_{t-1} = diag(φ'(·)) W_hh, so the
spectrum of W_hh at initialisation decides whether they shrink or grow (Pascanu et al. 2013):

* "default": torch's U(-1/√H, 1/√H), redrawn (seeded when a seed is given);
* "orthogonal": W_hh orthogonal, all singular values 1 (Saxe et al. 2014; Arjovsky et al. 2016);
* "identity": W_hh = I and zero biases, the IRNN of Le, Jaitly and Hinton 2015;

each optionally rescaled to a chosen spectral radius ρ(W) = max |λ_i(W)|. For an LSTM or GRU,
each gate's H×H block of weight_hh is set separately. Works on rnncourse's modules and
torch.nn's alike, and on any module that holds them (a `RecurrentModel`, for instance).
"""

from __future__ import annotations

import math
import numbers
import re

import torch
from torch import Tensor, nn

from rnncourse.checks import check_choice

__all__ = ["SCHEMES", "initialize_recurrent_weights", "set_forget_gate_bias"]

SCHEMES = ("default", "orthogonal", "identity")

# weight_hh of a cell, weight_hh_l0, weight_hh_l1, ... of a sequence module (torch's or ours).
_RECURRENT_WEIGHT = re.compile(r"weight_hh(?P<suffix>_l\d+)?")


def _spectral_radius(matrix: Tensor) -> float:
    """ρ(W) = max_i |λ_i(W)|, the largest eigenvalue modulus of a square matrix."""
    return torch.linalg.eigvals(matrix.detach().to("cpu", torch.float64)).abs().max().item()


def _recurrent_weights(module: nn.Module) -> list[tuple[nn.Module, str, str]]:
    """(owner, parameter name, layer suffix) of every recurrent weight matrix inside `module`."""
    found = []
    for owner in module.modules():
        for name, _ in owner.named_parameters(recurse=False):
            match = _RECURRENT_WEIGHT.fullmatch(name)
            if match:
                found.append((owner, name, match["suffix"] or ""))
    return found


def _draw_block(scheme: str, size: int, generator: torch.Generator | None) -> Tensor:
    """One H×H recurrent block on the CPU, so a seed gives the same weights on any device."""
    if scheme == "identity":
        return torch.eye(size)
    block = torch.empty(size, size)
    if scheme == "orthogonal":
        return nn.init.orthogonal_(block, generator=generator)  # Q of a QR decomposition
    bound = 1.0 / math.sqrt(size)
    return nn.init.uniform_(block, -bound, bound, generator=generator)  # torch's default


@torch.no_grad()
def initialize_recurrent_weights(
    module: nn.Module,
    scheme: str = "default",
    spectral_radius: float | None = None,
    seed: int | None = None,
) -> nn.Module:
    """Set every recurrent matrix W_hh in `module`, gate block by gate block; returns `module`.

    scheme: "default" (U(-1/√H, 1/√H)), "orthogonal", or "identity" (IRNN: W_hh = I and the
        biases bias_ih, bias_hh of the same layer set to zero).
    spectral_radius: when given, each block W is rescaled to W · ρ_target / ρ(W), so that its
        largest eigenvalue modulus is exactly `spectral_radius`.
    seed: draws come from a generator seeded with it (else from torch's global RNG).
    """
    check_choice("scheme", scheme, SCHEMES)
    target = spectral_radius
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, numbers.Real) or not target > 0
    ):
        raise ValueError(f"spectral_radius must be a positive number or None, got {target!r}")
    weights = _recurrent_weights(module)
    if not weights:
        raise ValueError(
            f"{type(module).__name__} holds no recurrent weight (a parameter named weight_hh or "
            "weight_hh_l<k>) to initialise"
        )
    generator = None if seed is None else torch.Generator().manual_seed(int(seed))
    for owner, name, suffix in weights:
        weight = getattr(owner, name)
        size = weight.shape[1]
        if getattr(owner, "proj_size", 0) or weight.shape[0] % size:
            raise ValueError(
                f"{name} of {type(owner).__name__} has shape {tuple(weight.shape)}: expected "
                "stacked square gate blocks (num_gates·H, H); proj_size is not supported"
            )
        for gate in range(weight.shape[0] // size):
            block = _draw_block(scheme, size, generator)
            if target is not None:
                radius = _spectral_radius(block)
                if radius == 0:
                    raise ValueError(f"cannot rescale a block with spectral radius 0 in {name}")
                block = block * (target / radius)
            weight[gate * size : (gate + 1) * size].copy_(block)
        if scheme == "identity":  # IRNN: h_t = relu(x-part + h_{t-1}) starts out as a running sum
            for bias_name in (f"bias_ih{suffix}", f"bias_hh{suffix}"):
                bias = getattr(owner, bias_name, None)
                if bias is not None:
                    bias.zero_()
    return module


def _is_lstm(module: nn.Module) -> bool:
    return isinstance(module, (nn.LSTM, nn.LSTMCell)) or getattr(module, "mode", None) == "LSTM"


@torch.no_grad()
def set_forget_gate_bias(lstm_module: nn.Module, value: float = 1.0) -> nn.Module:
    """Start every LSTM in `lstm_module` with forget-gate bias b_if + b_hf = `value`.

    A positive bias opens the forget gate, f_t = σ(... + value) ≈ 1, so the cell c_t and its
    gradient pass through many steps at the start of training (Gers et al. 2000; Jozefowicz
    et al. 2015). Sets the f slice (rows H..2H, gate order i, f, g, o) of bias_ih to `value`
    and of bias_hh to 0. Returns `lstm_module`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"value must be a number, got {type(value).__name__}")
    lstms = [m for m in lstm_module.modules() if _is_lstm(m)]
    if not lstms:
        raise ValueError(
            "set_forget_gate_bias needs an LSTM or LSTMCell (or a module that holds one), "
            f"got {type(lstm_module).__name__}"
        )
    for lstm in lstms:
        if not lstm.bias:
            raise ValueError(f"{type(lstm).__name__} was built with bias=False: no bias to set")
        size = lstm.hidden_size
        forget = slice(size, 2 * size)
        for name, parameter in lstm.named_parameters(recurse=False):
            if re.fullmatch(r"bias_ih(_l\d+)?", name):
                parameter[forget] = value
            elif re.fullmatch(r"bias_hh(_l\d+)?", name):
                parameter[forget] = 0.0
    return lstm_module
