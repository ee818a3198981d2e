"""Chapter 2's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch02` both pass to it:

    cliff_step       step_at_the_wall                 (cliff.py; the same at both scales)
    divergence       run_divergence                   (divergence.py)
    clipping         clipping_directions              (divergence.py; the same at both scales)
    normalization    run_normalization_comparison     (remedies.py)
    weight_decay     run_weight_decay                 (remedies.py)
    initialization   run_initialization_comparison    (remedies.py)

The paper scale means larger networks and longer training (tens of minutes on a CPU): the
sizes of Pascanu et al. (2013), Cooijmans et al. (2017) and Arjovsky et al. (2016) are larger
still; the text describes the book's runs.
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
    weight_decay: Mapping[str, Any]
    initialization: Mapping[str, Any]


CLIFF_STEP = arguments(weight=5.0, lr=0.3, clip_norm=1.0, clipped_steps=60)
CLIPPING = arguments(clip_norm=1.0, clip_values=(1.0, 0.1))

SETTINGS = Scaled(
    cpu=ExplodingGradientsSettings(
        cliff_step=CLIFF_STEP,
        divergence=arguments(lr=0.2, clip_norm=1.0, clip_values=(1.0, 0.1), steps=1500,
                             hidden_size=32),
        clipping=CLIPPING,
        normalization=arguments(orders=("pixels", "permuted"), hidden_size=32, steps=300),
        weight_decay=arguments(decays=(0.0, 1e-3, 1e-2), initial_spectral_radius=1.2,
                               steps=1500),
        initialization=arguments(seq_len=50, hidden_size=32, steps=1000),
    ),
    paper=ExplodingGradientsSettings(
        cliff_step=CLIFF_STEP,
        divergence=arguments(lr=0.2, clip_norm=1.0, clip_values=(1.0, 0.1), steps=5000,
                             hidden_size=128),
        clipping=CLIPPING,
        normalization=arguments(orders=("pixels", "permuted"), hidden_size=100, steps=5000),
        weight_decay=arguments(decays=(0.0, 1e-3, 1e-2), initial_spectral_radius=1.2,
                               steps=5000),
        initialization=arguments(seq_len=100, hidden_size=128, steps=10000),
    ),
)
