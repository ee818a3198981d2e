"""Chapter 1, part 2: what vanishing gradients cost on tasks that need a long memory.

* The adding problem (`run_adding_problem`): the target y = u_p + u_q depends on two values
  marked at random positions, one in each half of a sequence of length T. A model that learns
  nothing long-range predicts the mean and scores MSE 1/6. Arjovsky, Shah and Bengio (2016,
  sec. 5.2 and Fig. 2; 128 units, RMSProp) find that an LSTM beats that baseline convincingly up
  to T = 400 and does well at T = 750 (its MSE not close to 0), while a tanh RNN does not beat it
  at any of T = 100, 200, 400, 750.
* Copy memory (`run_copy_capacity`): L symbols from K must be held for a delay T and written out.
  The memoryless strategy scores L ln K / (T + 2L); the experiment measures how far a trained
  LSTM gets below it as the delay grows, and how recall falls with fewer hidden units. In
  Arjovsky et al. (sec. 5.1 and Fig. 1; L = 10, K = 8, an LSTM of 40 units) the LSTM beats the
  baseline only at the shortest delay, T = 100, of T = 100, 200, 300, 500.

Every run trains one `RecurrentModel` with `rnncourse.training.fit` on fresh batches drawn from a
seeded generator and evaluates it on a held-out batch. The chapter's CPU settings are small; the
paper's (in `settings.py`) run on a GPU with `rnncourse run ch01 --scale paper`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import torch

from rnncourse.chapters.ch01_long_term_memory.task_runs import (
    TaskRun,
    TrainingSettings,
    check_cell,
    train_on_task,
)
from rnncourse.data.synthetic import AddingTask, CopyTask

__all__ = [
    "COPY_PAPER_DELAYS",
    "AddingResult",
    "CopyCapacityResult",
    "run_adding_problem",
    "run_copy_capacity",
]

# The delays of Arjovsky et al. (2016)'s copy-memory experiment, where they report the
# memoryless baseline 10 ln 8 / (T + 20) that `CopyCapacityResult.paper_baselines` recomputes.
COPY_PAPER_DELAYS = (100, 200, 300, 500)


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
    cells = tuple(check_cell(cell) for cell in cells)
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
    check_cell(cell)
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
