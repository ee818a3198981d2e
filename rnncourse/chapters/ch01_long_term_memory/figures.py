"""Figures of chapter 1: gradient norm against lag, the adding problem, copy-memory capacity."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import NullLocator

from rnncourse.chapters.ch01_long_term_memory.gradient_decay import (
    GradientDecayCurve,
    GradientDecayResult,
)
from rnncourse.chapters.ch01_long_term_memory.memory_tasks import AddingResult, CopyCapacityResult
from rnncourse.chapters.plotting import (
    PALETTE,
    markdown_table,
    moving_average,
    new_figure,
    series_styles,
)

__all__ = [
    "CELL_NAMES",
    "PUBLISHED_ADDING",
    "adding_table",
    "copy_delay_table",
    "copy_size_table",
    "gradient_decay_table",
    "plot_adding_problem",
    "plot_copy_capacity",
    "plot_gradient_curve",
    "plot_gradient_decay",
]

CELL_NAMES = {"rnn_tanh": "tanh RNN", "rnn_relu": "ReLU RNN", "lstm": "LSTM", "gru": "GRU"}
BASELINE_STYLE = {"color": "0.35", "linestyle": ":", "linewidth": 1.5}


def _finite(values: torch.Tensor) -> torch.Tensor:
    """The values with inf and 0 (lost to float32) replaced by nan, so a log plot skips them."""
    values = values.double().clone()
    values[~torch.isfinite(values) | (values <= 0)] = math.nan
    return values


def plot_gradient_decay(result: GradientDecayResult) -> plt.Figure:
    """Left: ‖∂L/∂h_{T-k}‖ / ‖∂L/∂h_T‖ against the lag k on a log scale, one colour per
    initialisation (the first seed bold, the other seeds thin). Right: the measured rate per
    step of every seed (circles) beside its bound γ σ_max(W) (triangles)."""
    figure, (curves_axis, rates_axis) = new_figure(ncols=2, width=4.4, height=3.7)
    palette = series_styles()
    styles = [next(palette) for _ in result.curves]
    for seed_index, curves in enumerate(result.curves_by_seed):
        first = seed_index == 0
        for style, curve in zip(styles, curves, strict=True):
            curves_axis.plot(curve.lags, _finite(curve.relative_norms),
                             label=curve.label if first else None, linewidth=2 if first else 0.8,
                             alpha=1.0 if first else 0.45, **style)
    curves_axis.set_yscale("log")
    curves_axis.set_xlabel("lag k = T − t (steps back from the loss)")
    curves_axis.set_ylabel("‖∂L/∂h_t‖ / ‖∂L/∂h_T‖")
    curves_axis.set_title(f"{result.nonlinearity} RNN, {result.hidden_size} units, "
                          f"T = {result.seq_len}, {len(result.seeds)} seeds")
    curves_axis.legend(title="W_hh", fontsize="small", ncols=2)

    rates_axis.axhline(1.0, **BASELINE_STYLE, label="1: neither vanish nor explode")
    count = len(result.seeds)
    offsets = [0.0] if count == 1 else [0.3 * (i / (count - 1) - 0.5) for i in range(count)]
    for position, summary in enumerate(result.summaries()):
        xs = [position + offset for offset in offsets]
        rates_axis.scatter(xs, summary.bounds, marker="v", s=45, color=PALETTE[1], zorder=3,
                           label="bound γ·σ_max(W)" if position == 0 else None)
        rates_axis.scatter(xs, summary.rates, marker="o", s=35, color=PALETTE[0], zorder=3,
                           label="measured, one per seed" if position == 0 else None)
    rates_axis.set_xticks(range(len(result.curves)), result.labels, rotation=30)
    rates_axis.set_ylabel("factor per step back")
    rates_axis.set_title("measured rate vs the bound")
    highest = max(max(*s.bounds, *s.rates) for s in result.summaries())
    rates_axis.set_ylim(0, 1.12 * max(highest, 1.0))
    rates_axis.legend(fontsize="small", loc="upper left")
    return figure


def plot_gradient_curve(curve: GradientDecayCurve, axis: plt.Axes | None = None) -> plt.Figure:
    """One curve of relative gradient norm against lag, with the bound (γ σ_max)^k and ρ^k."""
    if axis is None:
        figure, axis = new_figure(width=6.4, height=4.0)
    else:
        figure = axis.figure
    lags = curve.lags.double()
    axis.plot(lags, _finite(curve.relative_norms), color=PALETTE[0], linewidth=2.5,
              label="measured")
    bound = torch.exp(lags * math.log(curve.bound_rate))
    axis.plot(lags, _finite(bound), color=PALETTE[1], linestyle="--",
              label=f"bound (γ·σ_max)^k, γ·σ_max = {curve.bound_rate:.2f}")
    radius = torch.exp(lags * math.log(curve.spectral_radius))
    axis.plot(lags, _finite(radius), color=PALETTE[2], linestyle=":",
              label=f"ρ(W)^k, ρ = {curve.spectral_radius:.2f}")
    axis.set_yscale("log")
    measured = _finite(curve.relative_norms)
    if torch.isfinite(measured).any():  # frame the measured curve; the bound may leave the plot
        smallest, largest = measured.nan_to_num(math.inf).min(), measured.nan_to_num(0).max()
        axis.set_ylim(max(smallest.item() / 1e3, 1e-40), min(max(largest.item(), 1.0) * 1e3, 1e40))
    axis.set_xlabel("lag k = T − t (steps back from the loss)")
    axis.set_ylabel("‖∂L/∂h_t‖ / ‖∂L/∂h_T‖")
    axis.set_title(f"{curve.nonlinearity} RNN, {curve.label}\nmeasured rate "
                   f"{curve.measured_rate:.3f} per step, bound γ·σ_max = {curve.bound_rate:.3f}")
    axis.legend(fontsize="small", loc="lower left")
    return figure


def plot_adding_problem(result: AddingResult, window: int = 50) -> plt.Figure:
    """Training loss (moving average over `window` steps) of every model, one panel per
    sequence length, against the baseline MSE 1/6 of predicting 1."""
    lengths = sorted({run.length for run in result.runs})
    figure, axes = new_figure(ncols=len(lengths), width=4.3, height=3.5, sharey=True)
    axes = [axes] if len(lengths) == 1 else list(axes)
    for axis, length in zip(axes, lengths, strict=True):
        styles = series_styles()
        for run in (r for r in result.runs if r.length == length):
            axis.plot(moving_average(run.train_loss, window), linewidth=2,
                      label=CELL_NAMES.get(run.cell, run.cell), **next(styles))
        axis.axhline(result.baseline, **BASELINE_STYLE, label="baseline 1/6 (predict 1)")
        axis.set_yscale("log")
        axis.set_xlabel("training step")
        axis.set_title(f"adding problem, T = {length}")
    axes[0].set_ylabel(f"training MSE (mean of {window} steps)")
    axes[0].legend(fontsize="small", loc="lower left")
    return figure


def plot_copy_capacity(result: CopyCapacityResult) -> plt.Figure:
    """Left: held-out cross entropy against the delay beside the memoryless baseline.
    Right: recall of the copied symbols against the number of hidden units, chance 1/K."""
    figure, (delay_axis, size_axis) = new_figure(ncols=2, width=4.3, height=3.6)
    name = CELL_NAMES.get(result.cell, result.cell)
    delays = [run.length for run in result.by_delay]
    delay_axis.plot(delays, [run.test_loss for run in result.by_delay], marker="o",
                    linewidth=2, color=PALETTE[0],
                    label=f"{name}, {result.settings.hidden_size} units")
    delay_axis.plot(delays, [run.baseline_loss for run in result.by_delay], marker="s",
                    **BASELINE_STYLE, label="memoryless L·ln K/(T+2L)")
    delay_axis.set_yscale("log")
    delay_axis.set_xscale("log", base=2)
    delay_axis.set_xticks(delays, [str(d) for d in delays])
    delay_axis.xaxis.set_minor_locator(NullLocator())
    delay_axis.set_xlabel("delay T (steps to remember)")
    delay_axis.set_ylabel("held-out cross entropy per step")
    delay_axis.set_title(f"copy {result.copy_length} of {result.num_symbols} symbols")
    delay_axis.legend(fontsize="small", loc="upper right")

    sizes = [run.hidden_size for run in result.by_hidden_size]
    size_axis.plot(sizes, [run.accuracy for run in result.by_hidden_size], marker="o",
                   linewidth=2, color=PALETTE[0], label=name)
    size_axis.axhline(result.chance_accuracy, **BASELINE_STYLE,
                      label=f"chance 1/K = {result.chance_accuracy:.3f}")
    size_axis.set_xscale("log", base=2)
    size_axis.set_xticks(sizes, [str(s) for s in sizes])
    size_axis.xaxis.set_minor_locator(NullLocator())
    size_axis.set_ylim(0, 1.05)
    size_axis.set_xlabel("hidden units")
    size_axis.set_ylabel("recall (copied symbols right)")
    size_axis.set_title(f"delay T = {result.sizes_delay}")
    size_axis.legend(fontsize="small", loc="upper left")
    return figure


# ----------------------------------------------------------------------------------------------
# Tables (Markdown, for IPython.display.Markdown)

# Arjovsky, Shah and Bengio (2016), sec. 5.2 and Fig. 2: the adding problem at T = 100, 200, 400
# and 750, with 128 units for the tanh RNN and the LSTM, RMSProp at 10⁻³ (decay 0.9), batches of
# 20 or 50 (the better reported), gradients clipped at 1 (element-wise, in their code).
PUBLISHED_ADDING = {
    "lstm": "convincingly below the baseline up to T = 400; does well at T = 750, "
            "but its MSE does not come close to 0",
    "rnn_tanh": "does not beat the baseline at any of T = 100, 200, 400, 750",
}


def _median(values: list[float]) -> float:
    return torch.tensor(values, dtype=torch.float64).median().item()


def gradient_decay_table(result: GradientDecayResult) -> str:
    """Per initialisation, over the seeds: ρ(W) and σ_max(W), the bound's rate γ σ_max beside the
    measured rate (mean ± sample standard deviation), in how many seeds the rate stayed under
    the bound, and how much of the end gradient is left at the largest lag (median)."""
    last = result.seq_len - 1
    count = len(result.seeds)
    rows = []
    for index, summary in enumerate(result.summaries()):
        curves = [curves[index] for curves in result.curves_by_seed]
        rows.append([
            summary.label,
            f"{sum(c.spectral_radius for c in curves) / count:.2f}",
            f"{sum(c.largest_singular_value for c in curves) / count:.2f}",
            f"{summary.bound_mean:.3f}",
            f"**{summary.mean:.3f}** ± {summary.std:.3f}",
            f"{summary.seeds_under_bound} of {count}",
            f"{_median([c.relative_norms[-1].item() for c in curves]):.1e}",
        ])
    header = ["W_hh", "ρ(W)", "σ_max(W)", "bound γ·σ_max",
              f"measured rate (mean ± sd, {count} seeds)", "under the bound",
              f"‖∂L/∂h‖ at lag {last} (median)"]
    return markdown_table(header, rows)


def adding_table(result: AddingResult) -> str:
    """Held-out MSE per model and length beside the baseline 1/6 and the published result."""
    rows = [[str(run.length), CELL_NAMES.get(run.cell, run.cell), f"{run.test_loss:.4f}",
             f"{run.loss_over_baseline:.3f}",
             "yes" if run.test_loss < 0.5 * run.baseline_loss else "no",
             PUBLISHED_ADDING.get(run.cell, "")]
            for run in result.runs]  # fmt: skip
    header = ["T", "model", "test MSE", "MSE / (1/6)", "far below the baseline (< ½)",
              "Arjovsky et al. 2016, sec. 5.2 and Fig. 2 (T = 100 to 750, 128 units)"]  # fmt: skip
    return markdown_table(header, rows)


def copy_delay_table(result: CopyCapacityResult) -> str:
    """Held-out cross entropy per delay beside the memoryless baseline, and recall."""
    rows = [[str(run.length), f"{run.test_loss:.4f}", f"{run.baseline_loss:.4f}",
             f"{run.loss_over_baseline:.3f}", f"{run.accuracy:.2f}"]
            for run in result.by_delay]  # fmt: skip
    header = ["delay T", "test loss", "memoryless L·ln K/(T+2L)", "loss / memoryless",
              f"recall (chance {result.chance_accuracy:.3f})"]  # fmt: skip
    return markdown_table(header, rows)


def copy_size_table(result: CopyCapacityResult) -> str:
    """Recall per hidden size, overall and for each copied symbol."""
    positions = [f"symbol {i + 1}" for i in range(result.copy_length)]
    rows = [[str(run.hidden_size), f"{run.accuracy:.2f}",
             *(f"{value:.2f}" for value in run.position_accuracy or []),
             f"{run.loss_over_baseline:.3f}"]
            for run in result.by_hidden_size]  # fmt: skip
    return markdown_table(["hidden units", "recall", *positions, "loss / memoryless"], rows)
