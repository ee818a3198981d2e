"""One small fit loop: optimiser, gradient clipping, device, progress bar, history, checkpoints.

Each step is `training_step`:

    loss = L(model(x), y);   g = ∇_θ loss;   record ‖g‖₂ (before clipping);
    g ← clip(g);             θ ← optimizer(θ, g)

and the loop stops early (with `History.diverged = True`) when the loss or the gradient norm
stops being finite, which is how exploding gradients show up in practice. Clipping is in
`clipping.py`, the record in `history.py`, checkpoints in `checkpoints.py`.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import torch
from torch import nn

from rnncourse.runtime import manual_seed, resolve_device
from rnncourse.training.checkpoints import save_checkpoint
from rnncourse.training.clipping import (
    clip_gradients_by_norm_,
    clip_gradients_by_value_,
    gradient_norm,
)
from rnncourse.training.history import History

__all__ = ["OPTIMIZERS", "StepResult", "fit", "make_optimizer", "training_step"]

Batch = tuple[Any, Any]
BatchSource = Callable[[int], Batch] | Iterable[Batch]
LossFunction = Callable[[Any, Any], torch.Tensor]

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "rmsprop": torch.optim.RMSprop,
    "sgd": torch.optim.SGD,
}


# ----------------------------------------------------------------------------------------------
# Pieces of a step


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


def move_to_device(value: Any, device: torch.device) -> Any:
    """Tensors (also inside tuples and lists, and PackedSequences) moved to `device`."""
    if isinstance(value, (tuple, list)):
        return type(value)(move_to_device(item, device) for item in value)
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
# One step


class StepResult(NamedTuple):
    """What one `training_step` measured: the loss and ‖g‖₂ before clipping, as floats."""

    loss: float
    grad_norm: float

    @property
    def finite(self) -> bool:
        return math.isfinite(self.loss) and math.isfinite(self.grad_norm)


def training_step(
    model: nn.Module,
    inputs: Any,
    targets: Any,
    loss_fn: LossFunction,
    optimizer: torch.optim.Optimizer,
    *,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    update_if_nonfinite: bool = False,
) -> StepResult:
    """One step of gradient descent on one batch, with optional clipping:

        loss = L(model(x), y),   g = ∇_θ loss,   g ← clip(g),   θ ← optimizer(θ, g)

    A model that returns a tuple (like torch.nn.RNN's `(output, h_n)`) has its first element
    used. When the loss or ‖g‖ is inf or nan, no update is made (the weights stay finite)
    unless `update_if_nonfinite`.
    """
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer.zero_grad(set_to_none=True)
    outputs = model(inputs)
    if isinstance(outputs, tuple):
        outputs = outputs[0]
    loss = loss_fn(outputs, targets)  # L(model(x), y)
    loss.backward()  # g = ∇_θ L, by backpropagation (through time, for a recurrent model)
    norm = gradient_norm(parameters).to(loss.device)  # ‖g‖₂ = sqrt(Σ_p ‖∂L/∂θ_p‖²)
    # Both numbers in one transfer: one device sync per step.
    result = StepResult(*torch.stack([loss.detach().float(), norm.float()]).tolist())
    if not result.finite and not update_if_nonfinite:
        return result
    if clip_norm is not None:
        clip_gradients_by_norm_(parameters, clip_norm)  # g ← g · min(1, c / ‖g‖)
    elif clip_value is not None:
        clip_gradients_by_value_(parameters, clip_value)  # g_i ← max(-c, min(c, g_i))
    optimizer.step()  # θ ← θ - η g for SGD; Adam and RMSProp rescale g first
    return result


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
            inputs, targets = move_to_device(batch, device)
            result = training_step(model, inputs, targets, loss_fn, optimizer,
                                   clip_norm=clip_norm, clip_value=clip_value,
                                   update_if_nonfinite=not stop_on_nonfinite)
            history.step.append(step)
            history.loss.append(result.loss)
            history.grad_norm.append(result.grad_norm)
            if not result.finite:
                history.diverged = True
                if stop_on_nonfinite:  # training_step made no update: the weights stay finite
                    break

            if evaluate is not None and eval_every is not None and (step + 1) % eval_every == 0:
                run_evaluation(step)
            if bar is not None:
                bar.set_postfix(loss=f"{result.loss:.4g}", refresh=False)
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
