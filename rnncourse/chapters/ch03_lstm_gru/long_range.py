"""Chapter 3 experiment: RNN, LSTM and GRU of about equal size on the adding and copy tasks.

Each cell is trained on each task at each length T until it solves it (its held-out loss
falls below a small fraction of the trivial baseline's) or runs out of steps; the result is
its final held-out loss beside the baseline. CPU-scale settings are the default; paper-scale
ones (Arjovsky, Shah and Bengio 2016's sizes) are in `settings.py`, and run with
`rnncourse run ch03 --scale paper`.

Published results to hold these against are in `PUBLISHED_RESULTS`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from rnncourse.data.synthetic import AddingTask, CopyTask
from rnncourse.models import RecurrentModel
from rnncourse.models.parameter_count import hidden_size_for_budget, recurrent_parameter_count
from rnncourse.runtime import resolve_device
from rnncourse.training import fit, make_optimizer
from rnncourse.training.task_training import (
    build_task_model,
    score_held_out,
    training_batches,
)

__all__ = [
    "CELLS",
    "CELL_LABELS",
    "PUBLISHED_RESULTS",
    "LongRangeResult",
    "LongRangeSettings",
    "TaskRun",
    "build_task_model",
    "make_task",
    "run_long_range_tasks",
    "train_until_solved",
]

CELLS = ("rnn_tanh", "lstm", "gru")
CELL_LABELS = {"rnn_tanh": "RNN", "lstm": "LSTM", "gru": "GRU"}
TASKS = ("adding", "copy")

# What the papers report, quoted with their source. Losses: MSE (adding), cross entropy (copy).
PUBLISHED_RESULTS = [
    {"task": "adding", "T": "100 to 750", "source": "Arjovsky et al. 2016, Fig. 2",
     "result": "baseline 0.167; LSTM beats it up to T = 400, the tanh RNN never"},
    {"task": "copy", "T": "100, 200, 300, 500", "source": "Arjovsky et al. 2016, Fig. 1",
     "result": "baseline 0.173, 0.095, 0.065, 0.040; LSTM beats it only at T = 100"},
    {"task": "adding", "T": "600", "source": "Bai, Kolter and Koltun 2018, Table 1",
     "result": "MSE: LSTM 0.164, GRU 5.3e-5, RNN 0.177 (baseline 0.167)"},
    {"task": "copy", "T": "1000", "source": "Bai, Kolter and Koltun 2018, Table 1",
     "result": "loss: LSTM 0.0204, GRU 0.0197, RNN 0.0202 (baseline 0.0204)"},
]  # fmt: skip


@dataclass(frozen=True)
class LongRangeSettings:
    """Sizes and optimisation of the comparison; every cell gets the same budget.

    Each cell's hidden size is chosen so that its model has about as many parameters as an
    LSTM with `lstm_hidden_size` units. A run stops once its held-out loss is below
    `solved_fraction` times the baseline, or after `adding_max_steps` (`copy_max_steps`).
    """

    adding_lengths: tuple[int, ...] = (20, 100)
    copy_delays: tuple[int, ...] = (10, 20)
    lstm_hidden_size: int = 32
    adding_max_steps: int = 1000
    copy_max_steps: int = 400
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 1e-2
    clip_norm: float = 1.0
    forget_gate_bias: float = 1.0
    eval_every: int = 50
    eval_batch_size: int = 512
    solved_fraction: float = 0.05
    cells: tuple[str, ...] = CELLS

    def __post_init__(self) -> None:
        unknown = set(self.cells) - set(CELLS)
        if unknown:
            raise ValueError(f"cells must be among {CELLS}, got {sorted(unknown)}")
        for name in ("lstm_hidden_size", "adding_max_steps", "copy_max_steps", "batch_size",
                     "eval_every", "eval_batch_size"):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not 0 < self.solved_fraction < 1:
            raise ValueError(f"solved_fraction must be in (0, 1), got {self.solved_fraction!r}")


@dataclass
class TaskRun:
    """One cell trained on one task at one length: what it reached, and its weights.

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


@dataclass
class LongRangeResult:
    settings: LongRangeSettings
    runs: list[TaskRun]

    def get(self, task: str, length: int, cell: str) -> TaskRun:
        for run in self.runs:
            if (run.task, run.length, run.cell) == (task, length, cell):
                return run
        raise KeyError(f"no run for task={task!r}, length={length}, cell={cell!r}")

    def lengths(self, task: str) -> list[int]:
        return sorted({run.length for run in self.runs if run.task == task})


def make_task(task: str, length: int) -> AddingTask | CopyTask:
    """AddingTask(T) or CopyTask(delay=T) (8 symbols, 10 to copy, as in Arjovsky et al.)."""
    if task == "adding":
        return AddingTask(length)
    if task == "copy":
        return CopyTask(length)
    raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().cpu().clone() for name, value in model.state_dict().items()}


def held_out_batch(
    task: AddingTask | CopyTask, settings: LongRangeSettings, device: torch.device, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch a run is evaluated on: `eval_batch_size` sequences drawn with `seed + 1`."""
    return task.sample(settings.eval_batch_size, seed=seed + 1, device=device)


def train_until_solved(
    model: torch.nn.Module,
    task: AddingTask | CopyTask,
    settings: LongRangeSettings,
    max_steps: int,
    *,
    device: str | torch.device | None = None,
    seed: int = 0,
) -> tuple[list[int], list[float], bool, bool]:
    """Train `model` in chunks of `eval_every` steps with `fit`, one optimizer throughout,
    until the held-out loss is below `solved_fraction · baseline` or `max_steps` are done.

    Training batches come from a generator seeded with `seed`, the held-out batch is
    `held_out_batch(...)`. Returns (eval steps, eval losses, solved, diverged).
    """
    device = resolve_device(device)
    model.to(device)
    next_batch = training_batches(task, settings.batch_size, seed)  # one stream for all chunks
    held_out = held_out_batch(task, settings, device, seed)

    def evaluate(trained: torch.nn.Module) -> float:
        return task.loss(trained(held_out[0]), held_out[1]).item()

    optimizer = make_optimizer(settings.optimizer, model.parameters(), settings.lr)
    target = settings.solved_fraction * task.baseline_loss()
    steps_done, eval_steps, eval_losses = 0, [], []
    solved = diverged = False
    while steps_done < max_steps and not solved:
        chunk = min(settings.eval_every, max_steps - steps_done)
        history = fit(
            model, next_batch, task.loss, steps=chunk, optimizer=optimizer,
            clip_norm=settings.clip_norm, device=device, progress=False, evaluate=evaluate,
        )  # fmt: skip
        steps_done += len(history.step)
        if history.diverged:
            diverged = True
            break
        eval_steps.append(steps_done)
        eval_losses.append(history.eval_loss[-1])
        solved = eval_losses[-1] < target
    return eval_steps, eval_losses, solved, diverged


def run_long_range_tasks(
    settings: LongRangeSettings | None = None,
    *,
    device: str | torch.device | None = None,
    seed: int = 0,
) -> LongRangeResult:
    """Train every cell in `settings.cells` on the adding problem at each of `adding_lengths`
    and on copy memory at each of `copy_delays`, at about equal parameter counts.

    Models are built with torch.nn's fused kernels (fast; the same weights as rnncourse's
    modules, see `TaskRun.model`). Every model of one (task, length) starts from `seed`.
    """
    settings = settings or LongRangeSettings()
    device = resolve_device(device)
    runs = []
    plan = [("adding", length) for length in settings.adding_lengths]
    plan += [("copy", delay) for delay in settings.copy_delays]
    for task_name, length in plan:
        task = make_task(task_name, length)
        max_steps = settings.adding_max_steps if task_name == "adding" else settings.copy_max_steps
        lstm_size = settings.lstm_hidden_size
        budget = recurrent_parameter_count("lstm", task.input_size, lstm_size)
        budget += lstm_size * task.output_size + task.output_size  # the readout
        for cell in settings.cells:
            hidden_size = hidden_size_for_budget(cell, task.input_size, task.output_size, budget)
            model = build_task_model(cell, task, hidden_size, device=device, seed=seed,
                                     forget_gate_bias=settings.forget_gate_bias)
            initial_state = _cpu_state(model)
            start = time.perf_counter()
            eval_steps, eval_losses, solved, diverged = train_until_solved(
                model, task, settings, max_steps, device=device, seed=seed
            )
            score = score_held_out(model, task, *held_out_batch(task, settings, device, seed))
            runs.append(TaskRun(
                task=task_name, length=length, cell=cell, hidden_size=hidden_size,
                parameters=model.num_parameters(), baseline=task.baseline_loss(),
                final_loss=eval_losses[-1] if eval_losses else float("nan"),
                steps=eval_steps[-1] if eval_steps else 0, solved=solved, diverged=diverged,
                seconds=time.perf_counter() - start, accuracy=score.accuracy,
                eval_step=eval_steps, eval_loss=eval_losses,
                initial_state=initial_state, trained_state=_cpu_state(model),
            ))  # fmt: skip
    return LongRangeResult(settings=settings, runs=runs)
