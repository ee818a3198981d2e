"""Figures for chapter 6: language-model training curves and bits per character, forecasts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from rnncourse.chapters.plotting import (
    LINESTYLES,
    PALETTE,
    moving_average,
    new_figure,
    series_styles,
)

__all__ = [
    "plot_bits_per_character",
    "plot_forecasts",
    "plot_language_training",
    "plot_next_character",
]


def plot_language_training(runs: Mapping[str, object],
                           long_runs: Mapping[str, Mapping[str, object]] | None = None,
                           smooth: int = 20):
    """Left: training and validation bits per character of short runs against the step.
    Right: the validation curves of longer runs, with a marker where the learning rate was
    halved (a plateau), or the learning rate of the short runs when no long runs are given.

    `runs` maps a label to a `LanguageModelRun`; `long_runs` maps a label to a metrics dict
    with "eval_step", "valid_bpc" and "lr" (as checkpoints of `rnncourse train` hold).
    """
    figure, (left, right) = new_figure(ncols=2, width=5.2, height=3.6)
    for (label, run), style in zip(runs.items(), series_styles(), strict=False):
        steps = np.asarray(run.history.step) + 1
        train_bpc = np.asarray(run.history.loss) / np.log(2.0)
        left.plot(steps, moving_average(train_bpc, smooth).numpy(), color=style["color"],
                  alpha=0.45, linewidth=1.0, label=f"{label} (training)")
        left.plot(np.asarray(run.history.eval_step) + 1, run.valid_bpc, marker="o",
                  markersize=3.5, label=f"{label} (validation)", **style)
    left.set(xlabel="optimiser step", ylabel="bits per character",
             title="a short run: training and validation")
    left.legend(fontsize="small")
    if long_runs:
        for (label, metrics), style in zip(long_runs.items(), series_styles(), strict=False):
            steps = np.asarray(metrics["eval_step"]) + 1
            valid, rates = np.asarray(metrics["valid_bpc"]), np.asarray(metrics["lr"])
            right.plot(steps, valid, label=label, **style)
            halved = np.flatnonzero(rates[1:] < rates[:-1]) + 1  # first check at the new rate
            right.plot(steps[halved], valid[halved], linestyle="none", marker="v",
                       color=style["color"], markersize=6)
        right.set(xlabel="optimiser step", ylabel="validation bits per character",
                  title="longer runs (\u25bc: learning rate halved)")
        right.legend(fontsize="small")
    else:
        for (label, run), style in zip(runs.items(), series_styles(), strict=False):
            right.step(np.asarray(run.history.eval_step) + 1, run.lr, where="post",
                       label=label, **style)
        right.set(xlabel="optimiser step", ylabel="learning rate", yscale="log",
                  title="learning rate (halved on a plateau)")
    return figure


def plot_bits_per_character(rows: Sequence[Mapping[str, object]]):
    """Horizontal bars of test bits per character, one per model, labelled with parameters.

    `rows`: dicts with "model", "test_bpc" and "parameters" (as `language_table` gives).
    """
    figure, axis = new_figure(width=6.4, height=0.45 * len(rows) + 1.2)
    names = [str(row["model"]) for row in rows]
    values = [float(row["test_bpc"]) for row in rows]
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(rows))]
    bars = axis.barh(names, values, color=colours)
    for bar, row in zip(bars, rows, strict=True):
        parameters = int(row["parameters"])
        axis.text(bar.get_width() + 0.03, bar.get_y() + bar.get_height() / 2,
                  f"{float(row['test_bpc']):.2f}  ({parameters:,} numbers)", va="center",
                  fontsize="small")
    axis.invert_yaxis()
    axis.set_xlim(0, max(values) * 1.35)
    axis.set(xlabel="test bits per character (lower is better)")
    return figure


def plot_forecasts(study, origin: int = 0, context_seasons: int = 4):
    """Left: the series before the test period, the truth, and every method's forecast from one
    origin. Right: mean absolute error against the number of steps ahead, over all origins."""
    series, values = study.series, np.asarray(study.series.values, dtype=float)
    time = np.asarray(series.time, dtype=float)
    start = int(study.origins[origin])
    horizon = study.truth.shape[1]
    season = max(series.season_length, 5)
    first = max(0, start - context_seasons * season)
    figure, (left, right) = new_figure(ncols=2, width=5.4, height=3.8)
    left.plot(time[first:start], values[first:start], color="0.35", linestyle="-",
              linewidth=1.4, label="observed")
    left.plot(time[start:start + horizon], study.truth[origin], color="black", linestyle="-",
              linewidth=2.4, label="truth (held out)")
    left.axvline(time[start] - 0.5 * (time[1] - time[0]), color="0.5", linewidth=0.8)
    for (method, forecasts), colour, linestyle in zip(
            study.forecasts.items(), PALETTE, LINESTYLES * 2, strict=False):
        left.plot(time[start:start + horizon], forecasts[origin], color=colour,
                  linestyle=linestyle, linewidth=1.8, label=method)
        right.plot(np.arange(1, horizon + 1), study.error_by_horizon(method), color=colour,
                   linestyle=linestyle, marker=".", label=method)
    left.set(xlabel="year", ylabel=f"{series.title} ({series.units})",
             title=f"forecasts from {_when(time[start], series.frequency)}, {horizon} "
                   f"{series.frequency}s ahead")
    left.legend(fontsize="small", loc="upper left")
    right.set(xlabel=f"steps ahead ({series.frequency}s)", ylabel=f"mean absolute error "
              f"({series.units})", title=f"error over {len(study.origins)} forecast origins")
    right.set_ylim(bottom=0)
    return figure


def _when(decimal_year: float, frequency: str) -> str:
    """1998.0 -> "January 1998" (monthly), "1998 Q1" (quarterly), "1998" (yearly)."""
    year = int(np.floor(decimal_year + 1e-9))
    fraction = decimal_year - year
    if frequency == "month":
        months = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")
        return f"{months[int(round(fraction * 12)) % 12]} {year}"
    if frequency == "quarter":
        return f"{year} Q{int(round(fraction * 4)) % 4 + 1}"
    return str(year)


def plot_next_character(probabilities: torch.Tensor, vocabulary, prime: str, top: int = 12):
    """Bars of the `top` most probable next characters after `prime`."""
    probabilities = probabilities.detach().cpu().reshape(-1)
    values, ids = probabilities.topk(min(top, len(probabilities)))
    labels = [repr(vocabulary.characters[int(i)])[1:-1] or " " for i in ids]
    labels = ["space" if label == " " else label for label in labels]
    figure, axis = new_figure(width=6.4, height=3.0)
    axis.bar(labels, values.numpy(), color=PALETTE[0])
    axis.set(xlabel="next character", ylabel="probability", ylim=(0, 1),
             title=f"after {prime[-30:]!r}")
    return figure
