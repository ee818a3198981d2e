"""What chapter 3's long-range comparison returns: one `TaskRun` per (task, T, cell, seed), and
`CellSummary`, the mean and spread of one cell's runs over the seeds.

    result.get("adding", 50, "lstm", seed)      one run
    result.summary("adding", 50, "lstm")        mean ± standard deviation over the seeds

The experiment itself is in `long_range.py`; these classes hold results only, so that tables
(`tables.py`) and the sentences the page prints (`claims.py`) can be tested on results built for
the purpose.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

import torch

from rnncourse.data.synthetic import AddingTask, CopyTask
from rnncourse.models import RecurrentModel
from rnncourse.training.task_training import build_task_model

__all__ = ["CellSummary", "LongRangeResult", "TaskRun", "make_task"]

TASKS = ("adding", "copy")


def make_task(task: str, length: int) -> AddingTask | CopyTask:
    """AddingTask(T) or CopyTask(delay=T) (8 symbols, 10 to copy, as in Arjovsky et al.)."""
    if task == "adding":
        return AddingTask(length)
    if task == "copy":
        return CopyTask(length)
    raise ValueError(f"task must be one of {TASKS}, got {task!r}")


@dataclass
class TaskRun:
    """One cell trained on one task at one length from one seed: what it reached, and its weights.

    `eval_step`/`eval_loss` trace the held-out loss; `final_loss` is the last of them. For copy
    memory `accuracy` is the share of copied symbols predicted right on the held-out batch
    (the memoryless strategy scores 1/K); it is None for the adding problem.
    `initial_state` and `trained_state` are state dicts (CPU tensors) of the model built by
    `build_task_model(cell, task, hidden_size)`, before and after training.
    """

    task: str
    length: int
    cell: str
    hidden_size: int
    parameters: int
    baseline: float
    final_loss: float
    steps: int
    solved: bool
    diverged: bool
    seconds: float
    seed: int = 0
    accuracy: float | None = None
    eval_step: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    initial_state: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)
    trained_state: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    @property
    def loss_over_baseline(self) -> float:
        """final loss / baseline: 1 means nothing long-range was learned, 0 a perfect solution."""
        return self.final_loss / self.baseline

    def model(self, trained: bool = True, backend: str = "rnncourse",
              device: str | torch.device | None = "cpu") -> RecurrentModel:
        """The model of this run, with its trained (or initial) weights."""
        model = build_task_model(self.cell, make_task(self.task, self.length), self.hidden_size,
                                 backend=backend, device=device)
        model.load_state_dict(self.trained_state if trained else self.initial_state)
        return model


def _spread(values: list[float]) -> float:
    """Sample standard deviation (0 for a single value)."""
    return statistics.stdev(values) if len(values) > 1 else 0.0


@dataclass(frozen=True)
class CellSummary:
    """One cell at one (task, T) over its seeds: final held-out loss, whether and when it solved
    the task, and (copy memory) the share of copied symbols right, one entry per seed."""

    task: str
    length: int
    cell: str
    baseline: float
    parameters: int
    losses: tuple[float, ...]
    solved: tuple[bool, ...]
    steps: tuple[int, ...]
    accuracies: tuple[float, ...] | None = None

    @property
    def seeds(self) -> int:
        return len(self.losses)

    @property
    def num_solved(self) -> int:
        return sum(self.solved)

    @property
    def mean_loss(self) -> float:
        return statistics.fmean(self.losses)

    @property
    def std_loss(self) -> float:
        return _spread(list(self.losses))

    @property
    def mean_ratio(self) -> float:
        """Mean over seeds of final loss / baseline."""
        return statistics.fmean(loss / self.baseline for loss in self.losses)

    @property
    def std_ratio(self) -> float:
        return _spread([loss / self.baseline for loss in self.losses])

    @property
    def mean_steps_solved(self) -> float | None:
        """Mean number of steps the seeds that solved the task needed (None if none did)."""
        solved = [steps for steps, done in zip(self.steps, self.solved, strict=True) if done]
        return statistics.fmean(solved) if solved else None

    @property
    def mean_accuracy(self) -> float | None:
        return statistics.fmean(self.accuracies) if self.accuracies else None

    @property
    def std_accuracy(self) -> float | None:
        return _spread(list(self.accuracies)) if self.accuracies else None

    @property
    def seeds_below_baseline(self) -> int:
        """How many seeds ended below the memoryless baseline."""
        return sum(loss < self.baseline for loss in self.losses)


@dataclass
class LongRangeResult:
    """Every run of `run_long_range_tasks`: `settings`, and one `TaskRun` per (task, T, cell,
    seed), the seeds being `seeds` in order."""

    settings: Any
    runs: list[TaskRun]
    seeds: tuple[int, ...] = (0,)

    def get(self, task: str, length: int, cell: str, seed: int | None = None) -> TaskRun:
        """The run of `cell` at (task, length) from `seed` (None: the first seed)."""
        seed = self.seeds[0] if seed is None else seed
        for run in self.runs:
            if (run.task, run.length, run.cell, run.seed) == (task, length, cell, seed):
                return run
        raise KeyError(f"no run for task={task!r}, length={length}, cell={cell!r}, seed={seed}")

    def lengths(self, task: str) -> list[int]:
        return sorted({run.length for run in self.runs if run.task == task})

    def cells(self) -> list[str]:
        """The cells compared, in the order they ran."""
        return list(dict.fromkeys(run.cell for run in self.runs))

    def summary(self, task: str, length: int, cell: str) -> CellSummary:
        """Mean and spread of `cell` at (task, length) over the seeds."""
        runs = [self.get(task, length, cell, seed) for seed in self.seeds]
        accuracies = [run.accuracy for run in runs]
        return CellSummary(
            task=task, length=length, cell=cell, baseline=runs[0].baseline,
            parameters=runs[0].parameters,
            losses=tuple(run.final_loss for run in runs),
            solved=tuple(run.solved for run in runs),
            steps=tuple(run.steps for run in runs),
            accuracies=None if None in accuracies else tuple(accuracies),
        )  # fmt: skip

    def best(self, task: str, length: int, cell: str) -> TaskRun:
        """The seed's run of `cell` at (task, length) with the lowest final held-out loss."""
        runs = [self.get(task, length, cell, seed) for seed in self.seeds]
        return min(runs, key=lambda run: run.final_loss)
