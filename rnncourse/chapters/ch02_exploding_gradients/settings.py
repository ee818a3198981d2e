"""Chapter 2's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch02` both pass to it (with the device and the first seed):

    cliff_step       step_at_the_wall                 (cliff.py; the same at both scales)
    divergence       run_clipping_sweep               (adding_sweeps.py: clipping and weight
                                                       decay, one ensemble)
    clipping         clipping_directions              (divergence.py; the same at both scales)
    normalization    run_normalization_comparison     (remedies.py)
    regularization   run_regularization_study         (regularization.py)
    initialization   run_initialization_comparison    (remedies.py)

Every comparison runs `num_seeds` seeds. The paper scale means larger networks, more data and
longer training (tens of minutes on a CPU): the sizes of Pascanu et al. (2013), Cooijmans et
al. (2017), Merity et al. (2018) and Arjovsky et al. (2016) are larger still; the text
describes the book's runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnncourse.chapters.scales import Scaled, arguments

__all__ = ["SETTINGS", "ExplodingGradientsSettings"]


@dataclass(frozen=True)
class ExplodingGradientsSettings:
    """Keyword arguments of chapter 2's experiments, at one scale."""

    cliff_step: Mapping[str, Any]
    divergence: Mapping[str, Any]
    clipping: Mapping[str, Any]
    normalization: Mapping[str, Any]
    regularization: Mapping[str, Any]
    initialization: Mapping[str, Any]


CLIFF_STEP = arguments(weight=5.0, lr=0.3, clip_norm=1.0, clipped_steps=200)
CLIPPING = arguments(clip_norm=1.0, clip_values=(1.0, 0.1))

SETTINGS = Scaled(
    cpu=ExplodingGradientsSettings(
        cliff_step=CLIFF_STEP,
        divergence=arguments(lr=0.2, clip_norm=1.0, clip_values=(1.0, 0.1),
                             decays=(0.0, 1e-3, 1e-2), initial_spectral_radius=1.2, steps=600,
                             hidden_size=32, num_seeds=3),
        clipping=CLIPPING,
        normalization=arguments(orders=("pixels", "permuted"), hidden_size=32, steps=70,
                                batch_size=32, lr=1e-2, pixels_per_step=2, num_seeds=3),
        regularization=arguments(corpus="kjv", train_characters=1500, valid_characters=2000,
                                 hidden_size=32, batch_size=32, seq_len=16, steps=200, lr=3e-2,
                                 eval_every=25, num_seeds=3),
        initialization=arguments(seq_len=30, hidden_size=32, steps=300, num_seeds=3),
    ),
    paper=ExplodingGradientsSettings(
        cliff_step=CLIFF_STEP,
        divergence=arguments(lr=0.2, clip_norm=1.0, clip_values=(1.0, 0.1),
                             decays=(0.0, 1e-3, 1e-2), initial_spectral_radius=1.2, steps=5000,
                             hidden_size=128, num_seeds=5),
        clipping=CLIPPING,
        normalization=arguments(orders=("pixels", "permuted"), hidden_size=100, steps=5000,
                                batch_size=64, lr=1e-3, pixels_per_step=1, num_seeds=5),
        regularization=arguments(corpus="kjv", train_characters=100_000,
                                 valid_characters=20_000, embedding_dim=64, hidden_size=256,
                                 batch_size=64, seq_len=64, steps=5000, lr=3e-3, eval_every=250,
                                 num_seeds=3),
        initialization=arguments(seq_len=100, hidden_size=128, steps=10000, num_seeds=5),
    ),
)
