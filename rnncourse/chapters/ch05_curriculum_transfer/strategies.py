"""Chapter 5, Zaremba and Sutskever's (2014) curriculum strategies (none, naive, mix, combined)
on multi-digit addition, at an equal budget of training steps: `run_curriculum_strategies`.

The strategies themselves are `rnncourse.training.curriculum_strategies.CurriculumStrategy`;
the figures are in `figures.py`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from rnncourse.data.arithmetic import AdditionTask
from rnncourse.models import RecurrentModel
from rnncourse.runtime import resolve_device
from rnncourse.training import fit
from rnncourse.training.curriculum import ScheduledBatches, mastery_evaluator
from rnncourse.training.curriculum_strategies import STRATEGIES, CurriculumStrategy

__all__ = [
    "StrategyResult",
    "StrategyRun",
    "mean_and_std",
    "run_curriculum_strategies",
]


def mean_and_std(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (0 for a single value)."""
    values = list(values)
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


@dataclass
class StrategyRun:
    strategy: str
    seed: int
    eval_step: list[int]
    accuracy: list[float]  # per-character accuracy at the target difficulty (teacher forcing)
    level: list[int]  # the naive level in force after each evaluation (target for none/mix)
    accuracy_by_digits: list[float]  # at the end, for 1..D digits
    seconds: float

    @property
    def final_accuracy(self) -> float:
        return self.accuracy[-1]

    def step_reaching(self, level: int) -> int | None:
        """The step after which the naive level c first stood at `level` (None: never)."""
        for step, current in zip(self.eval_step, self.level, strict=True):
            if current >= level:
                return step + 1
        return None


@dataclass
class StrategyResult:
    max_digits: int
    steps: int
    runs: list[StrategyRun] = field(default_factory=list)
    mastery_accuracy: float = 0.95
    hidden_size: int = 0
    batch_size: int = 0
    mix_fraction: float = 0.5
    patience: int | None = None

    def by_strategy(self, strategy: str) -> list[StrategyRun]:
        return [run for run in self.runs if run.strategy == strategy]

    @property
    def strategies(self) -> list[str]:
        return list(dict.fromkeys(run.strategy for run in self.runs))

    @property
    def seeds(self) -> list[int]:
        return list(dict.fromkeys(run.seed for run in self.runs))

    def mean_final_accuracy(self) -> dict[str, float]:
        return {s: statistics.fmean(r.final_accuracy for r in self.by_strategy(s))
                for s in self.strategies}

    def final_accuracy_stats(self) -> dict[str, tuple[float, float]]:
        """Per strategy, (mean, standard deviation) over seeds of the final target accuracy."""
        return {s: mean_and_std([r.final_accuracy for r in self.by_strategy(s)])
                for s in self.strategies}

    def accuracy_by_digits_stats(self) -> dict[str, list[tuple[float, float]]]:
        """Per strategy, (mean, standard deviation) over seeds of the final accuracy at each of
        1..D digits."""
        return {s: [mean_and_std(column) for column in
                    zip(*(r.accuracy_by_digits for r in self.by_strategy(s)), strict=True)]
                for s in self.strategies}

    def mean_accuracy_by_digits(self) -> dict[str, list[float]]:
        """Per strategy, the final accuracy at 1..D digits, averaged over seeds."""
        return {s: [mean for mean, _ in stats]
                for s, stats in self.accuracy_by_digits_stats().items()}

    def ranking(self) -> list[str]:
        """Strategies from best to worst mean final accuracy."""
        means = self.mean_final_accuracy()
        return sorted(means, key=means.get, reverse=True)


def run_curriculum_strategies(
    max_digits: int = 3,
    *,
    strategies: Sequence[str] = STRATEGIES,
    steps: int = 250,
    hidden_size: int = 32,
    batch_size: int = 64,
    lr: float = 2e-2,
    clip_norm: float = 1.0,
    mastery_accuracy: float = 0.95,
    patience: int | None = None,
    mix_fraction: float = 0.5,
    eval_every: int = 25,
    eval_size: int = 256,
    reverse_digits: bool = True,
    seeds: Sequence[int] = (0, 1, 2),
    device: str | torch.device | None = None,
    seed: int = 0,
) -> StrategyResult:
    """Addition of `max_digits`-digit numbers under each strategy, `steps` steps each.

    Every run has the same LSTM (`hidden_size` units, one layer), optimiser and step budget;
    only the difficulties in the batches differ. Naive and combined move their level c on when
    the accuracy at c reaches `mastery_accuracy` (or after `patience` evaluations without
    progress). Scored by per-character accuracy at the target difficulty on a fixed set of
    `eval_size` problems; one run per strategy and entry of `seeds` (offset by `seed`).
    """
    device = resolve_device(device)
    task = AdditionTask(max_digits, reverse_digits=reverse_digits)
    result = StrategyResult(max_digits, steps, mastery_accuracy=mastery_accuracy,
                            hidden_size=hidden_size, batch_size=batch_size,
                            mix_fraction=mix_fraction, patience=patience)
    eval_inputs, eval_targets = task.sample(max_digits, eval_size, seed=30_000 + seed,
                                            device=device)

    def target_accuracy(model: torch.nn.Module) -> float:
        return task.accuracy(model(eval_inputs), eval_targets)

    for run_seed in (seed + s for s in seeds):
        for name in strategies:
            model = RecurrentModel("lstm", input_size=task.input_size, hidden_size=hidden_size,
                                   output_size=task.output_size, readout="all", backend="torch",
                                   device=device, seed=run_seed)
            strategy = CurriculumStrategy(name, max_digits, threshold=mastery_accuracy,
                                          patience=patience, mix_fraction=mix_fraction)
            check = torch.Generator().manual_seed(40_000 + run_seed)

            def accuracy_at(model, digits, check=check):
                x, y = task.sample(digits, eval_size // 2, generator=check)
                return task.accuracy(model(x.to(device)), y.to(device))

            levels: list[int] = []

            drive = mastery_evaluator(strategy, accuracy_at, target_accuracy)

            def evaluate(model, strategy=strategy, levels=levels, drive=drive):
                value = drive(model)
                levels.append(strategy.level)
                return value

            # The schedule is the strategy itself (its level c); each batch then draws one
            # difficulty per example from the strategy's distribution.
            batches = ScheduledBatches(
                strategy,
                lambda _level, generator, strategy=strategy: task.sample(
                    strategy.sample(batch_size, generator), generator=generator),
                seed=run_seed,
            )
            history = fit(model, batches, task.loss, steps=steps, lr=lr, clip_norm=clip_norm,
                          device=device, seed=run_seed, progress=False, evaluate=evaluate,
                          eval_every=eval_every)
            model.eval()
            with torch.no_grad():
                by_digits = [accuracy_at(model, d) for d in range(1, max_digits + 1)]
            result.runs.append(StrategyRun(name, run_seed, history.eval_step, history.eval_loss,
                                           levels, by_digits, history.seconds))
    return result
