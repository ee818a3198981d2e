"""Chapter 2, the cliff: the loss of a one-unit RNN over its recurrent weight and bias (the
picture of Pascanu, Mikolov and Bengio 2013, Fig. 6), and gradient steps taken at its wall with
and without norm clipping.

    x_t = w σ(x_{t-1}) + b,   x_0 = 0.5,   L(w, b) = (x_50 - 0.7)²
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = [
    "CliffSlice",
    "CliffStep",
    "CliffSurface",
    "cliff_slice",
    "cliff_surface",
    "one_unit_rnn_loss",
    "step_at_the_wall",
    "wall_bias",
]

# --------------------------------------------------------------------------------------------
# The cliff: a one-unit RNN
# --------------------------------------------------------------------------------------------

def one_unit_rnn_loss(
    w: torch.Tensor, b: torch.Tensor, steps: int = 50, x0: float = 0.5, target: float = 0.7
) -> torch.Tensor:
    """L(w, b) = (x_T - target)² for the one-unit RNN x_t = w σ(x_{t-1}) + b from x_0 = `x0`.

    Elementwise over tensors w and b of one shape (a grid of parameters at once). With
    w σ'(x) > 1 the map has two attractors; which one x_T lands on decides the loss.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    w, b = torch.broadcast_tensors(w, b)
    x = torch.full_like(w, x0)
    for _ in range(steps):
        x = w * torch.sigmoid(x) + b  # x_t = w σ(x_{t-1}) + b
    return (x - target) ** 2


def wall_bias(w: float, x0: float = 0.5) -> float:
    """The bias at which x_0 is a fixed point, b* = x_0 - w σ(x_0): the line of the wall.

    For w σ'(x_0) > 1 that fixed point is unstable: a state that starts a little above it runs
    to the upper attractor, a little below to the lower one, so the loss jumps across b = b*(w).
    """
    return x0 - w * (1.0 / (1.0 + math.exp(-x0)))


@dataclass
class CliffSurface:
    """L(w, b) on a grid: `loss[i, j]` at weight `weights[i]` and bias `biases[j]`."""

    weights: torch.Tensor
    biases: torch.Tensor
    loss: torch.Tensor
    steps: int
    x0: float
    target: float


def cliff_surface(
    weight_range: tuple[float, float] = (1.5, 7.0),
    bias_range: tuple[float, float] = (-4.5, 0.0),
    resolution: int = 241,
    steps: int = 50,
    x0: float = 0.5,
    target: float = 0.7,
) -> CliffSurface:
    """The loss of `one_unit_rnn_loss` on a resolution × resolution grid (float64)."""
    weights = torch.linspace(*weight_range, resolution, dtype=torch.float64)
    biases = torch.linspace(*bias_range, resolution, dtype=torch.float64)
    grid_w, grid_b = torch.meshgrid(weights, biases, indexing="ij")
    loss = one_unit_rnn_loss(grid_w, grid_b, steps, x0, target)
    return CliffSurface(weights, biases, loss, steps, x0, target)


def _loss_and_gradient(
    w: torch.Tensor, b: torch.Tensor, steps: int, x0: float, target: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """L(w, b), ∂L/∂w and ∂L/∂b, elementwise (each point's loss depends on its own w, b only,
    so the gradient of the sum gives every point's own gradient), by autograd."""
    w = w.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    loss = one_unit_rnn_loss(w, b, steps, x0, target)
    grad_w, grad_b = torch.autograd.grad(loss.sum(), (w, b))
    return loss.detach(), grad_w, grad_b


@dataclass
class CliffSlice:
    """Loss and gradient norm along b at one weight w, across the wall at `wall`."""

    weight: float
    wall: float
    biases: torch.Tensor
    loss: torch.Tensor
    gradient_norm: torch.Tensor


def cliff_slice(
    weight: float = 5.0,
    half_width: float = 0.6,
    points: int = 2001,
    steps: int = 50,
    x0: float = 0.5,
    target: float = 0.7,
) -> CliffSlice:
    """L and ‖∇L‖ along b ∈ [b* - half_width, b* + half_width] at w = `weight`, with extra
    points packed geometrically towards the wall b* (down to 1e-9 from it), where ‖∇L‖ peaks."""
    wall = wall_bias(weight, x0)
    even = torch.linspace(-half_width, half_width, points, dtype=torch.float64)
    near = torch.logspace(-9, math.log10(half_width), points // 4, dtype=torch.float64)
    offsets = torch.cat([even, near, -near]).unique()  # sorted
    biases = wall + offsets
    loss, grad_w, grad_b = _loss_and_gradient(
        torch.full_like(biases, weight), biases, steps, x0, target
    )
    gradient_norm = torch.hypot(grad_w, grad_b)  # ‖∇L‖ = sqrt((∂L/∂w)² + (∂L/∂b)²)
    return CliffSlice(weight, wall, biases, loss, gradient_norm)


@dataclass
class CliffStep:
    """Gradient steps θ ← θ - lr · g from `start` = (w, b) on the wall: one without clipping,
    and `clipped_path`, the points (and `clipped_losses`) of several steps with norm clipping."""

    start: tuple[float, float]
    gradient: tuple[float, float]
    lr: float
    clip_norm: float
    loss_start: float
    unclipped_end: tuple[float, float]
    loss_unclipped: float
    clipped_path: list[tuple[float, float]]
    clipped_losses: list[float]

    @property
    def clipped_end(self) -> tuple[float, float]:
        """Where the first clipped step lands."""
        return self.clipped_path[1]

    @property
    def loss_clipped(self) -> float:
        """The loss after the first clipped step."""
        return self.clipped_losses[1]

    @property
    def gradient_norm(self) -> float:
        return math.hypot(*self.gradient)

    @property
    def unclipped_length(self) -> float:
        """‖lr · g‖: how far the unclipped step moves the parameters."""
        return self.lr * self.gradient_norm

    @property
    def clipped_length(self) -> float:
        """‖lr · g · min(1, c/‖g‖)‖ ≤ lr · c."""
        return self.lr * min(self.gradient_norm, self.clip_norm)


def step_at_the_wall(
    weight: float = 5.0,
    offset: float = 1e-4,
    lr: float = 0.3,
    clip_norm: float = 1.0,
    clipped_steps: int = 60,
    steps: int = 50,
    x0: float = 0.5,
    target: float = 0.7,
) -> CliffStep:
    """Start at (w, b* + offset), on the face of the wall, and take one gradient step of size
    `lr` with the raw gradient, and `clipped_steps` steps with the gradient clipped to norm
    `clip_norm`: g ← g · min(1, c/‖g‖)."""
    if not lr > 0 or not clip_norm > 0:
        raise ValueError(
            f"lr and clip_norm must be positive, got lr={lr!r}, clip_norm={clip_norm!r}"
        )
    if isinstance(clipped_steps, bool) or not isinstance(clipped_steps, int) or clipped_steps < 1:
        raise ValueError(f"clipped_steps must be a positive int, got {clipped_steps!r}")

    def loss_and_gradient(point: torch.Tensor) -> tuple[float, torch.Tensor]:
        """L and g = ∇L = (∂L/∂w, ∂L/∂b) at `point` = (w, b)."""
        loss, grad_w, grad_b = _loss_and_gradient(point[0], point[1], steps, x0, target)
        return loss.item(), torch.stack([grad_w, grad_b])

    start = torch.tensor([weight, wall_bias(weight, x0) + offset], dtype=torch.float64)
    loss_start, gradient = loss_and_gradient(start)
    unclipped = start - lr * gradient  # θ - lr g
    path, losses, point, loss, point_gradient = [start], [loss_start], start, loss_start, gradient
    for _ in range(clipped_steps):
        scale = torch.clamp(clip_norm / point_gradient.norm(), max=1.0)  # min(1, c/‖g‖)
        point = point - lr * point_gradient * scale  # θ - lr g min(1, c/‖g‖)
        loss, point_gradient = loss_and_gradient(point)
        path.append(point)
        losses.append(loss)
    return CliffStep(
        start=tuple(start.tolist()),
        gradient=tuple(gradient.tolist()),
        lr=lr,
        clip_norm=clip_norm,
        loss_start=loss_start,
        unclipped_end=tuple(unclipped.tolist()),
        loss_unclipped=one_unit_rnn_loss(unclipped[0], unclipped[1], steps, x0, target).item(),
        clipped_path=[tuple(p.tolist()) for p in path],
        clipped_losses=losses,
    )
