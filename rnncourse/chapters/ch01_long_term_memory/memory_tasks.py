"""Chapter 1, part 2: what vanishing gradients cost on tasks that need a long memory.

* The adding problem (`run_adding_problem`): the target y = u_p + u_q depends on two values
  marked early in a sequence of length T. A model that learns nothing long-range predicts the
  mean and scores MSE 1/6; Arjovsky, Shah and Bengio (2016, Fig. 2) find that an LSTM beats that
  baseline up to T = 400 while a tanh RNN never does.
* Copy memory (`run_copy_capacity`): L symbols from K must be held for a delay T and written out.
  The memoryless strategy scores L ln K / (T + 2L); the experiment measures how far a trained
  LSTM gets below it as the delay grows, and how recall falls with fewer hidden units.

Every run trains one `RecurrentModel` with `rnncourse.training.fit` on fresh batches drawn from a
seeded generator and evaluates it on a held-out batch. The chapter's CPU settings are small; the
paper's (in `settings.py`) run on a GPU with `rnncourse run ch01 --scale paper`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import torch

from rnncourse.data.synthetic import AddingTask, CopyTask
from rnncourse.models.recurrent_model import CELLS
from rnncourse.runtime import resolve_device
from rnncourse.training import OPTIMIZERS, fit
from rnncourse.training.task_training import (
    build_task_model,
    score_held_out,
    training_batches,
)

__all__ = [
    "COPY_PAPER_DELAYS",
    "AddingResult",
    "CopyCapacityResult",
    "TaskRun",
    "TrainingSettings",
    "run_adding_problem",
    "run_copy_capacity",
    "train_on_task",
]

# A run's training batches come from a generator seeded with seed + 1, its held-out batch from
# seed + TEST_SEED_OFFSET: a separate stream, so no test sequence is also a training one.
TEST_SEED_OFFSET = 10_007


@dataclass(frozen=True)
class TrainingSettings:
    """How one model is trained: sizes, optimiser and clipping (norm clipping, Pascanu 2013)."""

    hidden_size: int = 32
    steps: int = 1500
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-2
    clip_norm: float | None = 1.0
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

    def describe(self) -> str:
        """One line for the page: what was run."""
        clip = f"norm clipping at {self.clip_norm:g}" if self.clip_norm else "no clipping"
        return (
            f"hidden {self.hidden_size}, {self.steps} steps of {self.optimizer} "
            f"(lr {self.lr:g}) on batches of {self.batch_size}, {clip}"
        )


# The delays of Arjovsky et al. (2016)'s copy-memory experiment, where they report the
# memoryless baseline 10 ln 8 / (T + 20) that `CopyCapacityResult.paper_baselines` recomputes.
COPY_PAPER_DELAYS = (100, 200, 300, 500)


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


def _check_cell(cell: str) -> str:
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
    _check_cell(cell)
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
        optimizer=settings.optimizer,
        lr=settings.lr,
        clip_norm=settings.clip_norm,
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


def _check_lengths(name: str, values: Sequence[int], minimum: int) -> tuple[int, ...]:
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must hold at least one value")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must hold ints of at least {minimum}, got {value!r}")
    return values


# ----------------------------------------------------------------------------------------------
# The adding problem


@dataclass
class AddingResult:
    """Runs of `run_adding_problem`: one per (cell, sequence length)."""

    runs: list[TaskRun]
    settings: TrainingSettings
    seed: int

    @property
    def baseline(self) -> float:
        return self.runs[0].baseline_loss

    def mse(self, cell: str, seq_len: int) -> float:
        """The held-out MSE of `cell` at sequence length `seq_len`."""
        for run in self.runs:
            if run.cell == cell and run.length == seq_len:
                return run.test_loss
        raise KeyError(f"no run of {cell!r} at seq_len={seq_len}")


def run_adding_problem(
    seq_lens: Sequence[int] = (50, 100),
    cells: Sequence[str] = ("rnn_tanh", "lstm"),
    settings: TrainingSettings | None = None,
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> AddingResult:
    """Train every cell on the adding problem at every length; see `train_on_task`.

    All models of one length see the same training batches and the same test batch. `settings`
    defaults to `TrainingSettings()` (32 units, Adam, 1500 steps: the book's).
    """
    settings = TrainingSettings() if settings is None else settings
    seq_lens = _check_lengths("seq_lens", seq_lens, 2)
    cells = tuple(_check_cell(cell) for cell in cells)
    if not cells:
        raise ValueError("cells must name at least one cell")
    runs = [
        train_on_task(AddingTask(seq_len), cell, settings, seed=seed, device=device)
        for seq_len in seq_lens
        for cell in cells
    ]
    return AddingResult(runs=runs, settings=settings, seed=seed)


# ----------------------------------------------------------------------------------------------
# Copy memory: loss against the delay, recall against the hidden size


@dataclass
class CopyCapacityResult:
    """Runs of `run_copy_capacity`.

    `by_delay`: one run per delay at `settings.hidden_size`. `by_hidden_size`: one run per
    hidden size at delay `sizes_delay` (a run shared with `by_delay` is the same object).
    """

    by_delay: list[TaskRun]
    by_hidden_size: list[TaskRun]
    sizes_delay: int
    copy_length: int
    num_symbols: int
    cell: str
    settings: TrainingSettings
    seed: int
    paper_baselines: dict[int, float] = field(default_factory=dict)

    @property
    def chance_accuracy(self) -> float:
        """Recall of the memoryless strategy: a uniform guess among K symbols, 1/K."""
        return 1.0 / self.num_symbols


def run_copy_capacity(
    delays: Sequence[int] = (10, 20, 40, 80),
    hidden_sizes: Sequence[int] = (8, 16, 32, 64),
    settings: TrainingSettings | None = None,
    *,
    copy_length: int = 3,
    num_symbols: int = 8,
    cell: str = "lstm",
    sizes_delay: int | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> CopyCapacityResult:
    """Copy memory with a fixed training budget: loss against delay, recall against size.

    First a `cell` of `settings.hidden_size` units is trained at every delay in `delays`; its
    held-out cross entropy is set beside the memoryless L ln K / (T + 2L). Then, at delay
    `sizes_delay` (default: the shortest delay), one model per size in `hidden_sizes` is
    trained with otherwise the same settings, and its recall (accuracy on the L copied symbols,
    chance 1/K) is measured. `paper_baselines` holds 10 ln 8 / (T + 20) at the paper's delays.
    `settings` defaults to `TrainingSettings(hidden_size=64)` (the book's).
    """
    settings = TrainingSettings(hidden_size=64) if settings is None else settings
    delays = _check_lengths("delays", delays, 1)
    hidden_sizes = _check_lengths("hidden_sizes", hidden_sizes, 1)
    _check_cell(cell)
    sizes_delay = min(delays) if sizes_delay is None else sizes_delay

    def train(delay: int, hidden_size: int) -> TaskRun:
        task = CopyTask(delay, num_symbols=num_symbols, copy_length=copy_length)
        return train_on_task(task, cell, replace(settings, hidden_size=hidden_size),
                             seed=seed, device=device)

    by_delay = [train(delay, settings.hidden_size) for delay in delays]
    trained = {(run.length, run.hidden_size): run for run in by_delay}
    by_hidden_size = []
    for hidden_size in hidden_sizes:
        key = (sizes_delay, hidden_size)
        if key not in trained:  # the run at the main hidden size is shared, not repeated
            trained[key] = train(sizes_delay, hidden_size)
        by_hidden_size.append(trained[key])
    paper = {delay: CopyTask(delay).baseline_loss() for delay in COPY_PAPER_DELAYS}
    return CopyCapacityResult(
        by_delay=by_delay, by_hidden_size=by_hidden_size, sizes_delay=sizes_delay,
        copy_length=copy_length, num_symbols=num_symbols, cell=cell, settings=settings,
        seed=seed, paper_baselines=paper,
    )  # fmt: skip
