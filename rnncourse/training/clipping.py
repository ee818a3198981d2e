"""Gradient clipping, the remedy for exploding gradients (Pascanu, Mikolov and Bengio 2013).

With g the gradient of the loss with respect to all parameters, stacked into one vector:

    by norm:    g ← g · min(1, c / ‖g‖₂)        keeps the direction, caps the length at c
    by value:   g_i ← max(-c, min(c, g_i))      caps each coordinate; turns the update

Both act in place on the `.grad` of each parameter, after `loss.backward()` and before
`optimizer.step()`; `rnncourse.training.fit` calls them. They compute exactly what
`torch.nn.utils.clip_grad_norm_` and `clip_grad_value_` compute (the tests check it).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import torch

__all__ = ["clip_gradients_by_norm_", "clip_gradients_by_value_", "gradient_norm"]


def gradient_norm(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """Total gradient 2-norm over all parameters, ‖g‖₂ = sqrt(Σ_p ‖g_p‖₂²), as a 0-d tensor.

    The same number `torch.nn.utils.clip_grad_norm_` returns; parameters without a gradient
    are left out.
    """
    norms = [p.grad.detach().norm(2) for p in parameters if p.grad is not None]
    if not norms:
        return torch.tensor(0.0)
    return torch.linalg.vector_norm(torch.stack(norms), 2)


def _check_threshold(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


@torch.no_grad()
def clip_gradients_by_norm_(parameters: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Rescale the gradients in place so that their total norm is at most `max_norm` = c:

        g ← g · min(1, c / ‖g‖₂)

    and return ‖g‖₂ before clipping. (As in torch, c / (‖g‖ + 10⁻⁶): no division by zero.)
    """
    max_norm = _check_threshold("max_norm", max_norm)
    parameters = [p for p in parameters if p.grad is not None]
    norm = gradient_norm(parameters)  # ‖g‖₂ = sqrt(Σ_p ‖g_p‖²)
    scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)  # min(1, c / ‖g‖)
    for parameter in parameters:
        parameter.grad.mul_(scale.to(parameter.grad.device))  # g_p ← g_p · min(1, c / ‖g‖)
    return norm


@torch.no_grad()
def clip_gradients_by_value_(parameters: Iterable[torch.Tensor], limit: float) -> None:
    """Clamp every coordinate of every gradient in place to [-c, c], c = `limit`:

        g_i ← max(-c, min(c, g_i))
    """
    limit = _check_threshold("limit", limit)
    for parameter in parameters:
        if parameter.grad is not None:
            parameter.grad.clamp_(-limit, limit)  # g_i ← max(-c, min(c, g_i))
