"""Chapter 4 widget: how much padding does a batch size and a batching strategy cost?"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from torch import Tensor

from rnncourse.chapters.ch04_efficiency.figures import plot_padding
from rnncourse.training.batching import bucket_batches, padding_fraction, random_batches

__all__ = ["padding_explorer"]


def padding_explorer(
    lengths: Tensor | Sequence[int], *, batch_size: int = 16, bucketed: bool = False,
    seed: int = 0,
) -> widgets.interactive:
    """Sliders for the batch size and a switch for bucketing; the figure shows the first batches
    (valid steps filled, padding hatched) and the title the share of padding over all batches.

    Opens with `batch_size` and `bucketed`, so the saved page already shows a figure.
    """
    lengths = torch.as_tensor(lengths)

    def draw(batch_size: int, bucketed: bool) -> None:
        if bucketed:
            batches = bucket_batches(lengths, batch_size, seed=seed)
        else:
            batches = random_batches(len(lengths), batch_size, seed=seed)
        share = padding_fraction(lengths, batches)
        strategy = "bucketed by length" if bucketed else "random batches"
        shown = max(1, 64 // batch_size)
        plot_padding(lengths, batches, max_batches=shown,
                     title=f"B = {batch_size}, {strategy}: {share:.0%} of computed steps are "
                           f"padding (first {shown} batches shown)")
        plt.show()

    return widgets.interactive(
        draw,
        batch_size=widgets.IntSlider(value=batch_size, min=2, max=64, step=2,
                                     description="batch size"),
        bucketed=widgets.Checkbox(value=bucketed, description="bucket by length"),
    )
