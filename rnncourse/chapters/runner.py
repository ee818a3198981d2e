"""Running a chapter's experiments outside the book: what `rnncourse run chNN` does.

Each chapter's `run.py` lists its experiments, in the page's order, as `Experiment`s: a name, a
one-line title, and a function that runs the experiment on a `ChapterRun` (the chapter's
settings at one scale, a device and a seed) and returns its result and a Markdown report (the
tables and numbers the page prints). An experiment that reuses another's result (chapter 3's
gradient flow reads the models of its long-range comparison) names it in `needs`, and runs
after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnncourse.chapters import chapter_module, chapter_name
from rnncourse.runtime import manual_seed, resolve_device

__all__ = [
    "ChapterRun",
    "Experiment",
    "book_checkpoint",
    "execute",
    "experiments_of",
    "prepare_run",
    "run_chapter",
]

# The checkpoints the book ships, in the repository beside the package (book/checkpoints/).
BOOK_CHECKPOINTS = Path(__file__).resolve().parents[2] / "book" / "checkpoints"


def book_checkpoint(name: str) -> Path:
    """The path of a checkpoint the book ships, `book/checkpoints/<name>` in the repository (a
    FileNotFoundError that says where it looked when it is not there)."""
    path = BOOK_CHECKPOINTS / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: run chapters from a copy of the course repository, whose "
            "book/checkpoints/ holds the pretrained models the book ships")
    return path


@dataclass
class ChapterRun:
    """What every experiment of one run gets: the chapter's settings at `scale`, the device, the
    seed, and the results of the experiments run before it (by name)."""

    chapter: str
    scale: str
    settings: Any
    device: torch.device
    seed: int
    results: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """One experiment of a chapter: `run(chapter_run) -> (result, Markdown report)`."""

    name: str
    title: str
    run: Callable[[ChapterRun], tuple[Any, str]]
    needs: tuple[str, ...] = ()


def experiments_of(chapter: str | int) -> tuple[Experiment, ...]:
    """The experiments of a chapter, in the order its page runs them."""
    return tuple(chapter_module(chapter, "run").EXPERIMENTS)


def _plan(experiments: Sequence[Experiment], names: Iterable[str] | None) -> list[Experiment]:
    """The experiments to run for `names` (None: all), with what they need, in page order."""
    by_name = {experiment.name: experiment for experiment in experiments}
    if names is None:
        return list(experiments)
    wanted: set[str] = set()

    def add(name: str) -> None:
        if name not in by_name:
            raise ValueError(f"no experiment {name!r}; this chapter has: {', '.join(by_name)}")
        wanted.add(name)
        for needed in by_name[name].needs:
            add(needed)

    for name in names:
        add(name)
    return [experiment for experiment in experiments if experiment.name in wanted]


def prepare_run(
    chapter: str | int,
    *,
    scale: str = "cpu",
    names: Iterable[str] | None = None,
    device: str | torch.device | None = None,
    seed: int = 0,
) -> tuple[ChapterRun, list[Experiment]]:
    """The run and the experiments to run, every argument checked before anything runs (a bad
    chapter, scale, experiment name or device is a ValueError that says what is allowed)."""
    name = chapter_name(chapter)
    settings = chapter_module(name, "settings").SETTINGS.at(scale)
    plan = _plan(experiments_of(name), names)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    return ChapterRun(name, scale, settings, resolve_device(device), seed), plan


def execute(run: ChapterRun, plan: Sequence[Experiment],
            report: Callable[[str], None] = print) -> ChapterRun:
    """Run the experiments of `plan` in order and `report` each one's Markdown when it is done;
    their results go into `run.results`."""
    report(f"# {run.chapter} at {run.scale} scale, on {run.device}, seed {run.seed}\n")
    for experiment in plan:
        manual_seed(run.seed)  # each experiment starts from the same global random state
        started = time.perf_counter()
        result, text = experiment.run(run)
        run.results[experiment.name] = result
        seconds = time.perf_counter() - started
        report(f"## {experiment.name}: {experiment.title}\n\n{text.rstrip()}\n\n"
               f"({seconds:.0f} s)\n")
    return run


def run_chapter(
    chapter: str | int,
    *,
    scale: str = "cpu",
    names: Iterable[str] | None = None,
    device: str | torch.device | None = None,
    seed: int = 0,
    report: Callable[[str], None] = print,
) -> ChapterRun:
    """Run a chapter's experiments (`names`, or all) at `scale`, reporting each as it is done;
    return the run, whose `results` hold every experiment's result."""
    run, plan = prepare_run(chapter, scale=scale, names=names, device=device, seed=seed)
    return execute(run, plan, report)
