"""Figures and tables of chapter 2's remedies: normalisation, weight decay, RNN regularisers
(with the published ablation beside them), initialisation.

Every experiment ran several seeds: a figure draws the first seed of each setting in full and
labelled and the others thin and pale; a table gives mean ± standard deviation over seeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from rnncourse.chapters.ch02_exploding_gradients.claims import mean_spread
from rnncourse.chapters.ch02_exploding_gradients.divergence import TrainingRun
from rnncourse.chapters.ch02_exploding_gradients.figures import (
    THRESHOLD_STYLE,
    finish_norm_and_loss_axes,
    positive_values,
    smoothed,
)
from rnncourse.chapters.ch02_exploding_gradients.regularization import (
    MERITY_TABLE_4,
    RegularizationStudy,
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
    "merity_table",
    "normalization_table",
    "plot_initialization",
    "plot_normalization",
    "plot_regularization",
    "plot_weight_decay",
    "rates_text",
    "regularization_table",
    "seed_style",
    "weight_decay_table",
]

NORMALIZATION_NAMES = {"none": "LSTM", "layer": "LN-LSTM", "batch": "BN-LSTM"}
ORDER_NAMES = {"rows": "rows", "pixels": "in order", "permuted": "permuted"}


def seed_style(style: dict, index: int) -> dict:
    """The style of seed `index` of a setting: the first as given, the others thin and pale."""
    return dict(style) if index == 0 else {**style, "linewidth": 0.8, "alpha": 0.35}


# --------------------------------------------------------------------------------------------
# Normalisation


def plot_normalization(results: Mapping[tuple[str, str], Sequence[NormalizationRun]],
                       window: int = 20) -> plt.Figure:
    """One row per reading order: training loss and gradient norm (moving averages), every
    seed."""
    orders = list(dict.fromkeys(order for order, _ in results))
    figure, axes = new_figure(ncols=2, nrows=len(orders), width=6.0, height=3.6)
    axes = np.atleast_2d(axes)
    for row, order in zip(axes, orders, strict=True):
        groups = [runs for (o, _), runs in results.items() if o == order]
        for runs, style in zip(groups, series_styles(), strict=False):
            for index, run in enumerate(runs):
                name = NORMALIZATION_NAMES.get(run.normalization, run.normalization)
                look, label = seed_style(style, index), name if index == 0 else None
                steps = run.history.step
                row[0].plot(steps, smoothed(run.history.loss, window), label=label, **look)
                row[1].semilogy(steps, smoothed(run.history.grad_norm, window), label=label,
                                **look)
        row[0].set(xlabel="step", ylabel="training cross entropy",
                   title=f"digits, pixels {ORDER_NAMES.get(order, order)}")
        row[1].set(xlabel="step", ylabel=r"$\Vert g\Vert$ before clipping (log)",
                   title=f"gradient norm, pixels {ORDER_NAMES.get(order, order)}")
        row[0].legend(fontsize=8)
    return figure


def normalization_table(results: Mapping[tuple[str, str], Sequence[NormalizationRun]]) -> str:
    """Measured final training loss and test accuracy (mean ± sd over seeds) per reading order
    and model, beside Cooijmans et al.'s Table 1."""
    rows = []
    for (order, normalization), runs in results.items():
        published = COOIJMANS_TABLE_1.get(order, {}).get(normalization)
        paper = f"{published:.1f}" if published is not None else "not reported"
        rows.append([
            f"digits, pixels {ORDER_NAMES.get(order, order)}",
            NORMALIZATION_NAMES.get(normalization, normalization),
            mean_spread([run.final_loss() for run in runs]),
            mean_spread([100 * run.test_accuracy for run in runs], 1),
            f"{max(max(run.history.grad_norm) for run in runs):.3g}", paper,
        ])  # fmt: skip
    header = ["task", "model", "final training loss", "test accuracy (%)", "largest ‖g‖",
              "MNIST, same reading, Cooijmans et al., Table 1 (%)"]
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


def plot_weight_decay(runs: Mapping[float, Sequence[TrainingRun]], window: int = 50
                      ) -> plt.Figure:
    """ρ(W_hh), gradient norm and training loss against the step, one colour per weight decay,
    every seed."""
    figure, axes = new_figure(ncols=3, width=4.4, height=3.8)
    for group, style in zip(runs.values(), series_styles(), strict=False):
        for index, run in enumerate(group):
            look, label = seed_style(style, index), run.label if index == 0 else None
            axes[0].plot(run.spectral_radius_steps, run.spectral_radii, label=label, **look)
            axes[1].semilogy(run.history.step, smoothed(run.history.grad_norm, window),
                             label=label, **look)
            axes[2].semilogy(run.history.step, smoothed(run.history.loss, window), label=label,
                             **look)
    axes[0].axhline(1.0, **THRESHOLD_STYLE)
    axes[0].set(xlabel="step", ylabel=r"spectral radius $\rho(W_{hh})$", title="ρ(W_hh)")
    first = next(iter(runs.values()))[0]
    _finish_three_panels(axes, None, first.baseline_loss, "gradient norm")
    return figure


def weight_decay_table(runs: Mapping[float, Sequence[TrainingRun]]) -> str:
    """Per weight decay, mean ± sd over seeds of ρ(W_hh) at the end, of the gradient norm over
    the last 100 steps and of the final loss."""
    rows = []
    for decay, group in runs.items():
        last_norms = [sum(run.history.grad_norm[-100:]) / len(run.history.grad_norm[-100:])
                      for run in group]
        rows.append([f"{decay:g}", f"{group[0].spectral_radii[0]:.2f}",
                     mean_spread([run.spectral_radii[-1] for run in group], 2),
                     mean_spread(last_norms, 2),
                     mean_spread([run.final_loss() for run in group], 4)])
    header = ["weight decay λ", "ρ(W_hh) at start", "ρ(W_hh) at end",
              "mean ‖g‖, last 100 steps", "final MSE (baseline 0.1667)"]
    return markdown_table(header, rows)


def plot_initialization(results: Mapping[str, Sequence[InitializationRun]], window: int = 50
                        ) -> plt.Figure:
    """Left: ‖∂L/∂h_t‖ at initialisation. Middle: gradient norm during training (first seed).
    Right: training loss, every seed."""
    figure, axes = new_figure(ncols=3, width=4.4, height=3.8)
    for group, style in zip(results.values(), series_styles(), strict=False):
        for index, result in enumerate(group):
            look, label = seed_style(style, index), result.label if index == 0 else None
            norms = result.gradient_norms_at_init
            steps = torch.arange(1, norms.numel() + 1).numpy()
            axes[0].semilogy(steps, positive_values(norms.tolist()), label=label, **look)
            history = result.run.history
            if index == 0:
                axes[1].semilogy(history.step, positive_values(history.grad_norm), label=label,
                                 alpha=0.8, **style)
            axes[2].semilogy(history.step, smoothed(history.loss, window), label=label, **look)
    axes[0].set(xlabel="time step t", ylabel=r"$\Vert\partial L/\partial h_t\Vert$ (log)",
                title="gradient through time, at init")
    first = next(iter(results.values()))[0]
    _finish_three_panels(axes, first.run.settings["clip_norm"], first.run.baseline_loss,
                         "gradient norm, training")
    return figure


def initialization_table(results: Mapping[str, Sequence[InitializationRun]]) -> str:
    """Per initialisation, mean ± sd over seeds (the gradient ratio as a range)."""
    rows = []
    for label, group in results.items():
        ratios = [result.gradient_ratio for result in group]
        largest = max(g for result in group for g in result.run.history.grad_norm
                      if math.isfinite(g))
        rows.append([label, mean_spread([r.initial_spectral_radius for r in group], 2),
                     f"{min(ratios):.1e} to {max(ratios):.1e}",
                     mean_spread([r.decay_per_step for r in group], 3), f"{largest:.3g}",
                     mean_spread([r.run.final_loss() for r in group], 4)])
    header = ["recurrent weights", "ρ(W_hh)", "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖", "factor per step back",
              "largest ‖g‖ in training", "final MSE (baseline 0.1667)"]
    return markdown_table(header, rows)


RATE_NAMES = {"dropout": "p", "variational_dropout": "p_v", "recurrent_dropout": "p_h",
              "weight_drop": "p_w", "zoneout_cell": "z_c", "zoneout_hidden": "z_h"}


def rates_text(rates: dict[str, float]) -> str:
    """'p_w = 0.5, z_c = 0.5' for a variant's rates ('—' for none)."""
    return ", ".join(f"{RATE_NAMES.get(name, name)} = {value:g}"
                     for name, value in rates.items()) or "—"


def plot_regularization(study: RegularizationStudy) -> plt.Figure:
    """Left: validation bits per character against the step for every variant (each seed), and
    the training bpc of the unregularised model (dashed). Right: the final training (hollow)
    and validation (filled) bpc of every seed of every variant."""
    figure, (left, right) = new_figure(ncols=2, width=5.6, height=4.4)
    labels = study.labels
    for label, style in zip(labels, series_styles(), strict=False):
        for index, curve in enumerate(study.valid_bpc[label]):
            left.plot(study.eval_steps, curve, label=label if index == 0 else None,
                      **seed_style(style, index))
        if label == labels[0]:
            for index, curve in enumerate(study.train_bpc[label]):
                look = {**seed_style(style, index), "linestyle": (0, (2, 2))}
                left.plot(study.eval_steps, curve, label=f"{label}, training text"
                          if index == 0 else None, **look)
    left.set(xlabel="step", ylabel="bits per character",
             title="validation bpc, and training bpc of 'none'")
    left.legend(fontsize=8, ncols=2)
    positions = np.arange(len(labels))[::-1]
    for position, label, style in zip(positions, labels, series_styles(), strict=False):
        colour = style["color"]
        valid, train = study.final(label, "valid"), study.final(label, "train")
        right.scatter(valid, [position] * len(valid), color=colour, s=28, zorder=3,
                      label="validation" if label == labels[0] else None)
        right.scatter(train, [position] * len(train), facecolors="none", edgecolors=colour,
                      s=28, zorder=3, label="training" if label == labels[0] else None)
        right.plot([np.mean(train), np.mean(valid)], [position, position], color=colour,
                   linewidth=1, alpha=0.6)
    right.set_yticks(positions, labels)
    right.set(xlabel="bits per character after the last step",
              title="final bpc of every seed (the line: the gap)")
    right.legend(fontsize=8, loc="center left")  # the rows' empty side
    return figure


def regularization_table(study: RegularizationStudy) -> str:
    """Per variant: its rates, final training and validation bpc and the lowest validation bpc
    along the way (mean ± sd over seeds), and the gap between the two at the end."""
    rows = []
    for label in study.labels:
        rates = study.settings.get("regularizers", {}).get(label, {})
        rows.append([label, rates_text(rates), mean_spread(study.final(label, "train"), 2),
                     mean_spread(study.final(label, "valid"), 2),
                     mean_spread(study.best(label), 2), f"{study.gap(label):.2f}"])
    header = ["regulariser", "rates", "training bpc", "validation bpc",
              "lowest validation bpc on the way", "gap (bits)"]
    return markdown_table(header, rows)


def merity_table() -> str:
    """Merity et al.'s ablation as quoted in `MERITY_TABLE_4` (word-level perplexity, PTB)."""
    rows = [[model, f"{valid:.1f}", f"{test:.1f}"]
            for model, (valid, test) in MERITY_TABLE_4.items()]
    return markdown_table(["AWD-LSTM, Penn Treebank (words)", "validation perplexity",
                           "test perplexity"], rows)
