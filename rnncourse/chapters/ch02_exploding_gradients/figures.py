"""Figures and tables of chapter 2: the cliff, divergence and clipping, the widget's training run.
The remedies (normalisation, weight decay, initialisation) are drawn in `remedy_figures.py`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from rnncourse.chapters.ch02_exploding_gradients.claims import mean_spread
from rnncourse.chapters.ch02_exploding_gradients.cliff import (
    CliffSlice,
    CliffStep,
    CliffSurface,
    wall_bias,
)
from rnncourse.chapters.ch02_exploding_gradients.divergence import ClippingDirections, TrainingRun
from rnncourse.chapters.plotting import (
    OKABE_ITO,
    PALETTE,
    markdown_table,
    moving_average,
    new_figure,
    series_styles,
)

__all__ = [
    "BASELINE_STYLE",
    "THRESHOLD_STYLE",
    "divergence_table",
    "explosion_anatomy_table",
    "finish_norm_and_loss_axes",
    "plot_cliff",
    "plot_clipping_directions",
    "plot_divergence",
    "plot_training_run",
    "positive_values",
    "smoothed",
]

BASELINE_STYLE = {"color": "0.35", "linestyle": ":", "linewidth": 1.5}
THRESHOLD_STYLE = {"color": OKABE_ITO["black"], "linestyle": "--", "linewidth": 1.0}


def positive_values(values: Sequence[float]) -> np.ndarray:
    """Values as floats with inf, nan and non-positive ones masked (nan), for log axes."""
    array = np.asarray(values, dtype=float)
    return np.where(np.isfinite(array) & (array > 0), array, np.nan)


def smoothed(values: Sequence[float], window: int) -> np.ndarray:
    """A moving average over `window` steps, non-finite values left out (nan)."""
    finite = [v if math.isfinite(v) else math.nan for v in values]
    return moving_average(finite, window).numpy() if finite else np.array([])



# --------------------------------------------------------------------------------------------
# The cliff


def plot_cliff(surface: CliffSurface, slice_: CliffSlice, step: CliffStep) -> plt.Figure:
    """Left: the loss over (w, b), the wall b*(w), one unclipped step from the wall (it leaves
    the map) and a path of clipped steps. Right: loss and gradient norm across the wall."""
    figure, (left, right) = new_figure(ncols=2, width=6.0, height=4.8)
    loss = surface.loss.T.numpy()  # rows: biases, columns: weights
    weights, biases = surface.weights.numpy(), surface.biases.numpy()
    mesh = left.pcolormesh(weights, biases, np.log10(np.clip(loss, 1e-3, None)),
                           shading="auto", rasterized=True, cmap="cividis", vmin=-3)
    figure.colorbar(mesh, ax=left,
                    label=rf"$\log_{{10}}$ loss $(x_{{{surface.steps}}} - {surface.target})^2$")
    # The wall: where x0 is an unstable fixed point of x -> w σ(x) + b, i.e. w σ'(x0) > 1.
    sigmoid = 1 / (1 + math.exp(-surface.x0))
    walls = weights[weights >= 1 / (sigmoid * (1 - sigmoid))]
    left.plot(walls, [wall_bias(w, surface.x0) for w in walls], color=OKABE_ITO["orange"],
              linestyle="--", linewidth=1.2, label=r"wall $b^*(w) = x_0 - w\,\sigma(x_0)$")
    start = np.array(step.start)
    path = np.array(step.clipped_path)
    left.plot(path[:, 0], path[:, 1], color=OKABE_ITO["bluish green"], linestyle="-",
              marker=".", markersize=4, linewidth=1.0,
              label=f"{len(path) - 1} clipped steps (each ≤ {step.lr * step.clip_norm:g} long)")
    # The unclipped step leaves the map: draw its direction up to the edge of the axes.
    direction = np.array(step.unclipped_end) - start
    w_low, w_high, b_low, b_high = weights[0], weights[-1], biases[0], biases[-1]
    scales = [(edge - start[i]) / direction[i] for i, edge in
              ((0, w_low), (0, w_high), (1, b_low), (1, b_high)) if direction[i] != 0]
    reach = min(scale for scale in scales if scale > 0)
    left.annotate("", xy=start + 0.97 * reach * direction, xytext=start,
                  arrowprops={"arrowstyle": "->", "color": OKABE_ITO["vermillion"], "lw": 2})
    left.plot([], [], color=OKABE_ITO["vermillion"], linestyle="-", linewidth=2,
              label=f"one unclipped step ({step.unclipped_length:.3g} long, off the map)")
    left.plot(*start, marker="o", color="white", markeredgecolor="black", markersize=7,
              linestyle="none", label="start, on the wall")
    left.set(xlabel="recurrent weight $w$", ylabel="bias $b$",
             xlim=(w_low, w_high), ylim=(b_low, b_high),
             title=f"one-unit RNN, $x_0 = {surface.x0}$, $T = {surface.steps}$")
    left.legend(loc="lower left", fontsize=8, framealpha=0.9)
    left.grid(False)

    offsets = (slice_.biases - slice_.wall).numpy()
    right.plot(offsets, slice_.loss.numpy(), color=PALETTE[0], linestyle="-", label="loss")
    right.set(xlabel=f"$b - b^*$ at $w = {slice_.weight:g}$", ylabel="loss",
              title="across the wall")
    gradient_axis = right.twinx()
    gradient_axis.semilogy(offsets, positive_values(slice_.gradient_norm.tolist()),
                           color=PALETTE[1],
                           linestyle="--", label=r"$\Vert\nabla L\Vert$ (right axis)")
    gradient_axis.set_ylabel(r"gradient norm $\Vert\nabla_{(w,b)} L\Vert$ (log)")
    handles = right.get_legend_handles_labels()[0] + gradient_axis.get_legend_handles_labels()[0]
    right.legend(handles=handles, loc="upper center", fontsize=9)
    return figure


# --------------------------------------------------------------------------------------------
# Divergence and clipping


def finish_norm_and_loss_axes(
    norm_axis: plt.Axes, loss_axis: plt.Axes, threshold: float | None, baseline: float | None,
    baseline_label: str = "baseline 1/6",
) -> None:
    """Reference lines and labels of a gradient-norm panel and a training-loss panel against
    the step: the clipping threshold (if any) and the MSE 1/6 of predicting 1 (if given)."""
    if threshold is not None:
        norm_axis.axhline(threshold, label=f"clipping threshold {threshold:g}", **THRESHOLD_STYLE)
    if baseline is not None:
        loss_axis.axhline(baseline, label=baseline_label, **BASELINE_STYLE)
    norm_axis.set(xlabel="step", ylabel=r"$\Vert g\Vert$ before clipping (log)")
    loss_axis.set(xlabel="step", ylabel="training MSE (log)")


def _seeds(runs: TrainingRun | Sequence[TrainingRun]) -> list[TrainingRun]:
    return [runs] if isinstance(runs, TrainingRun) else list(runs)


def _plot_losses_and_norms(
    groups: Sequence[Sequence[TrainingRun]], axes: Sequence[plt.Axes], window: int,
    threshold: float | None,
) -> None:
    """Loss (log) and gradient norm before clipping (log) against the step, one colour per
    setting: its first seed drawn and labelled, the other seeds thin and pale. A run that
    diverged ends with a cross at its last finite value."""
    loss_axis, norm_axis = axes
    for runs, style in zip(groups, series_styles(), strict=False):
        for index, run in enumerate(runs):
            steps = np.asarray(run.history.step) + 1  # 1-based: the x axis may be logarithmic
            look = dict(style) if index == 0 else {**style, "linewidth": 0.8, "alpha": 0.4}
            label = run.label if index == 0 else None
            for axis, values in ((loss_axis, run.history.loss),
                                 (norm_axis, run.history.grad_norm)):
                series = positive_values(values) if run.diverged else smoothed(values, window)
                axis.semilogy(steps, series, label=label, **look)
                if run.diverged:
                    finite = np.flatnonzero(np.isfinite(series))
                    if finite.size:
                        axis.plot(steps[finite[-1]], series[finite[-1]], marker="x",
                                  markersize=9 if index == 0 else 5, color=style["color"],
                                  linestyle="none")
    baseline = groups[0][0].baseline_loss if groups else None
    finish_norm_and_loss_axes(norm_axis, loss_axis, threshold, baseline,
                               "baseline 1/6 (predict 1)")


def plot_divergence(runs: Mapping[str, TrainingRun | Sequence[TrainingRun]], window: int = 25,
                    loss_ceiling: float = 1e4) -> plt.Figure:
    """Training loss and gradient norm of each setting of the divergence experiment (moving
    averages over `window` steps; a diverging run raw, ending in a cross where its loss
    overflowed), every seed, on a logarithmic step axis; losses above `loss_ceiling` leave the
    left panel."""
    figure, axes = new_figure(ncols=2, width=6.0, height=4.2)
    groups = [_seeds(group) for group in runs.values()]
    clip = next((r[0].settings["clip_norm"] for r in groups if r[0].settings["clip_norm"]), None)
    _plot_losses_and_norms(groups, axes, window, clip)
    for axis in axes:
        axis.set_xscale("log")
    axes[0].set_ylim(2e-2, loss_ceiling)
    for group in groups:
        run = group[0]
        if run.diverged:
            last = len(run.history.step)
            axes[0].annotate(f"{run.label}: the loss leaves\nthe plot and overflows\n"
                             f"(inf) at step {last}",
                             xy=(last, loss_ceiling), xytext=(last * 2.5, loss_ceiling / 30),
                             fontsize=8, arrowprops={"arrowstyle": "->", "color": "0.3"})
    axes[0].set_title("training loss")
    axes[1].set_title("gradient norm")
    # One legend for both panels, below them: the runs are the same on the left and the right.
    handles, labels = axes[0].get_legend_handles_labels()
    threshold_handles, threshold_labels = axes[1].get_legend_handles_labels()
    figure.legend(handles + threshold_handles[-1:], labels + threshold_labels[-1:],
                  loc="outside lower center", ncols=3, fontsize=9)
    return figure


def divergence_table(runs: Mapping[str, TrainingRun | Sequence[TrainingRun]]) -> str:
    """Per setting, over its seeds: how many diverged and after how many steps, the largest
    finite gradient norm, and the final loss (mean ± standard deviation), as Markdown."""
    rows = []
    for label, group in runs.items():
        group = _seeds(group)
        diverged = [len(run.history.step) for run in group if run.diverged]
        finite = [g for run in group for g in run.history.grad_norm if math.isfinite(g)]
        losses = [run.final_loss() for run in group]
        overflow = (f"{len(diverged)} of {len(group)}, at step {min(diverged)}"
                    + (f"–{max(diverged)}" if max(diverged) > min(diverged) else "")
                    if diverged else f"0 of {len(group)}")
        rows.append([label, overflow, f"{max(finite):.3g}", mean_spread(losses, 4)])
    header = ["run", "seeds diverged (inf/NaN)", "largest finite ‖g‖",
              "final MSE, last 100 steps (mean ± sd over seeds)"]
    return markdown_table(header, rows)


def explosion_anatomy_table(run: TrainingRun, steps: int = 12) -> str:
    """The first `steps` recorded gradients of a run: loss, ‖g‖, and the shares of ‖g‖ that sit
    in the recurrent weights W_hh and in the linear readout, as Markdown."""
    rows = []
    for index, step in enumerate(run.gradient_steps[:steps]):
        rows.append([f"{step + 1}", f"{run.history.loss[step]:.3g}",
                     f"{run.gradients[index].norm():.3g}",
                     f"{run.gradient_share(index, 'weight_hh'):.2f}",
                     f"{run.gradient_share(index, 'head.'):.2f}"])
    return markdown_table(["step", "loss", "‖g‖", "share in W_hh", "share in the readout"], rows)


def plot_clipping_directions(directions: ClippingDirections) -> plt.Figure:
    """Left: cos∠(g, clip(g)) against ‖g‖. Right: ‖clip(g)‖ against ‖g‖."""
    figure, (left, right) = new_figure(ncols=2, width=6.0, height=4.2)
    norms = np.asarray(directions.gradient_norms)
    order = np.argsort(norms)
    left.semilogx(norms[order], np.asarray(directions.cosine_norm)[order], color=PALETTE[0],
                  label=f"by norm, c = {directions.clip_norm:g}")
    right.loglog(norms[order], np.asarray(directions.clipped_norm_norm)[order],
                 color=PALETTE[0], label=f"by norm, c = {directions.clip_norm:g}")
    markers = ["o", "^", "s", "D"]
    for index, value in enumerate(directions.cosine_value):
        colour = PALETTE[index + 1]
        left.scatter(norms, directions.cosine_value[value], s=6, alpha=0.5, color=colour,
                     marker=markers[index % 4], label=f"by value, c = {value:g}")
        right.scatter(norms, directions.clipped_norm_value[value], s=6, alpha=0.5, color=colour,
                      marker=markers[index % 4], label=f"by value, c = {value:g}")
    left.set(xlabel=r"$\Vert g\Vert$ (log)", ylabel=r"$\cos\angle(g, \mathrm{clip}(g))$",
             ylim=(0, 1.05), title="direction of the update")
    right.set(xlabel=r"$\Vert g\Vert$ (log)", ylabel=r"$\Vert\mathrm{clip}(g)\Vert$ (log)",
              title="length of the update")
    left.legend(fontsize=8, loc="lower left")
    right.legend(fontsize=8, loc="upper left")
    return figure


# --------------------------------------------------------------------------------------------
# The widget's figure


def plot_training_run(run: TrainingRun, window: int = 25) -> plt.Figure:
    """Loss and gradient norm of one run (the widget's figure)."""
    figure, axes = new_figure(ncols=2, width=5.4, height=3.6)
    _plot_losses_and_norms([[run]], axes, window, run.settings["clip_norm"])
    status = "diverged" if run.diverged else f"final MSE {run.final_loss():.3f}"
    figure.suptitle(f"lr = {run.settings['lr']:g}, {run.label}: {status}", fontsize=11)
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    return figure
