"""Figure and tables of chapter 2's regularisation study, and the published ablation beside it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from rnncourse.chapters.ch02_exploding_gradients.claims import mean_spread
from rnncourse.chapters.ch02_exploding_gradients.regularization import (
    MERITY_TABLE_4,
    RegularizationStudy,
)
from rnncourse.chapters.ch02_exploding_gradients.remedy_figures import seed_style
from rnncourse.chapters.plotting import markdown_table, new_figure, series_styles

__all__ = ["merity_table", "plot_regularization", "regularization_table", "rates_text"]

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
    left.set(xlabel="step", ylabel="bits per character", title="validation bpc (solid)")
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
    right.legend(fontsize=8, loc="lower right")
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
