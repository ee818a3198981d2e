"""One small fit loop: optimiser, gradient clipping, device, progress bar, history, checkpoints.

Each step is

    loss = L(model(x), y);   g = ∇_θ loss;   record ‖g‖₂ (before clipping);
    g ← clip(g);             θ ← optimizer(θ, g)

and the loop stops early (with `History.diverged = True`) when the loss or the gradient norm
stops being finite, which is how exploding gradients show up in practice.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rnncourse.runtime import manual_seed, resolve_device

__all__ = [
    "History",
    "fit",
    "gradient_norm",
    "load_checkpoint",
    "make_optimizer",
    "save_checkpoint",
]

Batch = tuple[Any, Any]
BatchSource = Callable[[int], Batch] | Iterable[Batch]
LossFunction = Callable[[Any, Any], torch.Tensor]

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}


@dataclass
class History:
    """What happened during `fit`, as plain lists and numbers (easy to plot, save and compare).

    `step[i]`, `loss[i]` and `grad_norm[i]` belong together: the training loss at step i and the
    2-norm of the full gradient before clipping. `eval_loss[j]` was measured after `eval_step[j]`.
    `diverged` is True once a loss or gradient norm was inf or nan; `seconds` is wall time.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    diverged: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A dict of lists, floats and a bool: what `torch.save` and `json.dump` can both take."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> History:
        return cls(**values)


# ----------------------------------------------------------------------------------------------
# Pieces of a step


def gradient_norm(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """Total gradient 2-norm over all parameters, ‖g‖₂ = sqrt(Σ_p ‖g_p‖₂²), as a 0-d tensor.

    The same number `torch.nn.utils.clip_grad_norm_` returns; parameters without a gradient
    are left out.
    """
    norms = [p.grad.detach().norm(2) for p in parameters if p.grad is not None]
    if not norms:
        return torch.tensor(0.0)
    return torch.linalg.vector_norm(torch.stack(norms), 2)


def make_optimizer(
    optimizer: str | torch.optim.Optimizer, parameters: Iterable[nn.Parameter], lr: float
) -> torch.optim.Optimizer:
    """An optimizer from its name ("adam", "rmsprop", "sgd"), or the one given unchanged."""
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if not isinstance(optimizer, str):
        raise TypeError(
            f"optimizer must be a name ({', '.join(OPTIMIZERS)}) or a torch.optim.Optimizer, "
            f"got {type(optimizer).__name__}"
        )
    name = optimizer.lower()
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    return OPTIMIZERS[name](parameters, lr=lr)


def _move(value: Any, device: torch.device) -> Any:
    """Tensors (also inside tuples and lists, and PackedSequences) moved to `device`."""
    if isinstance(value, (tuple, list)):
        return type(value)(_move(item, device) for item in value)
    return value.to(device) if hasattr(value, "to") else value


def _batch_stream(batches: BatchSource) -> Callable[[int], Batch | None]:
    """`step -> batch`, or None when an iterable has run out.

    A re-iterable (a list, a DataLoader) starts over when it ends, like epochs; a one-shot
    iterator (a generator) ends training when it is exhausted.
    """
    if callable(batches):
        return batches
    if not isinstance(batches, Iterable):
        raise TypeError(
            "batches must be a callable step -> (inputs, targets) or an iterable of such pairs, "
            f"got {type(batches).__name__}"
        )
    iterator: Iterator[Batch] = iter(batches)

    def next_batch(step: int) -> Batch | None:
        nonlocal iterator
        try:
            return next(iterator)
        except StopIteration:
            iterator = iter(batches)  # a new epoch; a spent generator gives itself back
            return next(iterator, None)

    return next_batch


def _show_progress(progress: bool | None) -> bool:
    """Auto (None): only in a terminal, never under CI or nbgrader (which fails cells that
    write to stderr)."""
    if progress is not None:
        return bool(progress)
    if os.environ.get("CI") or os.environ.get("NBGRADER_EXECUTION"):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty is not None and isatty())


def _check_arguments(
    steps: int,
    lr: float,
    clip_norm: float | None,
    clip_value: float | None,
    evaluate: Callable[[nn.Module], float] | None,
    eval_every: int | None,
) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if clip_norm is not None and clip_value is not None:
        raise ValueError("give clip_norm or clip_value, not both")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"clip_norm must be positive (or None for no clipping), got {clip_norm!r}")
    if clip_value is not None and not clip_value > 0:
        raise ValueError(
            f"clip_value must be positive (or None for no clipping), got {clip_value!r}"
        )
    if eval_every is not None:
        if evaluate is None:
            raise ValueError("eval_every was given without an evaluate function")
        if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 1:
            raise ValueError(f"eval_every must be a positive int, got {eval_every!r}")


# ----------------------------------------------------------------------------------------------
# The loop


def fit(
    model: nn.Module,
    batches: BatchSource,
    loss_fn: LossFunction,
    *,
    steps: int,
    optimizer: str | torch.optim.Optimizer = "adam",
    lr: float = 1e-3,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    device: str | torch.device | None = None,
    seed: int | None = None,
    progress: bool | None = None,
    evaluate: Callable[[nn.Module], float] | None = None,
    eval_every: int | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    stop_on_nonfinite: bool = True,
) -> History:
    """Train `model` in place for `steps` optimiser steps and return its `History`.

    - `batches`: a callable `step -> (inputs, targets)` (so a curriculum can change the
      sequence length with the step) or an iterable of pairs; both are moved to `device`.
    - `loss_fn(outputs, targets)`: a scalar tensor, e.g. `task.loss`. A model that returns a
      tuple (like `torch.nn.RNN`'s `(output, h_n)`) has its first element used.
    - `optimizer`: "adam", "rmsprop" or "sgd" with learning rate `lr`, or an optimizer built on
      `model.parameters()` (then `lr` is not used).
    - Clipping: `clip_norm` rescales g to ‖g‖₂ ≤ clip_norm when larger (Pascanu et al. 2013);
      `clip_value` clamps each component to [-clip_value, clip_value]. `History.grad_norm`
      is always the norm before clipping.
    - `evaluate(model) -> float` runs under `torch.no_grad()` in eval mode after every
      `eval_every` steps and after the last one (only after the last if `eval_every` is None).
    - Divergence: when the loss or gradient norm is inf or nan, it is recorded and
      `History.diverged` is set; with `stop_on_nonfinite` training stops there, before the
      update reaches the weights.
    - `seed` seeds torch before training; `checkpoint_path` saves model, optimizer and history
      at the end (see `load_checkpoint`).
    - `progress`: a tqdm bar on stderr; None shows it only in a terminal outside CI and
      nbgrader. When off, nothing is written to stderr.
    """
    _check_arguments(steps, lr, clip_norm, clip_value, evaluate, eval_every)
    if seed is not None:
        manual_seed(seed)
    device = resolve_device(device)
    model.to(device)
    optimizer = make_optimizer(optimizer, model.parameters(), lr)
    next_batch = _batch_stream(batches)
    parameters = [p for p in model.parameters() if p.requires_grad]
    history = History()
    was_training = model.training

    bar = None
    if _show_progress(progress):
        from tqdm import tqdm  # imported only when shown

        bar = tqdm(total=steps, desc="fit", file=sys.stderr, dynamic_ncols=True)

    def run_evaluation(step: int) -> None:
        model.eval()
        with torch.no_grad():
            value = evaluate(model)
        model.train()
        history.eval_step.append(step)
        history.eval_loss.append(float(value))

    start = time.perf_counter()
    try:
        model.train()
        for step in range(steps):
            batch = next_batch(step)
            if batch is None:  # a one-shot iterable ran out
                break
            inputs, targets = _move(batch, device)

            optimizer.zero_grad(set_to_none=True)
            outputs = model(inputs)
            if isinstance(outputs, tuple):
                outputs = outputs[0]
            loss = loss_fn(outputs, targets)
            loss.backward()

            # ‖g‖₂ = sqrt(Σ_p ‖∂L/∂θ_p‖²), before clipping; one device sync for both numbers.
            norm = gradient_norm(parameters).to(loss.device)
            loss_value, norm_value = torch.stack([loss.detach().float(), norm.float()]).tolist()
            history.step.append(step)
            history.loss.append(loss_value)
            history.grad_norm.append(norm_value)

            if not (math.isfinite(loss_value) and math.isfinite(norm_value)):
                history.diverged = True
                if stop_on_nonfinite:  # before optimizer.step(): the weights stay finite
                    break
            if clip_norm is not None:
                nn.utils.clip_grad_norm_(parameters, clip_norm)  # g ← g · min(1, c / ‖g‖)
            elif clip_value is not None:
                nn.utils.clip_grad_value_(parameters, clip_value)  # g_i ← clamp(g_i, -c, c)
            optimizer.step()

            if evaluate is not None and eval_every is not None and (step + 1) % eval_every == 0:
                run_evaluation(step)
            if bar is not None:
                bar.set_postfix(loss=f"{loss_value:.4g}", refresh=False)
                bar.update(1)

        last_step = history.step[-1] if history.step else None
        if evaluate is not None and last_step is not None:
            if not history.eval_step or history.eval_step[-1] != last_step:
                run_evaluation(last_step)
    finally:
        history.seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
        model.train(was_training)

    if checkpoint_path is not None:
        save_checkpoint(checkpoint_path, model, optimizer, history)
    return history


# ----------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    history: History | None = None,
) -> None:
    """Save model state, optimizer state and history to `path` (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "history": history.to_dict() if history is not None else None,
    }
    torch.save(checkpoint, path)


def load_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    map_location: str | torch.device | None = None,
) -> History | None:
    """Load a checkpoint saved by `fit` into `model` (and `optimizer`); return its history.

    Tensors are read onto `map_location` (default: the CPU, which works whatever device saved
    them) and then copied onto the device the model's parameters are on, so a GPU checkpoint
    loads on a laptop and the other way round.
    """
    checkpoint = torch.load(
        path, map_location=map_location if map_location is not None else "cpu", weights_only=True
    )
    model.load_state_dict(checkpoint["model"])
    if optimizer is not None:
        if checkpoint["optimizer"] is None:
            raise ValueError(f"{path} holds no optimizer state to load into optimizer")
        optimizer.load_state_dict(checkpoint["optimizer"])  # moves state to the parameters' device
    history = checkpoint["history"]
    return History.from_dict(history) if history is not None else None
