"""Chapter 1's experiments for `rnncourse run ch01`, in the page's order, with the page's tables."""

from __future__ import annotations

from typing import Any

from rnncourse.chapters.ch01_long_term_memory.claims import (
    adding_outcome,
    copy_delay_outcome,
    copy_size_outcome,
    rate_comparison,
    rates_under_bound,
)
from rnncourse.chapters.ch01_long_term_memory.figures import (
    adding_table,
    copy_delay_table,
    copy_size_table,
    gradient_decay_table,
)
from rnncourse.chapters.ch01_long_term_memory.gradient_decay import run_gradient_decay
from rnncourse.chapters.ch01_long_term_memory.memory_tasks import (
    run_adding_problem,
    run_copy_capacity,
)
from rnncourse.chapters.ch01_long_term_memory.scale_differences import (
    adding_scale_difference,
    copy_scale_difference,
)
from rnncourse.chapters.runner import ChapterRun, Experiment

__all__ = ["EXPERIMENTS"]


def gradient_decay(run: ChapterRun) -> tuple[Any, str]:
    result = run_gradient_decay(**run.settings.gradient_decay, device=run.device, seed=run.seed)
    claims = [rates_under_bound(result) + ".",
              rate_comparison(result, "orthogonal", "ρ = 1.0") + ".",
              rate_comparison(result, "identity", "orthogonal") + "."]
    return result, "\n\n".join([gradient_decay_table(result), *claims])


def adding(run: ChapterRun) -> tuple[Any, str]:
    result = run_adding_problem(**run.settings.adding, device=run.device, seed=run.seed)
    table = adding_table(result)
    claims = f"{adding_outcome(result)} {adding_scale_difference(result)}"
    return result, f"{result.settings.describe()}\n\n{table}\n\n{claims}"


def copy(run: ChapterRun) -> tuple[Any, str]:
    result = run_copy_capacity(**run.settings.copy, device=run.device, seed=run.seed)
    tables = f"{copy_delay_table(result)}\n\n{copy_size_table(result)}"
    claims = " ".join([copy_delay_outcome(result), copy_size_outcome(result),
                       copy_scale_difference(result)])
    header = f"{result.settings.describe()}, copying {result.copy_length}"
    return result, f"{header}\n\n{tables}\n\n{claims}"


EXPERIMENTS = (
    Experiment("gradient-decay", "the gradient against the lag, for six W_hh", gradient_decay),
    Experiment("adding", "the adding problem: tanh RNN against LSTM", adding),
    Experiment("copy", "copy memory: loss against delay, recall against hidden units", copy),
)
