"""Chapter 2's widget: choose the learning rate and the clipping threshold, and watch a small
RNN train on the adding problem, or diverge."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt

from rnncourse.chapters.ch02_exploding_gradients.divergence import TrainingRun, train_adding_rnn
from rnncourse.chapters.ch02_exploding_gradients.figures import plot_training_run

__all__ = ["CLIP_CHOICES", "clipping_explorer", "draw_training_run"]

# Thresholds for norm clipping offered by the widget; "none" trains without clipping.
CLIP_CHOICES = ("none", 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)


def draw_training_run(
    lr: float = 0.2,
    clip_norm: float | str | None = 1.0,
    steps: int = 1000,
    *,
    seed: int = 0,
    device: str | None = None,
) -> plt.Figure:
    """Train the adding-problem RNN of the divergence experiment (SGD, T = 20, 32 tanh units, W_hh
    orthogonal) with learning rate `lr` and norm clipping at `clip_norm` ("none" or None for no
    clipping), and plot its loss and gradient norms."""
    threshold = None if clip_norm in (None, "none") else float(clip_norm)
    run = train_adding_rnn(lr=float(lr), clip_norm=threshold, steps=int(steps), seed=seed,
                           device=device)
    return plot_training_run(run)


def clipping_explorer(
    lr: float = 0.2, clip_norm: float | str = 1.0, steps: int = 1000,
    first_run: TrainingRun | None = None,
) -> widgets.interactive:
    """A log slider for the learning rate and a choice of norm-clipping threshold.

    Each change trains the RNN again (a second or two on a CPU). The arguments set the first
    state, which is what the static website shows; `first_run`, a run already trained with
    exactly those settings (the divergence experiment's), is drawn for it instead of training
    the same network again.
    """
    if first_run is not None:
        threshold = None if clip_norm in (None, "none") else float(clip_norm)
        wanted = {"lr": float(lr), "clip_norm": threshold, "clip_value": None, "steps": steps,
                  "seq_len": 20, "hidden_size": 32, "spectral_radius": 1.0}
        if any(first_run.settings.get(key) != value for key, value in wanted.items()):
            raise ValueError(f"first_run was trained with other settings than {wanted}")

    def show(lr: float, clip_norm: float | str) -> plt.Figure:
        nonlocal first_run
        if first_run is not None:  # the first state: the run we were given
            figure, first_run = plot_training_run(first_run), None
        else:
            figure = draw_training_run(lr, clip_norm, steps)
        plt.show()  # into the widget's output area (interactive does not display the result)
        return figure

    controls = {
        "lr": widgets.FloatLogSlider(
            value=lr, base=10, min=-2, max=0.5, step=0.1, description="learning rate",
            readout_format=".3g", continuous_update=False),
        "clip_norm": widgets.Dropdown(
            options=list(CLIP_CHOICES), value=clip_norm, description="clip at ‖g‖ ="),
    }  # fmt: skip
    return widgets.interactive(show, **controls)
