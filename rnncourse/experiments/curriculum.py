"""Chapter 5, curriculum learning: the experiments behind the page.

- `run_length_curriculum`: the adding problem at a target length T, trained either at T from the
  first step or with a length curriculum that starts short and doubles T whenever the model has
  mastered the current length (Bengio et al. 2009's "start small", applied to sequence length).
- `run_curriculum_strategies`: multi-digit addition with Zaremba and Sutskever's (2014) four
  strategies (none, naive, mix, combined) at an equal budget of training steps.

Both return plain dataclasses; the figures are in `rnncourse.plots.curriculum_transfer`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from rnncourse.curriculum import (
    STRATEGIES,
    ConstantLength,
    CurriculumStrategy,
    MasteryCurriculum,
    ScheduledBatches,
    mastery_evaluator,
)
from rnncourse.models import RecurrentModel
from rnncourse.runtime import resolve_device
from rnncourse.tasks import AddingTask, adding_baseline_mse
from rnncourse.tasks_arithmetic import AdditionTask
from rnncourse.training import fit

__all__ = [
    "LengthCurriculumResult",
    "LengthCurriculumRun",
    "StrategyResult",
    "StrategyRun",
    "doubling_levels",
    "run_curriculum_strategies",
    "run_length_curriculum",
]

# What Zaremba and Sutskever (2014) report, for the page to set beside the measured result.
PUBLISHED_STRATEGY_FINDING = (
    "naive no better than no curriculum, and sometimes worse; combined best in every "
    "experimental condition; mix also helps; combined lets an LSTM add two 9-digit numbers "
    "with 99% accuracy"
)


def _median_or_none(values: list[int | None]) -> float | None:
    reached = [v for v in values if v is not None]
    return statistics.median(reached) if len(reached) == len(values) else None


# ----------------------------------------------------------------------------------------------
# A length curriculum on the adding problem


def doubling_levels(start: int, target: int) -> list[int]:
    """start, 2 start, 4 start, ... below target, then target: e.g. 10, 20, 40, 80, 100."""
    if not 1 <= start <= target:
        raise ValueError(f"need 1 <= start <= target, got start={start}, target={target}")
    levels = [start]
    while levels[-1] * 2 < target:
        levels.append(levels[-1] * 2)
    return levels + ([target] if levels[-1] != target else [])


@dataclass
class LengthCurriculumRun:
    """One training run: the target-length loss over time and the length trained on."""

    label: str
    seed: int
    eval_step: list[int]
    eval_loss: list[float]  # MSE at the target length, on a fixed evaluation set
    train_length: list[int]  # the length of the batch at each step
    threshold: float
    seconds: float

    @property
    def steps_to_threshold(self) -> int | None:
        """The first evaluation step with target-length MSE below the threshold (None: never)."""
        for step, loss in zip(self.eval_step, self.eval_loss, strict=True):
            if loss < self.threshold:
                return step + 1
        return None

    @property
    def timesteps_to_threshold(self) -> int | None:
        """Σ T over the steps until then: the recurrent work it took (per example)."""
        steps = self.steps_to_threshold
        return None if steps is None else sum(self.train_length[:steps])

    @property
    def final_loss(self) -> float:
        return self.eval_loss[-1]


@dataclass
class LengthCurriculumResult:
    target_length: int
    levels: list[int]
    threshold: float
    steps: int
    runs: list[LengthCurriculumRun] = field(default_factory=list)

    @property
    def baseline_mse(self) -> float:
        return adding_baseline_mse()

    def by_label(self, label: str) -> list[LengthCurriculumRun]:
        return [run for run in self.runs if run.label == label]

    @property
    def labels(self) -> list[str]:
        return list(dict.fromkeys(run.label for run in self.runs))

    def summary(self) -> dict[str, dict[str, float | int | None]]:
        """Per label: runs that reached the threshold, median steps and timesteps to it (None
        unless every run reached it), mean final MSE."""
        out = {}
        for label in self.labels:
            runs = self.by_label(label)
            out[label] = {
                "reached": sum(r.steps_to_threshold is not None for r in runs),
                "runs": len(runs),
                "median_steps": _median_or_none([r.steps_to_threshold for r in runs]),
                "median_timesteps": _median_or_none([r.timesteps_to_threshold for r in runs]),
                "mean_final_mse": statistics.fmean(r.final_loss for r in runs),
            }
        return out


def run_length_curriculum(
    target_length: int = 100,
    *,
    start_length: int = 10,
    mastery_mse: float = 0.01,
    threshold: float = 0.01,
    steps: int = 700,
    hidden_size: int = 32,
    batch_size: int = 64,
    lr: float = 1e-2,
    clip_norm: float = 1.0,
    eval_every: int = 25,
    eval_size: int = 256,
    seeds: Sequence[int] = (0, 1, 2),
    device: str | torch.device | None = None,
    seed: int = 0,
) -> LengthCurriculumResult:
    """Adding problem at `target_length`: trained at that length throughout, or with a curriculum.

    The curriculum trains on lengths `doubling_levels(start_length, target_length)` and moves to
    the next once the MSE on a fresh batch at the current length is below `mastery_mse` (checked
    every `eval_every` steps). Both arms have the same model (an LSTM with `hidden_size` units,
    torch's fused kernel), optimiser (Adam, `lr`, norm clipping) and number of `steps`, and are
    scored on the same fixed evaluation set at the target length. One run per entry of `seeds`
    (offset by `seed`).
    """
    device = resolve_device(device)
    levels = doubling_levels(start_length, target_length)
    result = LengthCurriculumResult(target_length, levels, threshold, steps)
    eval_inputs, eval_targets = AddingTask(target_length).sample(
        eval_size, seed=10_000 + seed, device=device)

    def target_mse(model: torch.nn.Module) -> float:
        return AddingTask(target_length).loss(model(eval_inputs), eval_targets).item()

    for run_seed in (seed + s for s in seeds):
        for label in ("target length only", "length curriculum"):
            model = RecurrentModel("lstm", input_size=2, hidden_size=hidden_size, output_size=1,
                                   backend="torch", device=device, seed=run_seed)
            if label == "length curriculum":
                schedule = MasteryCurriculum(levels, threshold=mastery_mse)
                check = torch.Generator().manual_seed(20_000 + run_seed)

                def mse_at(model, length, check=check):
                    x, y = AddingTask(length).sample(eval_size, generator=check)
                    return AddingTask(length).loss(model(x.to(device)), y.to(device)).item()

                evaluate = mastery_evaluator(schedule, mse_at, target_mse)
            else:
                schedule, evaluate = ConstantLength(target_length), target_mse
            batches = ScheduledBatches(
                schedule,
                lambda length, generator: AddingTask(length).sample(batch_size,
                                                                    generator=generator),
                seed=run_seed,
            )
            history = fit(model, batches, AddingTask(target_length).loss, steps=steps, lr=lr,
                          clip_norm=clip_norm, device=device, seed=run_seed, progress=False,
                          evaluate=evaluate, eval_every=eval_every)
            result.runs.append(LengthCurriculumRun(
                label, run_seed, history.eval_step, history.eval_loss,
                [int(level) for level in batches.levels], threshold, history.seconds))
    return result


# ----------------------------------------------------------------------------------------------
# Zaremba and Sutskever's strategies on multi-digit addition


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


@dataclass
class StrategyResult:
    max_digits: int
    steps: int
    runs: list[StrategyRun] = field(default_factory=list)
    published: str = PUBLISHED_STRATEGY_FINDING

    def by_strategy(self, strategy: str) -> list[StrategyRun]:
        return [run for run in self.runs if run.strategy == strategy]

    @property
    def strategies(self) -> list[str]:
        return list(dict.fromkeys(run.strategy for run in self.runs))

    def mean_final_accuracy(self) -> dict[str, float]:
        return {s: statistics.fmean(r.final_accuracy for r in self.by_strategy(s))
                for s in self.strategies}

    def mean_accuracy_by_digits(self) -> dict[str, list[float]]:
        """Per strategy, the final accuracy at 1..D digits, averaged over seeds."""
        return {s: torch.tensor([r.accuracy_by_digits for r in self.by_strategy(s)]).mean(0)
                .tolist() for s in self.strategies}

    def ranking(self) -> list[str]:
        """Strategies from best to worst mean final accuracy."""
        means = self.mean_final_accuracy()
        return sorted(means, key=means.get, reverse=True)


def run_curriculum_strategies(
    max_digits: int = 3,
    *,
    strategies: Sequence[str] = STRATEGIES,
    steps: int = 500,
    hidden_size: int = 64,
    batch_size: int = 128,
    lr: float = 1e-2,
    clip_norm: float = 1.0,
    mastery_accuracy: float = 0.95,
    patience: int | None = None,
    mix_fraction: float = 0.5,
    eval_every: int = 50,
    eval_size: int = 1000,
    reverse_digits: bool = True,
    seeds: Sequence[int] = (0,),
    device: str | torch.device | None = None,
    seed: int = 0,
) -> StrategyResult:
    """Addition of `max_digits`-digit numbers under each strategy, `steps` steps each.

    Every run has the same LSTM (`hidden_size` units, one layer), optimiser and step budget;
    only the difficulties in the batches differ. Naive and combined move their level c on when
    the accuracy at c reaches `mastery_accuracy` (or after `patience` evaluations without
    progress). Scored by per-character accuracy at the target difficulty on a fixed set.
    """
    device = resolve_device(device)
    task = AdditionTask(max_digits, reverse_digits=reverse_digits)
    result = StrategyResult(max_digits, steps)
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


# ----------------------------------------------------------------------------------------------
# Command line: `python -m rnncourse.experiments.curriculum [--full-scale]`

FULL_SCALE_LENGTH = {"steps": 3000, "hidden_size": 128, "seeds": (0, 1, 2, 3, 4)}
FULL_SCALE_STRATEGIES = {"max_digits": 5, "steps": 5000, "hidden_size": 256, "seeds": (0, 1, 2)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run both curriculum experiments and print their results (the page's, or larger)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-scale", action="store_true",
                        help="longer runs, larger models, more seeds (a GPU helps)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    length = run_length_curriculum(100, device=arguments.device, seed=arguments.seed,
                                   **(FULL_SCALE_LENGTH if arguments.full_scale else {}))
    for label, summary in length.summary().items():
        print(f"adding, T = 100, {label}: {summary}")
    strategies = run_curriculum_strategies(
        device=arguments.device, seed=arguments.seed,
        **(FULL_SCALE_STRATEGIES if arguments.full_scale else {}))
    for name, accuracy in strategies.mean_final_accuracy().items():
        print(f"addition, {strategies.max_digits} digits, {name}: accuracy {accuracy:.3f}, at "
              f"1..D digits {strategies.mean_accuracy_by_digits()[name]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
