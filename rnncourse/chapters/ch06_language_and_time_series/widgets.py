"""Widgets for chapter 6: the temperature of a character language model's sampler."""

from __future__ import annotations

import textwrap

import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch

from rnncourse.chapters.ch06_language_and_time_series.figures import plot_next_character
from rnncourse.training.language.sampling import sample

__all__ = ["temperature_widget"]


def temperature_widget(model, vocabulary, prime: str = "Elizabeth was ",
                       length: int = 240, temperature: float = 0.7, seed: int = 0):
    """A slider for the temperature τ: the next-character distribution softmax(z / τ) after
    `prime`, and a sample of `length` characters drawn at that temperature (same seed)."""
    with torch.no_grad():
        model.eval()
        logits, _ = model(vocabulary.encode(prime).to(model.device)[None, :])
        last_logits = logits[0, -1].float().cpu()

    def show(temperature: float = temperature) -> None:
        if temperature > 0:
            probabilities = torch.softmax(last_logits / temperature, dim=-1)
        else:  # τ → 0: all mass on the most likely character
            probabilities = torch.nn.functional.one_hot(last_logits.argmax(), len(last_logits))
        figure = plot_next_character(probabilities.float(), vocabulary, prime)
        plt.show(figure)
        text = sample(model, vocabulary, prime, length, temperature, seed=seed)
        print(f"τ = {temperature:.2f}:\n" + textwrap.fill((prime + text).replace("\n", " "), 76))

    slider = widgets.FloatSlider(value=temperature, min=0.0, max=2.0, step=0.1,
                                 description="temperature τ", continuous_update=False,
                                 style={"description_width": "initial"})
    return widgets.interactive(show, temperature=slider)
