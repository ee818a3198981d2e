"""Curricula: which examples a model trains on at each step.

Curriculum learning (Bengio, Louradour, Collobert and Weston 2009) orders training from easy to
hard. For a recurrent network the natural measure of difficulty is the sequence length, or the
size of a problem such as the number of digits to add. Two families live here:

- **Length schedules**, `step -> length`: `ConstantLength` (no curriculum), `LinearLength`,
  `SteppedLength`, and `MasteryCurriculum`, which moves to the next level only once the model
  has mastered the current one (a loss below, or an accuracy above, a threshold).
- **Difficulty strategies** of Zaremba and Sutskever (2014), `CurriculumStrategy` in
  `curriculum_strategies.py`: a distribution over difficulties 1..D from which each example of
  a batch draws its own.

Both plug into `rnncourse.training.fit`, whose `batches` may be a callable `step -> batch`:
`ScheduledBatches(schedule, make_batch)` asks the schedule for the level at each step and
builds the batch. An adaptive curriculum learns how the model is doing through
`fit(evaluate=..., eval_every=...)`: see `mastery_evaluator`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn

from rnncourse.checks import check_int
from rnncourse.runtime import seeded_generator

__all__ = [
    "AdaptiveCurriculum",
    "ConstantLength",
    "LinearLength",
    "MasteryCurriculum",
    "ScheduledBatches",
    "SteppedLength",
    "mastery_evaluator",
]


def _check_step(step: object) -> int:
    return check_int("step", step, 0)


# ----------------------------------------------------------------------------------------------
# Length schedules: step -> sequence length


@dataclass(frozen=True)
class ConstantLength:
    """No curriculum: T(step) = length."""

    length: int

    def __post_init__(self) -> None:
        check_int("length", self.length, 1)

    def __call__(self, step: int) -> int:
        _check_step(step)
        return self.length


@dataclass(frozen=True)
class LinearLength:
    """T grows linearly from `start` to `end` over `ramp_steps` steps, then stays at `end`:

        T(step) = round(start + (end - start) · min(1, step / ramp_steps))
    """

    start: int
    end: int
    ramp_steps: int

    def __post_init__(self) -> None:
        check_int("start", self.start, 1)
        check_int("end", self.end, self.start)
        check_int("ramp_steps", self.ramp_steps, 1)

    def __call__(self, step: int) -> int:
        _check_step(step)
        fraction = min(1.0, step / self.ramp_steps)
        return round(self.start + (self.end - self.start) * fraction)


@dataclass(frozen=True)
class SteppedLength:
    """T starts at `start` and grows by `increment` every `every` steps, up to `end`:

        T(step) = min(end, start + increment · ⌊step / every⌋)
    """

    start: int
    end: int
    increment: int
    every: int

    def __post_init__(self) -> None:
        check_int("start", self.start, 1)
        check_int("end", self.end, self.start)
        check_int("increment", self.increment, 1)
        check_int("every", self.every, 1)

    def __call__(self, step: int) -> int:
        _check_step(step)
        return min(self.end, self.start + self.increment * (step // self.every))


@dataclass
class MasteryCurriculum:
    """Train at `levels[0]` until mastered, then `levels[1]`, ... (the last level is the target).

    `observe(score)` reports how the model does at the current level: a loss when
    `higher_is_better` is False (mastered when score <= threshold), an accuracy when True
    (mastered when score >= threshold). With `patience`, the curriculum also moves on after
    `patience` observations in a row without a new best score at this level, Zaremba and
    Sutskever's "once learning stops making progress".

    Calling it, `curriculum(step)`, gives the current level and records in `stages` the step at
    which each level was first used.
    """

    levels: Sequence[int]
    threshold: float
    higher_is_better: bool = False
    patience: int | None = None
    index: int = 0
    stages: list[tuple[int, int]] = field(default_factory=list)
    _best: float = field(default=math.nan, repr=False)
    _stale: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if len(self.levels) == 0:
            raise ValueError("levels must hold at least one level (the target)")
        self.levels = [check_int("levels[i]", level, 1) for level in self.levels]
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold must be a finite number, got {self.threshold!r}")
        if self.patience is not None:
            check_int("patience", self.patience, 1)

    @property
    def level(self) -> int:
        return self.levels[self.index]

    @property
    def target(self) -> int:
        return self.levels[-1]

    @property
    def finished(self) -> bool:
        """True once training is at the last level."""
        return self.index == len(self.levels) - 1

    def __call__(self, step: int) -> int:
        _check_step(step)
        if not self.stages or self.stages[-1][1] != self.level:
            self.stages.append((step, self.level))
        return self.level

    def _is_better(self, score: float, than: float) -> bool:
        return score > than if self.higher_is_better else score < than

    def observe(self, score: float) -> bool:
        """Report a score at the current level; return True when the curriculum moved on."""
        score = float(score)
        if self.finished:
            return False
        mastered = (score >= self.threshold) if self.higher_is_better else (
            score <= self.threshold)
        if math.isnan(self._best) or self._is_better(score, self._best):
            self._best, self._stale = score, 0
        else:
            self._stale += 1
        stalled = self.patience is not None and self._stale >= self.patience
        if mastered or stalled:
            self.index += 1
            self._best, self._stale = math.nan, 0
            return True
        return False


# ----------------------------------------------------------------------------------------------
# Glue for the fit loop


class AdaptiveCurriculum(Protocol):
    """A curriculum that the model's progress moves on: `MasteryCurriculum`, or a naive or
    combined `CurriculumStrategy`."""

    @property
    def level(self) -> int: ...

    @property
    def finished(self) -> bool: ...

    def observe(self, score: float) -> bool: ...


class ScheduledBatches:
    """`step -> batch` for `fit`: `make_batch(schedule(step), generator)`.

    `schedule(step)` returns whatever `make_batch` needs: a length from a length schedule, a
    tensor of per-example difficulties, ... `levels[i]` keeps what step i used (ints, or the
    mean of a tensor) for plotting. With `seed`, batches come from a generator of their own, so
    the data do not depend on anything else that draws random numbers.
    """

    def __init__(
        self,
        schedule: Callable[[int], Any],
        make_batch: Callable[[Any, torch.Generator | None], tuple[Any, Any]],
        *,
        seed: int | None = None,
    ) -> None:
        if not callable(schedule) or not callable(make_batch):
            raise TypeError("schedule and make_batch must be callables")
        self.schedule, self.make_batch = schedule, make_batch
        self.generator = seeded_generator(seed, torch.device("cpu")) if seed is not None else None
        self.levels: list[float] = []

    def __call__(self, step: int) -> tuple[Any, Any]:
        level = self.schedule(step)
        self.levels.append(float(level.float().mean()) if torch.is_tensor(level) else level)
        return self.make_batch(level, self.generator)


def mastery_evaluator(
    curriculum: AdaptiveCurriculum,
    score_at_level: Callable[[nn.Module, int], float],
    evaluate_target: Callable[[nn.Module], float],
    *,
    trace: list[tuple[float, int]] | None = None,
) -> Callable[[nn.Module], float]:
    """An `evaluate` function for `fit` that also drives an adaptive curriculum.

    Each call scores the model at the curriculum's current level with
    `score_at_level(model, level)`, reports it (`curriculum.observe`), and returns
    `evaluate_target(model)`, which `fit` records in `History.eval_loss`: how the model does
    on the task it is meant to learn. With `trace`, (score, level) pairs are appended to it.
    """
    def evaluate(model: nn.Module) -> float:
        if not curriculum.finished:  # once at the target, nothing is left to decide
            level = curriculum.level
            score = float(score_at_level(model, level))
            curriculum.observe(score)
            if trace is not None:
                trace.append((score, level))
        return float(evaluate_target(model))

    return evaluate
