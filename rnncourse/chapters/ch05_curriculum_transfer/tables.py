"""Chapter 5's tables, as Markdown: each says over how many seeds its numbers are taken."""

from __future__ import annotations

from collections.abc import Sequence

from rnncourse.chapters.ch05_curriculum_transfer.length_curriculum import LengthCurriculumResult
from rnncourse.chapters.ch05_curriculum_transfer.published import Finding
from rnncourse.chapters.ch05_curriculum_transfer.series_transfer import (
    LEARNED_METHODS,
    SeriesTransferResult,
)
from rnncourse.chapters.ch05_curriculum_transfer.strategies import StrategyResult, mean_and_std
from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import (
    FINE_TUNED,
    SCRATCH,
    TextTransferResult,
)
from rnncourse.chapters.markdown import markdown_table

__all__ = [
    "findings_table",
    "fine_tuning_table",
    "length_curriculum_table",
    "series_transfer_table",
    "strategy_table",
    "text_transfer_table",
]


def _seeds(count: int) -> str:
    return "one seed" if count == 1 else f"{count} seeds"


def _mean_std(mean: float, std: float, digits: int) -> str:
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def length_curriculum_table(result: LengthCurriculumResult) -> str:
    """Steps (and time steps of recurrence) to the threshold per seed, and the final MSE."""
    rows = []
    for label, summary in result.summary().items():
        runs = result.by_label(label)
        steps = ", ".join(str(run.steps_to_threshold) if run.steps_to_threshold
                          else f"> {result.steps}" for run in runs)
        timesteps = ", ".join(f"{run.timesteps_to_threshold:,}" if run.timesteps_to_threshold
                              else "-" for run in runs)
        rows.append([label, f"{summary['reached']} of {summary['runs']}", steps, timesteps,
                     _mean_std(summary["mean_final_mse"], summary["std_final_mse"], 4)])
    count = len({run.seed for run in result.runs})
    header = ["training", "runs below threshold",
              f"steps to MSE < {result.threshold:g} at T = {result.target_length} (each seed)",
              "Σ T over those steps",
              f"final MSE at T = {result.target_length} (mean ± sd, {_seeds(count)})"]
    return markdown_table(header, rows)


def strategy_table(result: StrategyResult) -> str:
    """Final accuracy at the target difficulty (mean ± sd and per seed), and at every
    difficulty (mean ± sd)."""
    stats, by_digits = result.final_accuracy_stats(), result.accuracy_by_digits_stats()
    rows = [[strategy, _mean_std(*stats[strategy], 3),
             ", ".join(f"{run.final_accuracy:.3f}" for run in result.by_strategy(strategy)),
             " / ".join(_mean_std(mean, std, 2) for mean, std in by_digits[strategy])]
            for strategy in result.strategies]
    seeds = _seeds(len(result.seeds))
    header = ["strategy", f"accuracy at {result.max_digits} digits (mean ± sd, {seeds})",
              "each seed",
              "accuracy at " + " / ".join(str(d) for d in range(1, result.max_digits + 1))
              + " digits (mean ± sd)"]
    return markdown_table(header, rows)


def text_transfer_table(result: TextTransferResult) -> str:
    """Test bpc from scratch and fine-tuned per amount of target text, and the gain of
    fine-tuning seed by seed: mean ± sd over seeds."""
    rows = []
    for size in result.train_sizes:
        rows.append([f"{size:,}", _mean_std(*result.test_stats(SCRATCH, size), 3),
                     _mean_std(*result.test_stats(FINE_TUNED, size), 3),
                     _mean_std(*result.gain_stats(size), 3)])
    seeds = _seeds(len(result.seeds))
    header = ["target text for training (characters)", f"from scratch (test bpc, {seeds})",
              "pretrained + fine-tuned (test bpc)", "gain (bits per character)"]
    return markdown_table(header, rows)


def fine_tuning_table(result: TextTransferResult) -> str:
    """Each way of fine-tuning at the smallest amount: trainable parameters, best validation
    and test bpc (mean ± sd over seeds)."""
    size = result.strategies_size
    rows = []
    for label in result.strategy_labels:
        runs = result.runs_of(label, size)
        valid = mean_and_std([run.best_valid_bpc for run in runs])
        rows.append([label, f"{runs[0].trainable_parameters:,}", _mean_std(*valid, 3),
                     _mean_std(*result.test_stats(label, size), 3)])
    header = [f"training on {size:,} characters", "trainable parameters",
              f"best validation bpc (mean ± sd, {_seeds(len(result.seeds))})", "test bpc"]
    return markdown_table(header, rows)


def series_transfer_table(result: SeriesTransferResult) -> str:
    """Test MAE per method and history: mean ± sd over seeds for the learned forecasts."""
    means, stds = result.mae, result.mae_std
    rows = []
    for method in result.per_seed:
        learned = method in LEARNED_METHODS
        rows.append([method] + [_mean_std(mean, std, 1) if learned else f"{mean:.1f}"
                                for mean, std in zip(means[method], stds[method], strict=True)])
    seeds = _seeds(len(result.seeds))
    header = [f"forecast (learned ones: mean ± sd, {seeds})"] + [
        f"{length} years of history" for length in result.history_lengths]
    return markdown_table(header, rows)


def findings_table(findings: Sequence[Finding]) -> str:
    """The published statements a section holds its results against, with where they stand."""
    rows = [[finding.authors, finding.statement, finding.where, finding.checked]
            for finding in findings]
    return markdown_table(["paper", "reports", "where", "what we read"], rows)
