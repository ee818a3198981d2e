"""Chapter 5, a length curriculum: the adding problem at a target length T, trained either at T
from the first step or with a curriculum that starts short and doubles T whenever the model has
mastered the current length (Elman 1993's "starting small", Bengio et al. 2009's curriculum,
applied to sequence length).

`run_length_curriculum` returns a plain dataclass; Zaremba and Sutskever's strategies are in
`strategies.py`, the figures in `figures.py`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from rnncourse.data.synthetic import AddingTask, adding_baseline_mse
from rnncourse.models import RecurrentModel
from rnncourse.runtime import resolve_device
from rnncourse.training import fit
from rnncourse.training.curriculum import (
    ConstantLength,
    MasteryCurriculum,
    ScheduledBatches,
    mastery_evaluator,
)

__all__ = [
    "LengthCurriculumResult",
    "LengthCurriculumRun",
    "doubling_levels",
    "run_length_curriculum",
]

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

    @property
    def share_at_first_level(self) -> float:
        """The fraction of the training steps taken at the first (shortest) length."""
        return self.train_length.count(self.train_length[0]) / len(self.train_length)


@dataclass
class LengthCurriculumResult:
    target_length: int
    levels: list[int]
    threshold: float
    steps: int
    runs: list[LengthCurriculumRun] = field(default_factory=list)
    mastery_mse: float = 0.01
    hidden_size: int = 0
    batch_size: int = 0
    eval_every: int = 0

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
        unless every run reached it), mean and standard deviation of the final MSE."""
        out = {}
        for label in self.labels:
            runs = self.by_label(label)
            finals = [r.final_loss for r in runs]
            out[label] = {
                "reached": sum(r.steps_to_threshold is not None for r in runs),
                "runs": len(runs),
                "median_steps": _median_or_none([r.steps_to_threshold for r in runs]),
                "median_timesteps": _median_or_none([r.timesteps_to_threshold for r in runs]),
                "mean_final_mse": statistics.fmean(finals),
                "std_final_mse": statistics.stdev(finals) if len(finals) > 1 else 0.0,
            }
        return out


def run_length_curriculum(
    target_length: int = 50,
    *,
    start_length: int = 10,
    mastery_mse: float = 0.03,
    threshold: float = 0.01,
    steps: int = 400,
    hidden_size: int = 32,
    batch_size: int = 32,
    lr: float = 1e-2,
    clip_norm: float = 1.0,
    eval_every: int = 25,
    eval_size: int = 128,
    seeds: Sequence[int] = (0, 1, 2),
    device: str | torch.device | None = None,
    seed: int = 0,
) -> LengthCurriculumResult:
    """Adding problem at `target_length`: trained at that length throughout, or with a curriculum.

    The curriculum trains on lengths `doubling_levels(start_length, target_length)` and moves to
    the next once the MSE on a fresh batch at the current length is below `mastery_mse` (checked
    every `eval_every` steps; `mastery_mse` can be looser than the `threshold` the target
    must reach: the network only has to have found the mechanism before the next length).
    Both arms have the same model (an LSTM with `hidden_size` units,
    torch's fused kernel), optimiser (Adam, `lr`, norm clipping) and number of `steps`, and are
    scored on the same fixed evaluation set at the target length. One run per entry of `seeds`
    (offset by `seed`).
    """
    device = resolve_device(device)
    levels = doubling_levels(start_length, target_length)
    result = LengthCurriculumResult(target_length, levels, threshold, steps,
                                    mastery_mse=mastery_mse, hidden_size=hidden_size,
                                    batch_size=batch_size, eval_every=eval_every)
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
