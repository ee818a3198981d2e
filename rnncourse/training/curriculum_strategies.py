"""The four curriculum strategies of Zaremba and Sutskever (2014), "Learning to Execute".

Each example of a batch draws its own difficulty d in 1..D from a distribution p(d):

    none:      p(d) = [d = D]                              always the target
    naive:     p(d) = [d = c]                              c grows as the model masters it
    mix:       p(d) = 1/D                                  uniform over 1..D
    combined:  p(d) = (1 - λ) [d = c] + λ / D              naive, mixed with a share λ of mix

The naive level c moves on as a `MasteryCurriculum` does; `ScheduledBatches` and
`mastery_evaluator` (in `curriculum.py`) plug a strategy into the fit loop.
"""

from __future__ import annotations

import torch

from rnncourse.checks import check_int
from rnncourse.training.curriculum import MasteryCurriculum

__all__ = ["STRATEGIES", "CurriculumStrategy"]

STRATEGIES = ("none", "naive", "mix", "combined")


class CurriculumStrategy:
    """Draws a difficulty in 1..target for each example of a batch (Zaremba and Sutskever 2014).

    Args:
        name: "none", "naive", "mix" or "combined" (see the module docstring).
        target: D, the difficulty the model is evaluated at.
        threshold, higher_is_better, patience: when the naive level c moves on (see
            `MasteryCurriculum`); used by "naive" and "combined" only.
        mix_fraction: λ, the share of uniformly drawn examples in "combined".
    """

    def __init__(
        self,
        name: str,
        target: int,
        *,
        threshold: float = 0.95,
        higher_is_better: bool = True,
        patience: int | None = None,
        mix_fraction: float = 0.5,
    ) -> None:
        if name not in STRATEGIES:
            choices = ", ".join(map(repr, STRATEGIES))
            raise ValueError(f"name must be one of {choices}, got {name!r}")
        check_int("target", target, 1)
        if not 0.0 <= mix_fraction <= 1.0:
            raise ValueError(f"mix_fraction must lie in [0, 1], got {mix_fraction!r}")
        self.name, self.target, self.mix_fraction = name, target, mix_fraction
        self.naive = MasteryCurriculum(
            list(range(1, target + 1)), threshold, higher_is_better, patience
        )

    def __repr__(self) -> str:
        return f"CurriculumStrategy({self.name!r}, target={self.target}, level={self.level})"

    @property
    def level(self) -> int:
        """The naive level c for "naive" and "combined"; the target for the others."""
        return self.naive.level if self.name in ("naive", "combined") else self.target

    @property
    def adaptive(self) -> bool:
        """True when `observe` can change the distribution."""
        return self.name in ("naive", "combined")

    def distribution(self) -> torch.Tensor:
        """p(d) for d = 1..target as a (target,) float tensor that sums to 1."""
        uniform = torch.full((self.target,), 1.0 / self.target)
        at_level = torch.zeros(self.target)
        at_level[self.level - 1] = 1.0
        if self.name in ("none", "naive"):
            return at_level
        if self.name == "mix":
            return uniform
        return (1.0 - self.mix_fraction) * at_level + self.mix_fraction * uniform

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(batch_size,) int64 difficulties drawn independently from `distribution()`."""
        check_int("batch_size", batch_size, 1)
        draws = torch.multinomial(self.distribution(), batch_size, replacement=True,
                                  generator=generator)
        return draws + 1

    def __call__(self, step: int) -> int:
        """The current level, recorded in `stages` (so it can serve as a schedule)."""
        return self.naive(step) if self.adaptive else self.target

    @property
    def stages(self) -> list[tuple[int, int]]:
        return self.naive.stages if self.adaptive else []

    @property
    def finished(self) -> bool:
        """True when `observe` can no longer change the distribution."""
        return not self.adaptive or self.naive.finished

    def observe(self, score: float) -> bool:
        """Report the score at the current level; True when the naive level moved on."""
        return self.naive.observe(score) if self.adaptive else False
