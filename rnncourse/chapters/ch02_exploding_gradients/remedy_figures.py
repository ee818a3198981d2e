"""Figures and tables of chapter 2's remedies: normalisation, weight decay, initialisation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from rnncourse.chapters.ch02_exploding_gradients.divergence import TrainingRun
from rnncourse.chapters.ch02_exploding_gradients.figures import (
    THRESHOLD_STYLE,
    finish_norm_and_loss_axes,
    positive_values,
    smoothed,
)
from rnncourse.chapters.ch02_exploding_gradients.remedies import (
    COOIJMANS_TABLE_1,
    InitializationRun,
    NormalizationRun,
)
from rnncourse.chapters.plotting import (
    markdown_table,
    new_figure,
    series_styles,
)

__all__ = [
    "initialization_table",
    "normalization_table",
    "plot_initialization",
    "plot_normalization",
    "plot_weight_decay",
    "weight_decay_table",
]

NORMALIZATION_NAMES = {"none": "LSTM", "layer": "LN-LSTM", "batch": "BN-LSTM"}
ORDER_NAMES = {"rows": "rows", "pixels": "pixel by pixel", "permuted": "permuted pixels"}


# --------------------------------------------------------------------------------------------
# Normalisation


def plot_normalization(results: Mapping[tuple[str, str], NormalizationRun],
                       window: int = 20) -> plt.Figure:
    """One row per reading order: training loss and gradient norm (moving averages)."""
    orders = list(dict.fromkeys(order for order, _ in results))
    figure, axes = new_figure(ncols=2, nrows=len(orders), width=6.0, height=3.6)
    axes = np.atleast_2d(axes)
    for row, order in zip(axes, orders, strict=True):
        runs = [run for (o, _), run in results.items() if o == order]
        for run, style in zip(runs, series_styles(), strict=False):
            name = NORMALIZATION_NAMES.get(run.normalization, run.normalization)
            steps = run.history.step
            row[0].plot(steps, smoothed(run.history.loss, window), label=name, **style)
            row[1].semilogy(steps, smoothed(run.history.grad_norm, window), label=name, **style)
        row[0].set(xlabel="step", ylabel="training cross entropy",
                   title=f"digits, {ORDER_NAMES.get(order, order)}")
        row[1].set(xlabel="step", ylabel=r"$\Vert g\Vert$ before clipping (log)",
                   title=f"gradient norm, {ORDER_NAMES.get(order, order)}")
        row[0].legend(fontsize=8)
    return figure


def normalization_table(results: Mapping[tuple[str, str], NormalizationRun]) -> str:
    """Measured test accuracy per reading order and model, beside Cooijmans et al.'s Table 1."""
    rows = []
    for (order, normalization), run in results.items():
        published = COOIJMANS_TABLE_1.get(order, {}).get(normalization)
        paper = f"{published:.1f}" if published is not None else "not reported"
        last = run.history.loss[-20:]
        rows.append([
            f"digits, {ORDER_NAMES.get(order, order)}",
            NORMALIZATION_NAMES.get(normalization, normalization),
            f"{sum(last) / len(last):.3f}", f"{100 * run.test_accuracy:.1f}",
            f"{max(run.history.grad_norm):.3g}", paper,
        ])  # fmt: skip
    header = ["task", "model", "final training loss", "test accuracy (%)", "largest ‖g‖",
              "MNIST, same reading, Cooijmans et al. (%)"]
    return markdown_table(header, rows)


# --------------------------------------------------------------------------------------------
# Weight decay and initialisation


def _finish_three_panels(axes: Sequence[plt.Axes], threshold: float | None, baseline: float,
                         norm_title: str) -> None:
    """Panels 2 and 3 of a row (gradient norm, training loss) labelled and titled; legends in
    panel 1 and in panel 3, where the baseline is (panel 2 holds the same runs)."""
    finish_norm_and_loss_axes(axes[1], axes[2], threshold, baseline)
    axes[1].set_title(norm_title)
    axes[2].set_title("loss")
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=8)


def plot_weight_decay(runs: Mapping[float, TrainingRun], window: int = 50) -> plt.Figure:
    """ρ(W_hh), gradient norm and training loss against the step, one line per weight decay."""
    figure, axes = new_figure(ncols=3, width=4.4, height=3.8)
    for run, style in zip(runs.values(), series_styles(), strict=False):
        axes[0].plot(run.spectral_radius_steps, run.spectral_radii, label=run.label, **style)
        axes[1].semilogy(run.history.step, smoothed(run.history.grad_norm, window),
                         label=run.label, **style)
        axes[2].semilogy(run.history.step, smoothed(run.history.loss, window), label=run.label,
                         **style)
    axes[0].axhline(1.0, **THRESHOLD_STYLE)
    axes[0].set(xlabel="step", ylabel=r"spectral radius $\rho(W_{hh})$", title="ρ(W_hh)")
    first = next(iter(runs.values()))
    _finish_three_panels(axes, None, first.baseline_loss, "gradient norm")
    return figure


def weight_decay_table(runs: Mapping[float, TrainingRun]) -> str:
    rows = []
    for decay, run in runs.items():
        norms = run.history.grad_norm
        last = norms[-100:]
        rows.append([f"{decay:g}", f"{run.spectral_radii[0]:.2f}", f"{run.spectral_radii[-1]:.2f}",
                     f"{sum(last) / len(last):.2f}", f"{run.final_loss():.4f}"])
    header = ["weight decay λ", "ρ(W_hh) at start", "ρ(W_hh) at end",
              "mean ‖g‖, last 100 steps", "final MSE (baseline 0.1667)"]
    return markdown_table(header, rows)


def plot_initialization(results: Mapping[str, InitializationRun], window: int = 50
                        ) -> plt.Figure:
    """Left: ‖∂L/∂h_t‖ at initialisation. Middle: gradient norm during training. Right: loss."""
    figure, axes = new_figure(ncols=3, width=4.4, height=3.8)
    for result, style in zip(results.values(), series_styles(), strict=False):
        norms = result.gradient_norms_at_init
        steps = torch.arange(1, norms.numel() + 1).numpy()
        axes[0].semilogy(steps, positive_values(norms.tolist()), label=result.label, **style)
        history = result.run.history
        axes[1].semilogy(history.step, positive_values(history.grad_norm), label=result.label,
                         alpha=0.8, **style)
        axes[2].semilogy(history.step, smoothed(history.loss, window), label=result.label,
                         **style)
    axes[0].set(xlabel="time step t", ylabel=r"$\Vert\partial L/\partial h_t\Vert$ (log)",
                title="gradient through time, at init")
    first = next(iter(results.values()))
    _finish_three_panels(axes, first.run.settings["clip_norm"], first.run.baseline_loss,
                         "gradient norm, training")
    return figure


def initialization_table(results: Mapping[str, InitializationRun]) -> str:
    rows = []
    for result in results.values():
        norms = result.gradient_norms_at_init
        ratio = (norms[0] / norms[-1]).item()
        finite = [g for g in result.run.history.grad_norm if math.isfinite(g)]
        rows.append([result.label, f"{result.initial_spectral_radius:.2f}", f"{ratio:.1e}",
                     f"{result.decay_per_step:.3f}", f"{max(finite):.3g}",
                     f"{result.run.final_loss():.4f}"])
    header = ["recurrent weights", "ρ(W_hh)", "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖", "factor per step back",
              "largest ‖g‖ in training", "final MSE (baseline 0.1667)"]
    return markdown_table(header, rows)


