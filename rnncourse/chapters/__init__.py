"""One folder per chapter page: its experiments, figures, widgets and settings.

    ch01_long_term_memory/           book/01-long-term-memory.md
    ch02_exploding_gradients/        book/02-exploding-gradients.md
    ch03_lstm_gru/                   book/03-lstm-gru.md
    ch04_efficiency/                 book/04-efficiency.md
    ch05_curriculum_transfer/        book/05-curriculum-transfer.md
    ch06_language_and_time_series/   book/06-language-and-time-series.md
    scales.py                        the cpu and paper scales, `Scaled` settings
    plotting.py                      the colour-blind-safe style and helpers every figure uses
    diagram_kit.py                   boxes, arrows and highlighted paths for the diagrams
    runner.py                        what `rnncourse run chNN` does with a chapter's run.py

In each chapter folder: experiment modules (plain results, no matplotlib), `figures.py`,
`diagrams.py` (where the page has diagrams: cells, unrolled graphs, scans), `widgets.py`,
`settings.py` (`SETTINGS`, one object with a `cpu` and a `paper` scale) and
`run.py` (the experiments `rnncourse run chNN` runs, in the page's order).

A chapter builds on the core (`rnncourse.models`, `rnncourse.data`, `rnncourse.training`) and
never on another chapter; pages build on chapters.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["CHAPTERS", "chapter_module", "chapter_name"]

# The short name of each chapter -> its package under rnncourse/chapters/.
CHAPTERS = {
    "ch01": "ch01_long_term_memory",
    "ch02": "ch02_exploding_gradients",
    "ch03": "ch03_lstm_gru",
    "ch04": "ch04_efficiency",
    "ch05": "ch05_curriculum_transfer",
    "ch06": "ch06_language_and_time_series",
}


def chapter_name(chapter: str | int) -> str:
    """"ch03" for 3, "3", "03", "ch03" or "ch03_lstm_gru"; a ValueError that lists the chapters
    for anything else."""
    text = str(chapter).strip().lower()
    if text.isdigit():
        text = f"ch{int(text):02d}"
    for short, package in CHAPTERS.items():
        if text in (short, package):
            return short
    raise ValueError(f"chapter must be one of {', '.join(CHAPTERS)} (or 1 to {len(CHAPTERS)}), "
                     f"got {chapter!r}")


def chapter_module(chapter: str | int, module: str) -> ModuleType:
    """A module of a chapter's folder, e.g. `chapter_module("ch03", "settings")`."""
    package = CHAPTERS[chapter_name(chapter)]
    return importlib.import_module(f"rnncourse.chapters.{package}.{module}")
