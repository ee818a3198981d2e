"""Chapter 5's experiments for `rnncourse run ch05`, in the page's order, with the page's tables."""

from __future__ import annotations

from typing import Any

from rnncourse.chapters.ch05_curriculum_transfer.figures import (
    fine_tuning_table,
    length_curriculum_table,
    series_transfer_table,
    strategy_table,
    text_transfer_table,
)
from rnncourse.chapters.ch05_curriculum_transfer.length_curriculum import run_length_curriculum
from rnncourse.chapters.ch05_curriculum_transfer.series_transfer import run_series_transfer
from rnncourse.chapters.ch05_curriculum_transfer.strategies import run_curriculum_strategies
from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import run_text_transfer
from rnncourse.chapters.runner import ChapterRun, Experiment, book_checkpoint

__all__ = ["EXPERIMENTS"]


def length_curriculum(run: ChapterRun) -> tuple[Any, str]:
    result = run_length_curriculum(**run.settings.length_curriculum, device=run.device,
                                   seed=run.seed)
    return result, length_curriculum_table(result)


def strategies(run: ChapterRun) -> tuple[Any, str]:
    result = run_curriculum_strategies(**run.settings.strategies, device=run.device,
                                       seed=run.seed)
    ranking = " > ".join(result.ranking())
    return result, f"{strategy_table(result)}\n\nmeasured ranking: {ranking}"


def text_transfer(run: ChapterRun) -> tuple[Any, str]:
    result = run_text_transfer(book_checkpoint(run.settings.checkpoint),
                               **run.settings.text_transfer, device=run.device, seed=run.seed)
    return result, f"{text_transfer_table(result)}\n\n{fine_tuning_table(result)}"


def series_transfer(run: ChapterRun) -> tuple[Any, str]:
    result = run_series_transfer(**run.settings.series_transfer, device=run.device,
                                 seed=run.seed)
    return result, series_transfer_table(result)


EXPERIMENTS = (
    Experiment("length-curriculum", "a length curriculum on the adding problem at T = 100",
               length_curriculum),
    Experiment("strategies", "Zaremba and Sutskever's four strategies on addition", strategies),
    Experiment("text-transfer", "fine-tuning a pretrained character model on another book",
               text_transfer),
    Experiment("series-transfer", "a forecaster pretrained on synthetic cycles, on sunspots",
               series_transfer),
)
