"""Chapter 3 experiment: RNN, LSTM and GRU on the adding and copy tasks, over several seeds.

Each cell is trained on each task at each length T, from each of `num_seeds` seeds, until it
solves it (its held-out loss falls below a small fraction of the memoryless baseline's) or runs
out of steps; the result is its final held-out loss beside the baseline. The models are
torch.nn's fused RNN, LSTM and GRU, trained one after another: for models this small a fused
kernel per model is faster on a CPU than running the seeds as one batched ensemble.

`settings.py` holds the book's CPU scale and the paper scale (Arjovsky, Shah and Bengio 2016's
sizes, optimiser and clipping), run with `rnncourse run ch03 --scale paper`; the published
results are in `published.py`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from rnncourse.chapters.ch03_lstm_gru.results import TASKS, LongRangeResult, TaskRun, make_task
from rnncourse.data.synthetic import AddingTask, CopyTask
from rnncourse.models.parameter_count import hidden_size_for_budget, recurrent_parameter_count
from rnncourse.runtime import resolve_device
from rnncourse.training import OPTIMIZERS, fit
from rnncourse.training.task_training import build_task_model, score_held_out, training_batches

__all__ = [
    "CELLS",
    "CELL_LABELS",
    "HELD_OUT_SEED_OFFSET",
    "LongRangeSettings",
    "cell_hidden_size",
    "held_out_batch",
    "make_task",
    "run_long_range_tasks",
    "train_until_solved",
]

CELLS = ("rnn_tanh", "lstm", "gru")
CELL_LABELS = {"rnn_tanh": "RNN", "lstm": "LSTM", "gru": "GRU"}
HELD_OUT_SEED_OFFSET = 1000  # the held-out batch: its own stream, shared by every seed


@dataclass(frozen=True)
class LongRangeSettings:
    """Sizes and optimisation of the comparison; every cell gets the same budget.

    Hidden sizes: `hidden_sizes[task][cell]` where given, else the size at which the cell's
    model has about as many parameters as an LSTM with `lstm_hidden_size` units. Clipping: by
    norm (`clip_norm`) or element-wise (`clip_value`), not both. `optimizer_options` go to the
    optimizer (e.g. {"alpha": 0.9}, RMSProp's decay). A run stops once its held-out loss is below
    `solved_fraction` times the baseline (unless `stop_when_solved` is False), or after
    `adding_max_steps` (`copy_max_steps`). Every (task, T, cell) runs from `num_seeds` seeds.
    """

    adding_lengths: tuple[int, ...] = (10, 30)
    copy_delays: tuple[int, ...] = (10, 20)
    lstm_hidden_size: int = 32
    hidden_sizes: Mapping[str, Mapping[str, int]] | None = None
    adding_max_steps: int = 600
    copy_max_steps: int = 120
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 1e-2
    optimizer_options: Mapping[str, float] = field(default_factory=dict)
    clip_norm: float | None = 1.0
    clip_value: float | None = None
    forget_gate_bias: float = 1.0
    eval_every: int = 50
    eval_batch_size: int = 256
    solved_fraction: float = 0.05
    stop_when_solved: bool = True
    num_seeds: int = 3
    cells: tuple[str, ...] = CELLS

    def __post_init__(self) -> None:
        unknown = set(self.cells) - set(CELLS)
        if unknown:
            raise ValueError(f"cells must be among {CELLS}, got {sorted(unknown)}")
        for name in ("lstm_hidden_size", "adding_max_steps", "copy_max_steps", "batch_size",
                     "eval_every", "eval_batch_size", "num_seeds"):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0 < self.solved_fraction < 1:
            raise ValueError(f"solved_fraction must be in (0, 1), got {self.solved_fraction!r}")
        if self.clip_norm is not None and self.clip_value is not None:
            raise ValueError("give clip_norm or clip_value, not both")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")
        for task, sizes in (self.hidden_sizes or {}).items():
            if task not in TASKS:
                raise ValueError(f"hidden_sizes: task must be one of {TASKS}, got {task!r}")
            bad = {cell: size for cell, size in sizes.items()
                   if cell not in CELLS or not isinstance(size, int) or size < 1}
            if bad:
                raise ValueError(f"hidden_sizes[{task!r}] must map cells {CELLS} to positive "
                                 f"ints, got {bad}")


def cell_hidden_size(settings: LongRangeSettings, task_name: str,
                     task: AddingTask | CopyTask, cell: str) -> int:
    """The hidden size of `cell` on `task`: `settings.hidden_sizes[task][cell]` where given, else
    the one that matches the parameter count (core and readout) of an LSTM of
    `lstm_hidden_size` units."""
    explicit = (settings.hidden_sizes or {}).get(task_name, {})
    if cell in explicit:
        return explicit[cell]
    lstm_size = settings.lstm_hidden_size
    budget = recurrent_parameter_count("lstm", task.input_size, lstm_size)
    budget += lstm_size * task.output_size + task.output_size  # the readout
    return hidden_size_for_budget(cell, task.input_size, task.output_size, budget)


def held_out_batch(
    task: AddingTask | CopyTask, settings: LongRangeSettings, device: torch.device, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch a run is evaluated on: `eval_batch_size` sequences drawn with `seed`."""
    return task.sample(settings.eval_batch_size, seed=seed, device=device)


def train_until_solved(
    model: torch.nn.Module,
    task: AddingTask | CopyTask,
    settings: LongRangeSettings,
    max_steps: int,
    *,
    device: str | torch.device | None = None,
    seed: int = 0,
    held_out_seed: int | None = None,
) -> tuple[list[int], list[float], bool, bool]:
    """Train `model` in chunks of `eval_every` steps with `fit`, one optimizer throughout,
    until the held-out loss is below `solved_fraction · baseline` (if `stop_when_solved`) or
    `max_steps` are done.

    Training batches come from a generator seeded with `seed`, the held-out batch is
    `held_out_batch(..., held_out_seed)` (default `seed + HELD_OUT_SEED_OFFSET`).
    Returns (eval steps, eval losses, solved, diverged); solved: the last loss is below target.
    """
    device = resolve_device(device)
    model.to(device)
    next_batch = training_batches(task, settings.batch_size, seed)  # one stream for all chunks
    held_out_seed = seed + HELD_OUT_SEED_OFFSET if held_out_seed is None else held_out_seed
    held_out = held_out_batch(task, settings, device, held_out_seed)

    def evaluate(trained: torch.nn.Module) -> float:
        return task.loss(trained(held_out[0]), held_out[1]).item()

    optimizer = OPTIMIZERS[settings.optimizer](model.parameters(), lr=settings.lr,
                                               **settings.optimizer_options)
    target = settings.solved_fraction * task.baseline_loss()
    steps_done, eval_steps, eval_losses = 0, [], []
    solved = diverged = False
    while steps_done < max_steps and not (solved and settings.stop_when_solved):
        chunk = min(settings.eval_every, max_steps - steps_done)
        history = fit(
            model, next_batch, task.loss, steps=chunk, optimizer=optimizer,
            clip_norm=settings.clip_norm, clip_value=settings.clip_value, device=device,
            progress=False, evaluate=evaluate,
        )  # fmt: skip
        steps_done += len(history.step)
        if history.diverged:
            diverged = True
            break
        eval_steps.append(steps_done)
        eval_losses.append(history.eval_loss[-1])
        solved = eval_losses[-1] < target
    return eval_steps, eval_losses, solved, diverged


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().cpu().clone() for name, value in model.state_dict().items()}


def _train_one(task_name: str, length: int, cell: str, settings: LongRangeSettings,
               device: torch.device, seed: int, held_out_seed: int) -> TaskRun:
    task = make_task(task_name, length)
    max_steps = settings.adding_max_steps if task_name == "adding" else settings.copy_max_steps
    hidden_size = cell_hidden_size(settings, task_name, task, cell)
    model = build_task_model(cell, task, hidden_size, device=device, seed=seed,
                             forget_gate_bias=settings.forget_gate_bias)
    initial_state = _cpu_state(model)
    start = time.perf_counter()
    eval_steps, eval_losses, solved, diverged = train_until_solved(
        model, task, settings, max_steps, device=device, seed=seed, held_out_seed=held_out_seed
    )
    score = score_held_out(model, task, *held_out_batch(task, settings, device, held_out_seed))
    return TaskRun(
        task=task_name, length=length, cell=cell, hidden_size=hidden_size,
        parameters=model.num_parameters(), baseline=task.baseline_loss(),
        final_loss=eval_losses[-1] if eval_losses else float("nan"),
        steps=eval_steps[-1] if eval_steps else 0, solved=solved, diverged=diverged,
        seconds=time.perf_counter() - start, seed=seed, accuracy=score.accuracy,
        eval_step=eval_steps, eval_loss=eval_losses,
        initial_state=initial_state, trained_state=_cpu_state(model),
    )  # fmt: skip


def run_long_range_tasks(
    settings: LongRangeSettings | None = None,
    *,
    device: str | torch.device | None = None,
    seed: int = 0,
) -> LongRangeResult:
    """Train every cell in `settings.cells` on the adding problem at each of `adding_lengths`
    and on copy memory at each of `copy_delays`, at about equal parameter counts (or the sizes
    `hidden_sizes` names), from seeds `seed, seed + 1, ..., seed + num_seeds - 1`.

    A seed sets a model's initial weights and its stream of training batches; every cell of
    one (task, length, seed) starts from it, and all seeds are scored on one held-out batch.
    """
    settings = settings or LongRangeSettings()
    device = resolve_device(device)
    seeds = tuple(range(seed, seed + settings.num_seeds))
    plan = [("adding", length) for length in settings.adding_lengths]
    plan += [("copy", delay) for delay in settings.copy_delays]
    runs = [_train_one(task_name, length, cell, settings, device, run_seed,
                       held_out_seed=seed + HELD_OUT_SEED_OFFSET)
            for task_name, length in plan for cell in settings.cells for run_seed in seeds]
    return LongRangeResult(settings=settings, runs=runs, seeds=seeds)
