"""Chapter 6's experiments for `rnncourse run ch06`, in the page's order, with its numbers."""

from __future__ import annotations

from typing import Any

from rnncourse.chapters.runner import ChapterRun, Experiment, book_checkpoint
from rnncourse.training.forecasting import run_forecasting_study
from rnncourse.training.language import (
    evaluate_bits_per_character,
    load_language_model,
    ngram_baselines,
    prepare_corpus,
    train_language_model,
)

__all__ = ["CHECKPOINT_CELLS", "EXPERIMENTS"]

# The shipped language models, book/checkpoints/ch06-lm-<cell>.pt.
CHECKPOINT_CELLS = ("rnn_tanh", "gru", "lstm")


def baselines(run: ChapterRun) -> tuple[Any, str]:
    splits = prepare_corpus(**run.settings.corpus)
    rows = ngram_baselines(splits, **run.settings.ngram_baselines)
    run.results["corpus"] = splits
    return rows, "\n\n".join(f"{row['model']}: test {row['test_bpc']:.3f} bpc "
                             f"(k = {row['smoothing']})" for row in rows)


def language_model(run: ChapterRun) -> tuple[Any, str]:
    result = train_language_model(splits=run.results["corpus"], **run.settings.language_model,
                                  device=run.device, seed=run.seed)
    return result, (f"{result.parameters:,} parameters, {len(result.history.step)} steps; "
                    f"validation bpc {[round(v, 3) for v in result.valid_bpc]}; test bpc of "
                    f"the best weights {result.test_bpc:.3f}")


def checkpoints(run: ChapterRun) -> tuple[Any, str]:
    splits, lines, loaded = run.results["corpus"], [], {}
    for cell in CHECKPOINT_CELLS:
        model = load_language_model(book_checkpoint(f"ch06-lm-{cell}.pt"), device=run.device)
        measured = evaluate_bits_per_character(model.model, splits.test)
        loaded[cell] = model
        lines.append(f"{cell}: test {measured:.3f} bpc (recorded when trained: "
                     f"{model.metrics['test_bpc']:.3f})")
    return loaded, "\n\n".join(lines)


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
    Experiment("language-model", "an LSTM language model with truncated BPTT", language_model,
               needs=("baselines",)),
    Experiment("checkpoints", "the shipped RNN, GRU and LSTM models, scored again", checkpoints,
               needs=("baselines",)),
    Experiment("co2", "forecasting Mauna Loa CO2 against naive and Holt-Winters forecasts", co2),
    Experiment("sunspots", "forecasting sunspots: nothing beats the cycle", sunspots),
)
