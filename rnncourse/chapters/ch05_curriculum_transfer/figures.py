"""Figures for chapter 5 (curriculum learning and transfer learning); the tables are in
`tables.py`. Where runs have several seeds, the figures show each seed or the spread."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from rnncourse.chapters.ch05_curriculum_transfer.length_curriculum import LengthCurriculumResult
from rnncourse.chapters.ch05_curriculum_transfer.series_transfer import SeriesTransferResult
from rnncourse.chapters.ch05_curriculum_transfer.strategies import StrategyResult
from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import (
    FINE_TUNED,
    SCRATCH,
    TextTransferResult,
)
from rnncourse.chapters.plotting import OKABE_ITO, PALETTE, new_figure
from rnncourse.data.text import corpus_info
from rnncourse.training.curriculum_strategies import STRATEGIES, CurriculumStrategy

__all__ = [
    "plot_difficulty_schedules",
    "plot_length_curriculum",
    "plot_series_transfer",
    "plot_strategies",
    "plot_text_transfer",
]

STRATEGY_COLOURS = dict(zip(STRATEGIES, PALETTE, strict=False))
ARM_COLOURS = {"target length only": OKABE_ITO["vermillion"],
               "length curriculum": OKABE_ITO["blue"]}
METHOD_COLOURS = {SCRATCH: OKABE_ITO["vermillion"], FINE_TUNED: OKABE_ITO["blue"],
                  "discriminative learning rates": OKABE_ITO["bluish green"],
                  "lower layers frozen": OKABE_ITO["reddish purple"],
                  "only the head": OKABE_ITO["orange"],
                  "pretrained + fine-tuned": OKABE_ITO["blue"],
                  "pretrained, not fine-tuned": OKABE_ITO["sky blue"],
                  "naive": OKABE_ITO["black"], "seasonal naive": OKABE_ITO["orange"]}
REFERENCE_LINE = {"color": OKABE_ITO["black"], "linestyle": ":", "linewidth": 1.2}


# ----------------------------------------------------------------------------------------------
# Length curriculum


def plot_length_curriculum(result: LengthCurriculumResult) -> plt.Figure:
    """Left: MSE at the target length against the step, every run. Right: the length each run
    trained on at each step."""
    figure, (loss_axis, length_axis) = new_figure(ncols=2, width=5.2, height=3.8)
    for label in result.labels:
        for index, run in enumerate(result.by_label(label)):
            steps = np.asarray(run.eval_step) + 1
            loss_axis.plot(steps, run.eval_loss, color=ARM_COLOURS.get(label), alpha=0.85,
                           linestyle="-" if label == "length curriculum" else "--",
                           label=label if index == 0 else None)
            length_axis.plot(np.arange(1, len(run.train_length) + 1), run.train_length,
                             color=ARM_COLOURS.get(label), alpha=0.85,
                             linestyle="-" if label == "length curriculum" else "--",
                             label=label if index == 0 else None)
    loss_axis.axhline(result.baseline_mse, **REFERENCE_LINE, label="predict 1 (MSE 1/6)")
    loss_axis.axhline(result.threshold, color=OKABE_ITO["bluish green"], linestyle="-.",
                      linewidth=1.0, label=f"threshold {result.threshold:g}")
    loss_axis.set(yscale="log", xlabel="training step",
                  ylabel=f"MSE at the target length T = {result.target_length}",
                  title="Loss on the task we care about")
    loss_axis.legend(fontsize=8)
    length_axis.set(xlabel="training step", ylabel="sequence length T of the training batch",
                    title="What each run trained on")
    length_axis.legend(fontsize=8, loc="lower right")
    return figure


# ----------------------------------------------------------------------------------------------
# Zaremba and Sutskever's strategies


def plot_strategies(result: StrategyResult) -> plt.Figure:
    """Left: accuracy at the target difficulty against the step, mean over seeds (line) and
    each seed (thin lines). Right: final accuracy at every difficulty, mean over seeds (bars)
    with each seed as a dot."""
    figure, (curve_axis, bar_axis) = new_figure(ncols=2, width=5.2, height=3.8)
    for strategy in result.strategies:
        runs = result.by_strategy(strategy)
        steps = np.asarray(runs[0].eval_step) + 1
        style = "-" if strategy in ("mix", "combined") else "--"
        for run in runs:
            curve_axis.plot(steps, run.accuracy, color=STRATEGY_COLOURS[strategy], alpha=0.3,
                            linewidth=0.8, linestyle=style)
        curve_axis.plot(steps, np.mean([run.accuracy for run in runs], axis=0),
                        color=STRATEGY_COLOURS[strategy], label=strategy, linestyle=style,
                        linewidth=2)
    chance = 1 / 10
    curve_axis.axhline(chance, **REFERENCE_LINE, label="chance (1 in 10 digits)")
    curve_axis.set(xlabel="training step", ylim=(0, 1.02),
                   ylabel=f"answer-digit accuracy at {result.max_digits} digits",
                   title="Accuracy on the target difficulty")
    curve_axis.legend(fontsize=8)
    by_digits = result.mean_accuracy_by_digits()
    width = 0.8 / len(result.strategies)
    digits = np.arange(1, result.max_digits + 1)
    for index, strategy in enumerate(result.strategies):
        positions = digits + (index - (len(result.strategies) - 1) / 2) * width
        bar_axis.bar(positions, by_digits[strategy], width, color=STRATEGY_COLOURS[strategy],
                     label=strategy, hatch="//" if strategy in ("none", "naive") else None,
                     edgecolor="white")
        for run in result.by_strategy(strategy):
            bar_axis.scatter(positions, run.accuracy_by_digits, s=9, zorder=3,
                             color=OKABE_ITO["black"], edgecolors="white", linewidths=0.4)
    bar_axis.set(xticks=digits, xlabel="digits per number (difficulty)", ylim=(0, 1.02),
                 ylabel="answer-digit accuracy after training",
                 title="Every difficulty, at the end")
    bar_axis.legend(fontsize=8)
    return figure


def plot_difficulty_schedules(
    target: int = 5, mix_fraction: float = 0.5, steps_per_level: int = 200,
    steps: int = 1200,
) -> plt.Figure:
    """p(difficulty) over training for each strategy, supposing the naive level moves up every
    `steps_per_level` steps: where each strategy spends its examples."""
    figure, axes = new_figure(ncols=len(STRATEGIES), width=2.9, height=3.0, sharey=True)
    step_grid = np.arange(0, steps, max(1, steps // 120))
    image = None
    for axis, name in zip(axes, STRATEGIES, strict=True):
        strategy = CurriculumStrategy(name, target, mix_fraction=mix_fraction)
        columns = []
        for step in step_grid:
            strategy.naive.index = min(target - 1, int(step) // steps_per_level)
            columns.append(strategy.distribution())
        probabilities = torch.stack(columns, dim=1).numpy()  # (difficulty, step)
        image = axis.imshow(probabilities, origin="lower", aspect="auto", vmin=0, vmax=1,
                            interpolation="nearest",
                            extent=(0, steps, 0.5, target + 0.5), cmap="cividis")
        axis.set(title=name, xlabel="training step")
        axis.grid(False)
    axes[0].set(ylabel="difficulty d (digits)", yticks=range(1, target + 1))
    figure.colorbar(image, ax=axes, label="share of examples p(d)", shrink=0.9)
    return figure


# ----------------------------------------------------------------------------------------------
# Text transfer


def plot_text_transfer(result: TextTransferResult) -> plt.Figure:
    """Left: test bpc against the amount of target text, scratch and fine-tuned (mean over
    seeds, bars one sd). Right: the validation bpc over fine-tuning for each way of
    fine-tuning, at one amount of text (mean over seeds)."""
    figure, (size_axis, curve_axis) = new_figure(ncols=2, width=5.2, height=3.8)
    for label, marker, style in ((SCRATCH, "s", "--"), (FINE_TUNED, "o", "-")):
        spread = [result.test_stats(label, size)[1] for size in result.train_sizes]
        size_axis.errorbar(result.train_sizes, result.test_bpc(label), yerr=spread,
                           marker=marker, capsize=3, color=METHOD_COLOURS[label],
                           linestyle=style,
                           label="pretrained, fine-tuned" if label == FINE_TUNED else label)
    size_axis.axhline(result.zero_shot_bpc, **REFERENCE_LINE,
                      label=f"pretrained, not fine-tuned ({result.zero_shot_bpc:.2f})")
    size_axis.set(xscale="log", xlabel=f"characters of {corpus_info(result.target_corpus).title}"
                  " to train on", ylabel="test bits per character",
                  title=f"After {result.steps} steps, against the amount of text")
    size_axis.legend(fontsize=8)
    for label in result.strategy_labels:  # the mean over seeds of each validation curve
        runs = result.runs_of(label, result.strategies_size)
        curve_axis.plot(np.asarray(runs[0].eval_step) + 1,
                        np.mean([run.valid_bpc for run in runs], axis=0), marker=".",
                        color=METHOD_COLOURS.get(label), label=label,
                        linestyle="--" if label == SCRATCH else "-")
    curve_axis.set(xlabel="training step", ylabel="validation bits per character",
                   title=f"Ways of fine-tuning ({result.strategies_size:,} characters)")
    curve_axis.legend(fontsize=8)
    return figure


# ----------------------------------------------------------------------------------------------
# Time-series transfer


def plot_series_transfer(result: SeriesTransferResult, lead: int | None = None) -> plt.Figure:
    """Left: test MAE against the length of the real history. Right: the forecasts `lead` steps
    ahead (default: half the horizon) from every test origin, with the shortest history."""
    figure, (error_axis, example_axis) = new_figure(ncols=2, width=5.2, height=3.8)
    for method, values in result.mae.items():
        if method in ("naive", "seasonal naive"):
            error_axis.axhline(values[0], color=METHOD_COLOURS[method], linestyle=":",
                               label=method)
        else:
            error_axis.errorbar(result.history_lengths, values, yerr=result.mae_std[method],
                                marker="o", capsize=3, color=METHOD_COLOURS[method],
                                label=method, linestyle="--" if method == SCRATCH else "-")
    error_axis.set(xlabel=f"years of {result.series} to train on", ylabel="test MAE (sunspots)",
                   title="Forecast error against history")
    error_axis.legend(fontsize=8)
    example = result.example
    time, values = np.asarray(example["time"]), np.asarray(example["values"])
    lead = lead if lead is not None else (result.horizon + 1) // 2
    if not 1 <= lead <= result.horizon:
        raise ValueError(f"lead must lie in [1, {result.horizon}], got {lead}")
    example_axis.plot(time, values, color=OKABE_ITO["black"], label="observed")
    # Origin i forecasts time[L + i], ..., time[L + i + H - 1]; the lead-k forecast is column k-1.
    origins = np.arange(len(np.asarray(example["from scratch"])))
    forecast_time = time[result.input_length + origins + lead - 1]
    for method in ("from scratch", "pretrained, not fine-tuned", "pretrained + fine-tuned"):
        example_axis.plot(forecast_time, np.asarray(example[method])[:, lead - 1],
                          color=METHOD_COLOURS[method], label=method, marker=".",
                          linestyle="--" if method == SCRATCH else "-")
    example_axis.axvline(time[result.input_length] - 0.5, **REFERENCE_LINE)
    example_axis.set(xlabel="year", ylabel="sunspot number",
                     title=f"Forecasts {lead} years ahead, {min(result.history_lengths)} "
                           "years of history")
    bottom, top = example_axis.get_ylim()
    example_axis.set_ylim(bottom, top + 0.35 * (top - bottom))  # room for the legend
    example_axis.legend(fontsize=8, loc="upper left", ncol=2)
    return figure
