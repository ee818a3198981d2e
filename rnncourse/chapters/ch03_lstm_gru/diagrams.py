"""Chapter 3's diagrams: the LSTM cell and the GRU cell, with the additive path through time
highlighted.

LSTM (torch.nn.LSTM's form):  c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t,  h_t = o_t ⊙ tanh(c_t);
along the cell path ∂c_t/∂c_{t-1} = diag(f_t).
GRU (torch.nn.GRU's form):  h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1};
along the path through z_t ⊙ h_{t-1}, ∂h_t/∂h_{t-1} = diag(z_t).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from rnncourse.chapters.ch03_lstm_gru.figures import GATE_COLOURS
from rnncourse.chapters.diagram_kit import (
    HIGHLIGHT,
    MUTED,
    arrow,
    box,
    canvas,
    dot,
    key,
    label,
    line,
    operator,
    route,
    shade,
)
from rnncourse.chapters.plotting import OKABE_ITO

__all__ = ["GRU_GATE_COLOURS", "draw_gru_cell", "draw_lstm_cell"]

# The GRU's update gate plays the LSTM's forget gate, its candidate the LSTM's candidate.
GRU_GATE_COLOURS = {"z": GATE_COLOURS["f"], "r": OKABE_ITO["reddish purple"],
                    "n": GATE_COLOURS["g"]}  # fmt: skip
CARRY, GATES, BUS = 5.0, 2.0, 0.8  # heights: the path through time, the gates, their inputs
GATE_SIZE = (0.9, 0.7)
PANEL_FILL = "#f3f3f3"
MULTIPLY = r"$\odot$"


def _frame(axes: plt.Axes, width: float) -> None:
    """The cell's panel, from x = 0 to `width`, behind everything else."""
    box(axes, (width / 2, 3.1), "", width=width, height=6.2, colour=MUTED, fill=PANEL_FILL,
        rounding=0.3, zorder=1)


def _carry_path(axes: plt.Axes, width: float, nodes: tuple[float, float],
                names: tuple[str, str]) -> tuple[object, object]:
    """The cell's panel (from x = 0 to `width`) and its path through time along the top,
    highlighted: `names[0]` enters, is multiplied (⊙) and added to (+) at the x of `nodes`,
    and leaves as `names[1]`. Returns the two nodes."""
    _frame(axes, width)
    multiply = operator(axes, (nodes[0], CARRY), MULTIPLY, colour=HIGHLIGHT)
    add = operator(axes, (nodes[1], CARRY), "$+$", colour=HIGHLIGHT)
    arrow(axes, (-0.7, CARRY), multiply.left, highlight=True)
    arrow(axes, multiply.right, add.left, highlight=True)
    arrow(axes, add.right, (width + 0.7, CARRY), highlight=True)
    label(axes, (-0.85, CARRY), names[0], ha="right")
    label(axes, (width + 0.85, CARRY), names[1], ha="left")
    return multiply, add


def _gate(axes: plt.Axes, x: float, text: str, colour: str) -> object:
    """A gate's nonlinearity (σ or tanh) at the gates' height, fed from the bus below it."""
    gate = box(axes, (x, GATES), text, width=GATE_SIZE[0], height=GATE_SIZE[1], colour=colour,
               linewidth=1.6)
    arrow(axes, (x, BUS), gate.bottom)
    return gate


def _inputs(axes: plt.Axes, bus: tuple[float, float], x_input: float) -> None:
    """The bus that carries h_{t-1} and x_t to every gate, and x_t coming up into it."""
    line(axes, [(bus[0], BUS), (bus[1], BUS)])
    line(axes, [(x_input, -0.5), (x_input, BUS)])
    dot(axes, (x_input, BUS))
    label(axes, (x_input, -0.62), "$x_t$", va="top")


def draw_lstm_cell() -> plt.Figure:
    """The LSTM cell: the four gates i, f, g, o on the inputs [h_{t-1}, x_t]; the cell state
    c_{t-1} -> c_t along the top, highlighted, multiplied by f_t and added i_t ⊙ g_t; the
    output h_t = o_t ⊙ tanh(c_t)."""
    figure, axes = canvas((-1.8, 11.75), (-1.85, 6.45))
    # The cell path: c_{t-1} -> ⊙ f_t -> + i_t ⊙ g_t -> c_t.
    forget, add = _carry_path(axes, 10.0, (2.0, 5.0), ("$c_{t-1}$", "$c_t$"))
    label(axes, (3.5, 5.72), r"$\partial c_t/\partial c_{t-1} = \mathrm{diag}(f_t)$ "
          "along the cell path", colour=HIGHLIGHT, size=11)
    # The gates, fed with h_{t-1} and x_t.
    _inputs(axes, (-0.7, 6.5), x_input=1.0)
    label(axes, (-0.85, BUS), "$h_{t-1}$", ha="right")
    gates = {name: _gate(axes, x, text, GATE_COLOURS[name]) for name, x, text in
             [("f", 2.0, r"$\sigma$"), ("i", 3.5, r"$\sigma$"), ("g", 5.0, r"$\tanh$"),
              ("o", 6.5, r"$\sigma$")]}  # fmt: skip
    arrow(axes, gates["f"].top, forget.bottom, colour=GATE_COLOURS["f"], linewidth=1.8)
    label(axes, (2.15, 3.6), "$f_t$", colour=shade(GATE_COLOURS["f"]), ha="left")
    write = operator(axes, (5.0, 3.6), MULTIPLY)
    route(axes, [gates["i"].top, (3.5, 3.6), write.left], colour=GATE_COLOURS["i"],
          linewidth=1.8)
    label(axes, (3.35, 3.0), "$i_t$", colour=shade(GATE_COLOURS["i"]), ha="right")
    arrow(axes, gates["g"].top, write.bottom, colour=GATE_COLOURS["g"], linewidth=1.8)
    label(axes, (5.15, 2.87), "$g_t$", colour=shade(GATE_COLOURS["g"]), ha="left")
    arrow(axes, write.top, add.bottom)
    label(axes, (5.15, 4.3), r"$i_t \odot g_t$", ha="left")
    # The output: h_t = o_t ⊙ tanh(c_t).
    dot(axes, (8.0, CARRY))
    squash = box(axes, (8.0, 3.8), r"$\tanh$", width=GATE_SIZE[0], height=0.55)
    arrow(axes, (8.0, CARRY), squash.top)
    read = operator(axes, (8.0, GATES), MULTIPLY)
    arrow(axes, squash.bottom, read.top)
    arrow(axes, gates["o"].right, read.left, colour=GATE_COLOURS["o"], linewidth=1.8)
    label(axes, (7.36, 2.12), "$o_t$", colour=shade(GATE_COLOURS["o"]), va="bottom")
    arrow(axes, read.right, (10.7, GATES))
    label(axes, (10.85, GATES), "$h_t$", ha="left")
    key(axes, (0.0, -1.45), [("$i_t$ input gate", shade(GATE_COLOURS["i"])),
                             ("$f_t$ forget gate", shade(GATE_COLOURS["f"])),
                             ("$g_t$ candidate", shade(GATE_COLOURS["g"])),
                             ("$o_t$ output gate", shade(GATE_COLOURS["o"]))], size=11)
    return figure


def draw_gru_cell() -> plt.Figure:
    """The GRU cell: the reset and update gates r, z and the candidate n on the inputs
    [h_{t-1}, x_t]; the state h_{t-1} -> h_t along the top, highlighted, multiplied by z_t and
    added (1 - z_t) ⊙ n_t."""
    figure, axes = canvas((-1.8, 9.75), (-1.85, 6.45))
    # The path through time: h_{t-1} -> ⊙ z_t -> + (1 - z_t) ⊙ n_t -> h_t.
    keep, add = _carry_path(axes, 8.0, (2.2, 5.8), ("$h_{t-1}$", "$h_t$"))
    label(axes, (4.0, 5.3), r"$z_t \odot h_{t-1}$", colour=HIGHLIGHT, va="bottom", size=11)
    label(axes, (4.0, 5.85), r"$\partial h_t/\partial h_{t-1} = \mathrm{diag}(z_t)$ "
          "along this path", colour=HIGHLIGHT, size=11)
    # h_{t-1} also goes down to the gates, with x_t.
    dot(axes, (0.6, CARRY))
    line(axes, [(0.6, CARRY), (0.6, BUS)])
    _inputs(axes, (0.6, 5.8), x_input=1.4)
    colours = GRU_GATE_COLOURS
    gates = {name: _gate(axes, x, text, colours[name]) for name, x, text in
             [("z", 2.2, r"$\sigma$"), ("r", 4.0, r"$\sigma$"), ("n", 5.8, r"$\tanh$")]}
    arrow(axes, gates["z"].top, keep.bottom, colour=colours["z"], linewidth=1.8)
    label(axes, (2.05, 2.95), "$z_t$", colour=shade(colours["z"]), ha="right")
    # (1 - z_t) ⊙ n_t.
    dot(axes, (2.2, 3.6), colour=colours["z"])
    complement = operator(axes, (3.3, 3.6), "$1-$", radius=0.36, colour=colours["z"], size=11)
    arrow(axes, (2.2, 3.6), complement.left, colour=colours["z"], linewidth=1.8)
    mix = operator(axes, (5.8, 3.6), MULTIPLY)
    arrow(axes, complement.right, mix.left, colour=colours["z"], linewidth=1.8)
    label(axes, (4.6, 3.72), "$1-z_t$", colour=shade(colours["z"]), va="bottom", size=11)
    arrow(axes, gates["r"].right, gates["n"].left, colour=colours["r"], linewidth=1.8)
    label(axes, (4.9, 2.12), "$r_t$", colour=shade(colours["r"]), va="bottom")
    arrow(axes, gates["n"].top, mix.bottom, colour=colours["n"], linewidth=1.8)
    label(axes, (5.95, 2.87), "$n_t$", colour=shade(colours["n"]), ha="left")
    arrow(axes, mix.top, add.bottom)
    label(axes, (5.95, 4.3), r"$(1-z_t) \odot n_t$", ha="left", size=11)
    key(axes, (0.0, -1.45), [("$r_t$ reset gate", shade(colours["r"])),
                             ("$z_t$ update gate", shade(colours["z"])),
                             ("$n_t$ candidate", shade(colours["n"]))], size=11)
    return figure
