"""Figures for chapter 6: the cell comparison, the long runs and bits per character of the
language models, the next-character distribution, forecasts, and the encoder-decoders' accuracy
against length and position with the attention weights of one word."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from rnncourse.chapters.plotting import (
    LINESTYLES,
    PALETTE,
    new_figure,
    series_styles,
)

__all__ = [
    "plot_attention_study",
    "plot_bits_per_character",
    "plot_cell_comparison",
    "plot_forecasts",
    "plot_long_runs",
    "plot_next_character",
]


def plot_cell_comparison(live, long_runs=None):
    """Left: validation bits per character of the live runs against the optimiser step, one
    thin line per seed, one colour per cell. Right: test bits per character of every run, one
    point per seed and a bar at the mean, for the live runs and (when given) the long runs.

    `live` and `long_runs` are `CellComparison`s (`long_runs`: of shipped checkpoints, whose
    `runs` hold models with `metrics`)."""
    figure, (left, right) = new_figure(ncols=2, width=5.2, height=3.8)
    labels = list(live.test_bpc)
    colours = dict(zip(labels, PALETTE, strict=False))
    for label in labels:
        for k, run in enumerate(live.runs[label]):
            left.plot(np.asarray(run.history.eval_step) + 1, run.valid_bpc, color=colours[label],
                      linestyle=LINESTYLES[labels.index(label) % len(LINESTYLES)],
                      linewidth=1.2, marker=".", label=label if k == 0 else None)
    steps = len(live.runs[labels[0]][0].history.step)
    left.set(xlabel="optimiser step", ylabel="validation bits per character",
             title=f"{steps} steps, {len(live.seeds)} seeds per cell")
    left.legend(fontsize="small")
    groups = [(f"{steps} steps (this page)", live, "o")]
    if long_runs is not None:
        long_steps = int(long_runs.runs[labels[0]][0].metrics["steps"])
        groups.append((f"{long_steps:,} steps (shipped)", long_runs, "s"))
    width = 0.8 / len(groups)
    for g, (name, comparison, marker) in enumerate(groups):
        for i, label in enumerate(labels):
            x = i - 0.4 + width * (g + 0.5)
            values = comparison.test_bpc[label]
            right.hlines(np.mean(values), x - 0.4 * width, x + 0.4 * width, color=colours[label],
                         linewidth=3)  # the mean
            right.plot(np.full(len(values), x), values, linestyle="none", marker=marker,
                       color=colours[label], markeredgecolor="black", markersize=5,
                       label=name if i == 0 else None)
    right.set_xticks(range(len(labels)), labels)
    low = min(min(v) for c in (g[1] for g in groups) for v in c.test_bpc.values())
    high = max(max(v) for c in (g[1] for g in groups) for v in c.test_bpc.values())
    right.set_ylim(low - 0.3, high + 0.15)
    right.set(ylabel="test bits per character (lower is better)",
              title="test score of every run (line: mean)")
    right.legend(fontsize="small", loc="upper left")
    return figure


def plot_long_runs(long_runs):
    """Validation bits per character of the shipped long runs against the step, one line per
    seed, with a marker at the first check after each halving of the learning rate.

    `long_runs`: a `CellComparison` of shipped checkpoints (models with `metrics`)."""
    figure, axis = new_figure(width=6.4, height=3.8)
    for (label, models), style in zip(long_runs.runs.items(), series_styles(), strict=False):
        for k, loaded in enumerate(models):
            metrics = loaded.metrics
            steps = np.asarray(metrics["eval_step"]) + 1
            valid, rates = np.asarray(metrics["valid_bpc"]), np.asarray(metrics["lr"])
            axis.plot(steps, valid, linewidth=1.2, label=label if k == 0 else None, **style)
            halved = np.flatnonzero(rates[1:] < rates[:-1]) + 1  # first check at the new rate
            axis.plot(steps[halved], valid[halved], linestyle="none", marker="v",
                      color=style["color"], markersize=5)
    axis.set(xlabel="optimiser step", ylabel="validation bits per character",
             title="long runs, one line per seed (\u25bc: learning rate halved)")
    axis.legend(fontsize="small")
    return figure


def plot_bits_per_character(rows: Sequence[Mapping[str, object]],
                            cells: Sequence[str] = ()):
    """Horizontal bars of test bits per character, one per model, labelled with parameters;
    an error bar of ± one standard deviation where a row has "spread". A row whose model name
    starts with one of `cells` takes that cell's colour (the order of `PALETTE`), others grey.

    `rows`: dicts with "model", "test_bpc", "parameters" and optionally "spread"."""
    figure, axis = new_figure(width=6.4, height=0.45 * len(rows) + 1.2)
    names = [str(row["model"]) for row in rows]
    values = [float(row["test_bpc"]) for row in rows]
    spreads = [float(row.get("spread", 0.0)) for row in rows]
    colours = [next((PALETTE[i % len(PALETTE)] for i, cell in enumerate(cells)
                     if name.startswith(cell)), "0.6") for name in names]
    bars = axis.barh(names, values, xerr=spreads, color=colours, ecolor="0.3", capsize=3)
    for bar, row, spread in zip(bars, rows, spreads, strict=True):
        parameters = int(row["parameters"])
        axis.text(bar.get_width() + spread + 0.05, bar.get_y() + bar.get_height() / 2,
                  f"{float(row['test_bpc']):.2f}  ({parameters:,} numbers)", va="center",
                  fontsize="small")
    axis.invert_yaxis()
    axis.set_xlim(0, max(values) * 1.4)
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


def plot_attention_study(study):
    """Three panels from an `AttentionStudy`: (left) the share of symbols written right at each
    length, mean over seeds with a band of ± one standard deviation, and the chance level 1/K;
    (middle) the share right at each output position of the longest test words; (right) the
    attention weights α_ij of one longest test word, output letter i against source letter j."""
    figure, (left, middle, right) = new_figure(ncols=3, width=4.3, height=3.9)
    lengths = np.asarray(study.lengths)
    longest = int(lengths.max())
    for label, style in zip(study.accuracy, series_styles(), strict=False):
        mean, spread = study.mean(label), study.spread(label)
        left.plot(lengths, mean, marker="o", markersize=3.5, label=label, **style)
        left.fill_between(lengths, mean - spread, mean + spread, color=style["color"],
                          alpha=0.2, linewidth=0)
        by_position = study.position_accuracy[label]
        middle.plot(np.arange(1, longest + 1), by_position.mean(axis=0), marker=".",
                    label=label, **style)
    for axis in (left, middle):
        axis.axhline(study.task.chance_accuracy, color="0.5", linewidth=1, linestyle=":")
        axis.set_ylim(0, 1.05)
    left.text(lengths[-1], study.task.chance_accuracy + 0.02, "chance, 1/K", fontsize="small",
              color="0.4", ha="right")
    left.set(xlabel="word length (letters)", ylabel="share of letters written right",
             title=f"mean of {len(study.seeds)} seeds (band: ± 1 s.d.)")
    left.legend(fontsize="small", loc="lower left")
    middle.set(xlabel="output position", ylabel="share of letters written right",
               title=f"words of {longest} letters, by position")
    weights = study.example.get("weights")
    if weights is not None:
        source = study.task.source_text(study.example["source"])
        written = study.task.target_text(study.example["attention"])
        truth = study.task.target_text(study.example["target"])
        rows = [w if w == t else f"{w} (not {t})" for w, t in zip(written, truth, strict=True)]
        image = right.imshow(weights, vmin=0, vmax=1, aspect="auto")
        right.set_xticks(range(len(source)), list(source), fontsize="x-small")
        right.set_yticks(range(len(rows)), rows, fontsize="x-small")
        right.grid(False)
        right.set(xlabel="source letter j", ylabel="letter written, i",
                  title="attention weights α_ij of one word")
        figure.colorbar(image, ax=right, shrink=0.8)
    else:
        right.set_axis_off()
    return figure
