"""Figures and tables for the chapters, one module per chapter, sharing one colour-blind-safe
style and the helpers below.

The palette is Okabe and Ito's (2008), readable with every common colour-vision deficiency;
line styles differ too, so curves stay distinct in greyscale. Importing this package makes that
the default for every matplotlib figure (`use_course_style()`), so a chapter that plots with
`rnncourse.chapters.plotting` or plain `plt.plot` gets the same colours.

Shared by the chapters' modules: `new_figure` and `series_styles` for figures,
`moving_average` to smooth a noisy training curve, and `markdown_table` (from
`rnncourse.chapters.markdown`) for the tables a page shows with `IPython.display.Markdown`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import cycle

import matplotlib as mpl
import matplotlib.pyplot as plt
import torch

from rnncourse.chapters.markdown import markdown_table  # noqa: F401  (shared with the figures)

OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}
# The order curves take colours in: strongest contrasts first (yellow last, weak on white).
PALETTE = [OKABE_ITO[name] for name in
           ("blue", "vermillion", "bluish green", "reddish purple", "orange", "sky blue", "black",
            "yellow")]
LINESTYLES = ["-", "--", "-.", ":"]


def series_styles() -> cycle:
    """An endless cycle of `dict(color=..., linestyle=...)` for successive curves."""
    return cycle([{"color": colour, "linestyle": LINESTYLES[i % len(LINESTYLES)]}
                  for i, colour in enumerate(PALETTE)])


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 4.0,
               **kwargs) -> tuple[plt.Figure, object]:
    """A figure with the course style: constrained layout, a light grid."""
    figure, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                                layout="constrained", **kwargs)
    for axis in (axes.flat if hasattr(axes, "flat") else [axes]):
        axis.grid(True, alpha=0.3)
    return figure, axes


def moving_average(values: Sequence[float] | torch.Tensor, window: int) -> torch.Tensor:
    """Mean of each run of `window` consecutive values, ending at each value (shorter at the
    start, where fewer values precede it): a training loss smoothed, in float64."""
    series = torch.as_tensor(values, dtype=torch.float64).flatten()
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    if series.numel() == 0:
        return series
    cumulative = torch.cat([series.new_zeros(1), series.cumsum(0)])  # S_i = x_1 + ... + x_i
    ends = torch.arange(1, series.numel() + 1)
    starts = (ends - window).clamp_min(0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)  # (S_end - S_start) / n


def course_style() -> dict[str, object]:
    """The matplotlib settings of the course: the palette and line styles as the default cycle.

    Successive curves take `PALETTE[i]` with `LINESTYLES[i % 4]`, as in `series_styles()`;
    images use the perceptually uniform, colour-blind-safe "cividis" colour map.
    """
    return {
        "axes.prop_cycle": mpl.cycler(color=PALETTE)
        + mpl.cycler(linestyle=[LINESTYLES[i % len(LINESTYLES)] for i in range(len(PALETTE))]),
        "image.cmap": "cividis",
    }


def use_course_style() -> None:
    """Make the course style matplotlib's default for the rest of the session."""
    mpl.rcParams.update(course_style())


use_course_style()
