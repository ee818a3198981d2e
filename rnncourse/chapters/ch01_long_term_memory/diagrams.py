"""Chapter 1's diagram: the unrolled RNN and the paths backpropagation through time follows.

The loss at step $t$ reaches the state $h_k$ through the Jacobian product

    ∂h_t/∂h_k = ∏_{i=k+1}^{t} ∂h_i/∂h_{i-1},   ∂h_i/∂h_{i-1} = diag(φ'(a_i)) W_hh,

one factor per step back: the path from $L_T$ has $T - k$ factors, the one from $L_{k+2}$ two.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from rnncourse.chapters.diagram_kit import (
    HIGHLIGHT,
    INK,
    SECOND,
    STATE_EDGE,
    STATE_FILL,
    arrow,
    box,
    bracket,
    canvas,
    key,
    label,
)

__all__ = ["draw_bptt_paths"]

# The columns of the unrolled network: the index in each label, None for an ellipsis.
STEPS = ["0", None, "k", "k+1", "k+2", None, "T-1", "T"]
SPACING = 1.9  # between columns
STATE_ROW, INPUT_ROW, LOSS_ROW = 2.4, 0.4, 4.4  # heights of the rows
STATE_SIZE, SMALL_SIZE = (1.0, 0.6), (0.95, 0.5)
JACOBIAN_LABEL_HEIGHT = 1.2


def _jacobian(step: str) -> str:
    """∂h_t/∂h_{t-1} for the step index written as in the labels ("k+1", "T")."""
    before = {"k+1": "k", "k+2": "k+1", "T": "T-1", "T-1": "T-2"}[step]
    return rf"$\dfrac{{\partial h_{{{step}}}}}{{\partial h_{{{before}}}}}$"


def draw_bptt_paths() -> plt.Figure:
    """The unrolled RNN (inputs $x_t$, states $h_t$, losses $L_t$) and two of the terms of
    ∂L/∂W_hh that reach step k: from the loss at T back through T - k Jacobians (highlighted,
    below the states) and from the loss at k + 2 through two (blue, above them)."""
    figure, axes = canvas((-0.7, 14.9), (-2.4, 6.8))
    xs = [SPACING * column for column in range(len(STEPS))]
    states = {}
    for x, step in zip(xs, STEPS, strict=True):
        if step is None:
            label(axes, (x, STATE_ROW), r"$\cdots$", size=14)
            continue
        states[step] = box(axes, (x, STATE_ROW), f"$h_{{{step}}}$", width=STATE_SIZE[0],
                           height=STATE_SIZE[1], colour=STATE_EDGE, fill=STATE_FILL)
        if step == "0":
            continue
        seen = box(axes, (x, INPUT_ROW), f"$x_{{{step}}}$", width=SMALL_SIZE[0],
                   height=SMALL_SIZE[1], fill="white")
        loss = box(axes, (x, LOSS_ROW), f"$L_{{{step}}}$", width=SMALL_SIZE[0],
                   height=SMALL_SIZE[1], fill="white")
        arrow(axes, seen.top, states[step].bottom)
        arrow(axes, states[step].top, loss.bottom)
        if step in ("T", "k+2"):  # where a gradient path starts: ∂L_t/∂h_t, down
            colour = HIGHLIGHT if step == "T" else SECOND
            arrow(axes, loss.side("bottom", 0.25), states[step].side("top", 0.25),
                  colour=colour, highlight=True, gid=None if step == "T" else "second path")
            label(axes, (x + 0.4, (LOSS_ROW + STATE_ROW) / 2),
                  rf"$\dfrac{{\partial L_{{{step}}}}}{{\partial h_{{{step}}}}}$", colour=colour,
                  ha="left")
    # The forward recurrence: h_{t-1} -> h_t, into and out of the ellipses too.
    half = [0.25 if step is None else STATE_SIZE[0] / 2 for step in STEPS]
    for column in range(1, len(STEPS)):
        arrow(axes, (xs[column - 1] + half[column - 1], STATE_ROW),
              (xs[column] - half[column], STATE_ROW))
    _gradient_paths(axes, xs)
    bracket(axes, (xs[2], xs[-1]), -0.2,
            r"$\dfrac{\partial h_T}{\partial h_k} = \prod_{i=k+1}^{T}"
            r"\,\dfrac{\partial h_i}{\partial h_{i-1}}$: $T-k$ factors", colour=HIGHLIGHT)
    label(axes, ((xs[2] + xs[-1]) / 2, -1.95),
          r"each factor $\dfrac{\partial h_i}{\partial h_{i-1}} = \mathrm{diag}(\phi'(a_i))\,"
          r"W_{hh}$ has norm $\leq \gamma\,\sigma_{\max}(W_{hh})$", colour=INK, size=10)
    bracket(axes, (xs[2], xs[4]), LOSS_ROW + 0.55,
            r"$\dfrac{\partial h_{k+2}}{\partial h_k}$: 2 factors", below=False, colour=SECOND)
    key(axes, (xs[2] - 0.5, 6.45), [
        ("forward", {}), ("gradient of $L_T$", {"highlight": True}),
        ("gradient of $L_{k+2}$", {"highlight": True, "colour": SECOND})])
    return figure


def _anchor(xs: list[float], column: int, side: int, y: float) -> tuple[float, float]:
    """Where an arc leaves or reaches a column: 0.28 to the `side` (+1 right, -1 left) of the
    centre of a state's `y` side, or of an ellipsis."""
    if STEPS[column] is None:
        return (xs[column] + 0.3 * side, STATE_ROW + 0.6 * (y - STATE_ROW))
    return (xs[column] + 0.28 * side, y)


def _gradient_paths(axes: plt.Axes, xs: list[float]) -> None:
    """Each step back is an arc from h_t to h_{t-1}: the path from L_T below the states, the
    path from L_{k+2} above them, each arc of the first labelled with its Jacobian."""
    below, above = STATE_ROW - STATE_SIZE[1] / 2, STATE_ROW + STATE_SIZE[1] / 2
    for column in range(len(STEPS) - 1, 2, -1):  # from T back to k
        start, end = _anchor(xs, column, -1, below), _anchor(xs, column - 1, +1, below)
        arrow(axes, start, end, curve=-0.25, highlight=True)
        if STEPS[column] is not None and STEPS[column - 1] is not None:
            label(axes, ((start[0] + end[0]) / 2, JACOBIAN_LABEL_HEIGHT),
                  _jacobian(STEPS[column]), colour=HIGHLIGHT)
        if column <= 4:  # the short path, from L_{k+2}, above the states
            arrow(axes, _anchor(xs, column, -1, above), _anchor(xs, column - 1, +1, above),
                  curve=0.25, highlight=True, colour=SECOND, gid="second path")
