"""Chapter 1: one model trained on one synthetic task, scored beside the task's memoryless
baseline (`train_on_task`); the adding and copy experiments (`memory_tasks.py`) repeat it.

The model is a `RecurrentModel` (torch.nn's fused core, cuDNN on a GPU), trained by
`rnncourse.training.fit` on fresh batches from a seeded generator, with gradient clipping by norm
(Pascanu et al. 2013) or element by element (Arjovsky et al. 2016's code), and evaluated on a
held-out batch drawn from a separate stream.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import torch

from rnncourse.data.synthetic import AddingTask, CopyTask
from rnncourse.models.recurrent_model import CELLS
from rnncourse.runtime import resolve_device
from rnncourse.training import OPTIMIZERS, fit, make_optimizer
from rnncourse.training.task_training import (
    build_task_model,
    score_held_out,
    training_batches,
)

__all__ = ["TEST_SEED_OFFSET", "TaskRun", "TrainingSettings", "check_cell", "train_on_task"]


# A run's training batches come from a generator seeded with seed + 1, its held-out batch from
# seed + TEST_SEED_OFFSET: a separate stream, so no test sequence is also a training one.
TEST_SEED_OFFSET = 10_007


@dataclass(frozen=True)
class TrainingSettings:
    """How one model is trained: sizes, optimiser and clipping.

    Clipping is by norm, g ← g · min(1, c / ‖g‖₂) with c = `clip_norm` (Pascanu et al. 2013), or
    element by element, g_i ← max(−c, min(c, g_i)) with c = `clip_value` (what Arjovsky et al.
    2016's code does); at most one of the two. `rmsprop_decay` is the decay of RMSProp's running
    average of squared gradients (torch's `alpha`, default 0.99; Arjovsky et al. use 0.9).
    """

    hidden_size: int = 32
    steps: int = 1500
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-2
    clip_norm: float | None = 1.0
    clip_value: float | None = None
    rmsprop_decay: float = 0.99
    forget_gate_bias: float | None = 1.0  # LSTM only: start with f_t ≈ σ(1) ≈ 0.73
    test_size: int = 1000

    def __post_init__(self) -> None:
        for name in ("hidden_size", "steps", "batch_size", "test_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        for name in ("clip_norm", "clip_value"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive or None (no clipping), got {value!r}")
        if self.clip_norm is not None and self.clip_value is not None:
            raise ValueError("give clip_norm or clip_value, not both")
        if not 0 < self.rmsprop_decay < 1:
            raise ValueError(f"rmsprop_decay must lie in (0, 1), got {self.rmsprop_decay!r}")

    def describe(self) -> str:
        """One line for the page: what was run."""
        if self.clip_norm is not None:
            clip = f"clipping by norm at {self.clip_norm:g}"
        elif self.clip_value is not None:
            clip = f"clipping element-wise at ±{self.clip_value:g}"
        else:
            clip = "no clipping"
        optimizer = self.optimizer
        if optimizer == "rmsprop":
            optimizer += f" (decay {self.rmsprop_decay:g})"
        return (
            f"hidden {self.hidden_size}, {self.steps} steps of {optimizer} "
            f"(lr {self.lr:g}) on batches of {self.batch_size}, {clip}"
        )

    def make_optimizer(self, parameters: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
        """The optimiser these settings name, on `parameters` (RMSProp with `rmsprop_decay`).

        Adam on a CPU or a CUDA device runs fused: one kernel updates every parameter, where
        the loop over parameters would cost more than the update itself for a small model.
        """
        parameters = list(parameters)
        if self.optimizer == "rmsprop":
            return torch.optim.RMSprop(parameters, lr=self.lr, alpha=self.rmsprop_decay)
        if self.optimizer == "adam" and {p.device.type for p in parameters} <= {"cpu", "cuda"}:
            return torch.optim.Adam(parameters, lr=self.lr, fused=True)
        return make_optimizer(self.optimizer, parameters, self.lr)



@dataclass
class TaskRun:
    """One trained model on one task: its held-out loss beside the task's memoryless baseline.

    `length` is the sequence length T of the adding problem or the delay T of copy memory.
    For copy memory `accuracy` is the fraction of copied symbols predicted right and
    `position_accuracy[i]` the same for the i-th symbol alone (chance: 1/K); both are None for
    the adding problem. `train_loss` holds the training loss of every step.
    """

    task: str
    cell: str
    length: int
    hidden_size: int
    test_loss: float
    baseline_loss: float
    train_loss: list[float]
    seconds: float
    diverged: bool = False
    accuracy: float | None = None
    position_accuracy: list[float] | None = None

    @property
    def loss_over_baseline(self) -> float:
        """test loss / baseline loss: 1 means nothing long-range was learned, 0 is perfect."""
        return self.test_loss / self.baseline_loss


def check_cell(cell: str) -> str:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(map(repr, CELLS))}; got {cell!r}")
    return cell


def train_on_task(
    task: AddingTask | CopyTask,
    cell: str,
    settings: TrainingSettings,
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> TaskRun:
    """Train a `RecurrentModel(cell)` on `task` with `settings`; evaluate on a held-out batch.

    The model (torch.nn's fused core, cuDNN on a GPU) starts from weights seeded with `seed`;
    an LSTM gets forget-gate bias `settings.forget_gate_bias`. Each step draws a fresh batch
    from a generator seeded with seed + 1; the test batch of `settings.test_size` sequences
    comes from seed + TEST_SEED_OFFSET. Returns the test loss (MSE or cross entropy, as
    `task.loss`) beside `task.baseline_loss()`.
    """
    if not isinstance(task, (AddingTask, CopyTask)):
        raise TypeError(f"task must be an AddingTask or a CopyTask, got {type(task).__name__}")
    check_cell(cell)
    if not isinstance(settings, TrainingSettings):
        raise TypeError(f"settings must be TrainingSettings, got {type(settings).__name__}")
    device = resolve_device(device)
    model = build_task_model(cell, task, settings.hidden_size,
                             forget_gate_bias=settings.forget_gate_bias, device=device, seed=seed)
    history = fit(
        model,
        training_batches(task, settings.batch_size, seed + 1),  # same batches on every device
        task.loss,
        steps=settings.steps,
        optimizer=settings.make_optimizer(model.parameters()),
        clip_norm=settings.clip_norm,
        clip_value=settings.clip_value,
        device=device,
        seed=seed,
        progress=False,
    )

    start = time.perf_counter()
    inputs, targets = task.sample(settings.test_size, seed=seed + TEST_SEED_OFFSET, device=device)
    score = score_held_out(model, task, inputs, targets)
    return TaskRun(
        task="copy" if isinstance(task, CopyTask) else "adding",
        cell=cell,
        length=task.delay if isinstance(task, CopyTask) else task.seq_len,
        hidden_size=settings.hidden_size,
        test_loss=score.loss,
        baseline_loss=task.baseline_loss(),
        train_loss=history.loss,
        seconds=history.seconds + time.perf_counter() - start,
        diverged=history.diverged,
        accuracy=score.accuracy,
        position_accuracy=score.position_accuracy,
    )
