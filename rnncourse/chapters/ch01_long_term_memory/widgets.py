"""Chapter 1's widget: move the spectral radius, the nonlinearity and the length, and watch the
gradient through time vanish or explode."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt

from rnncourse.chapters.ch01_long_term_memory.figures import plot_gradient_curve
from rnncourse.chapters.ch01_long_term_memory.gradient_decay import (
    RNN_NONLINEARITIES,
    RecurrentInit,
    measure_gradient_decay,
)

__all__ = ["MATRICES", "draw_gradient_decay", "gradient_decay_explorer"]

# Which W_hh is rescaled to the chosen spectral radius: torch's uniform draw (non-normal, its
# σ_max is about twice ρ) or an orthogonal matrix (normal: σ_max = ρ, the bound is tight).
MATRICES = {"random (uniform)": "default", "orthogonal": "orthogonal"}


def draw_gradient_decay(
    spectral_radius: float = 1.0,
    nonlinearity: str = "tanh",
    seq_len: int = 100,
    matrix: str = "random (uniform)",
    *,
    hidden_size: int = 64,
    seed: int = 0,
    device: str | None = None,
) -> plt.Figure:
    """Measure one RNN's gradient against lag (see `measure_gradient_decay`) and plot it."""
    if matrix not in MATRICES:
        raise ValueError(f"matrix must be one of {', '.join(map(repr, MATRICES))}, got {matrix!r}")
    init = RecurrentInit(f"{matrix} W, ρ = {spectral_radius:.2f}", MATRICES[matrix],
                         float(spectral_radius))
    curve = measure_gradient_decay(init, seq_len=int(seq_len), hidden_size=hidden_size,
                                   nonlinearity=nonlinearity, seed=seed, device=device)
    return plot_gradient_curve(curve)


def gradient_decay_explorer(
    spectral_radius: float = 1.0,
    nonlinearity: str = "tanh",
    seq_len: int = 100,
    matrix: str = "random (uniform)",
) -> widgets.interactive:
    """Sliders for ρ(W_hh), the nonlinearity, the sequence length and the kind of W_hh.

    Each change reruns `draw_gradient_decay` (a fraction of a second on a CPU: the RNN is
    small). The arguments set the first state, which is what the static website shows.
    """

    def show(spectral_radius: float, nonlinearity: str, seq_len: int, matrix: str) -> plt.Figure:
        figure = draw_gradient_decay(spectral_radius, nonlinearity, seq_len, matrix)
        plt.show()  # into the widget's output area (interactive does not display the result)
        return figure

    controls = {
        "spectral_radius": widgets.FloatSlider(
            value=spectral_radius, min=0.1, max=2.0, step=0.05, description="ρ(W_hh)",
            continuous_update=False),
        "nonlinearity": widgets.ToggleButtons(
            options=list(RNN_NONLINEARITIES), value=nonlinearity, description="φ"),
        "seq_len": widgets.IntSlider(
            value=seq_len, min=10, max=300, step=10, description="length T",
            continuous_update=False),
        "matrix": widgets.Dropdown(options=list(MATRICES), value=matrix, description="W_hh"),
    }  # fmt: skip
    return widgets.interactive(show, **controls)
