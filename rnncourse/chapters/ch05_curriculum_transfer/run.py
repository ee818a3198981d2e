"""Chapter 5's experiments for `rnncourse run ch05`, in the page's order, with the page's tables."""

from __future__ import annotations

from typing import Any

from rnncourse.chapters.ch05_curriculum_transfer.curriculum_claims import (
    difficulties_claim,
    length_curriculum_claim,
    naive_claim,
    strategy_ranking_claim,
    zaremba_comparison_claim,
)
from rnncourse.chapters.ch05_curriculum_transfer.length_curriculum import run_length_curriculum
from rnncourse.chapters.ch05_curriculum_transfer.series_transfer import run_series_transfer
from rnncourse.chapters.ch05_curriculum_transfer.strategies import run_curriculum_strategies
from rnncourse.chapters.ch05_curriculum_transfer.tables import (
    fine_tuning_table,
    length_curriculum_table,
    series_transfer_table,
    strategy_table,
    text_transfer_table,
)
from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import run_text_transfer
from rnncourse.chapters.ch05_curriculum_transfer.transfer_claims import (
    fine_tuning_ways_claim,
    series_transfer_claim,
    text_transfer_claim,
)
from rnncourse.chapters.runner import ChapterRun, Experiment, book_checkpoint

__all__ = ["EXPERIMENTS"]


def length_curriculum(run: ChapterRun) -> tuple[Any, str]:
    result = run_length_curriculum(**run.settings.length_curriculum, device=run.device,
                                   seed=run.seed)
    return result, f"{length_curriculum_table(result)}\n\n{length_curriculum_claim(result)}"


def strategies(run: ChapterRun) -> tuple[Any, str]:
    result = run_curriculum_strategies(**run.settings.strategies, device=run.device,
                                       seed=run.seed)
    claims = [strategy_ranking_claim(result), naive_claim(result), naive_claim(result, "combined"),
              difficulties_claim(result),
              zaremba_comparison_claim(result)]
    return result, "\n\n".join([strategy_table(result), *claims])


def text_transfer(run: ChapterRun) -> tuple[Any, str]:
    result = run_text_transfer(book_checkpoint(run.settings.checkpoint),
                               **run.settings.text_transfer, device=run.device, seed=run.seed)
    return result, "\n\n".join([text_transfer_table(result), text_transfer_claim(result),
                                 fine_tuning_table(result), fine_tuning_ways_claim(result)])


def series_transfer(run: ChapterRun) -> tuple[Any, str]:
    result = run_series_transfer(**run.settings.series_transfer, device=run.device,
                                 seed=run.seed)
    return result, f"{series_transfer_table(result)}\n\n{series_transfer_claim(result)}"


EXPERIMENTS = (
    Experiment("length-curriculum", "a length curriculum on the adding problem",
               length_curriculum),
    Experiment("strategies", "Zaremba and Sutskever's four strategies on addition", strategies),
    Experiment("text-transfer", "fine-tuning a pretrained character model on another book",
               text_transfer),
    Experiment("series-transfer", "a forecaster pretrained on synthetic cycles, on sunspots",
               series_transfer),
)
