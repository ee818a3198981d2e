"""Chapter 6's experiments for `rnncourse run ch06`, in the page's order, with its numbers."""

from __future__ import annotations

from typing import Any

from rnncourse.chapters.ch06_language_and_time_series.cell_comparison import (
    CELL_LABELS,
    SHIPPED_SEEDS,
    compare_cells,
    load_shipped_runs,
    shipped_checkpoint_name,
)
from rnncourse.chapters.ch06_language_and_time_series.claims import (
    attention_sentence,
    cell_ranking_sentence,
    schedule_sentence,
)
from rnncourse.chapters.ch06_language_and_time_series.translation import run_attention_study
from rnncourse.chapters.runner import ChapterRun, Experiment, book_checkpoint
from rnncourse.training.forecasting import run_forecasting_study
from rnncourse.training.language import (
    evaluate_bits_per_character,
    ngram_baselines,
    prepare_corpus,
)

__all__ = ["EXPERIMENTS"]



def baselines(run: ChapterRun) -> tuple[Any, str]:
    splits = prepare_corpus(**run.settings.corpus)
    rows = ngram_baselines(splits, **run.settings.ngram_baselines)
    run.results["corpus"] = splits
    return rows, "\n\n".join(f"{row['model']}: test {row['test_bpc']:.3f} bpc "
                             f"(k = {row['smoothing']})" for row in rows)


def cell_comparison(run: ChapterRun) -> tuple[Any, str]:
    comparison = compare_cells(run.results["corpus"], **run.settings.cell_comparison,
                               device=run.device, seed=run.seed)
    return comparison, cell_ranking_sentence(comparison.test_bpc)


def long_runs(run: ChapterRun) -> tuple[Any, str]:
    paths = [book_checkpoint(shipped_checkpoint_name(cell, seed))  # says where it looked
             for cell in CELL_LABELS for seed in SHIPPED_SEEDS]
    shipped = load_shipped_runs(paths[0].parent, tuple(CELL_LABELS), SHIPPED_SEEDS,
                                device=run.device)
    test = run.results["corpus"].test
    lines = []
    for label, models in shipped.runs.items():
        for seed, loaded in zip(shipped.seeds, models, strict=True):
            measured = evaluate_bits_per_character(loaded.model, test)
            lines.append(f"{label}, seed {seed}: test {measured:.3f} bpc (recorded when "
                         f"trained: {loaded.metrics['test_bpc']:.3f})")
    metrics = {label: [loaded.metrics for loaded in models]
               for label, models in shipped.runs.items()}
    report = [*lines, cell_ranking_sentence(shipped.test_bpc), schedule_sentence(metrics)]
    return shipped, "\n\n".join(report)


def attention(run: ChapterRun) -> tuple[Any, str]:
    study = run_attention_study(**run.settings.attention, device=run.device, seed=run.seed)
    return study, attention_sentence(study.lengths, study.accuracy["no attention"],
                                     study.accuracy["attention"])


def _forecasting(run: ChapterRun, arguments: Any) -> tuple[Any, str]:
    study = run_forecasting_study(**arguments, device=run.device, seed=run.seed)
    lines = [f"{method}: MAE {errors['mae']:.3f}, RMSE {errors['rmse']:.3f}, MASE "
             f"{errors['mase']:.2f}" for method, errors in study.errors.items()]
    return study, "\n\n".join(lines)


def co2(run: ChapterRun) -> tuple[Any, str]:
    return _forecasting(run, run.settings.co2)


def sunspots(run: ChapterRun) -> tuple[Any, str]:
    return _forecasting(run, run.settings.sunspots)


EXPERIMENTS = (
    Experiment("baselines", "unigram and bigram counts on Pride and Prejudice", baselines),
    Experiment("cell-comparison", "tanh RNN, GRU and LSTM language models, several seeds each",
               cell_comparison, needs=("baselines",)),
    Experiment("long-runs", "the shipped long runs, scored again", long_runs,
               needs=("baselines",)),
    Experiment("attention", "an encoder-decoder with and without attention, against length",
               attention),
    Experiment("co2", "forecasting Mauna Loa CO2 against naive and Holt-Winters forecasts", co2),
    Experiment("sunspots", "forecasting yearly sunspots (an irregular cycle), same baselines",
               sunspots),
)
