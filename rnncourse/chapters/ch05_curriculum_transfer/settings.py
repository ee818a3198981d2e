"""Chapter 5's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch05` both pass to it:

    length_curriculum   run_length_curriculum       (length_curriculum.py)
    strategies          run_curriculum_strategies   (strategies.py)
    text_transfer       run_text_transfer           (text_transfer.py), from `checkpoint`
    series_transfer     run_series_transfer         (series_transfer.py)

`checkpoint` names the pretrained language model in book/checkpoints/, made once by
`rnncourse pretrain language`. The paper scale means longer runs, larger models and more seeds
(an hour or more on a CPU); Zaremba and Sutskever (2014) trained far larger LSTMs for longer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnncourse.chapters.scales import Scaled, arguments

__all__ = ["SETTINGS", "CurriculumTransferSettings"]


@dataclass(frozen=True)
class CurriculumTransferSettings:
    """Keyword arguments of chapter 5's experiments, at one scale."""

    length_curriculum: Mapping[str, Any]
    strategies: Mapping[str, Any]
    checkpoint: str
    text_transfer: Mapping[str, Any]
    series_transfer: Mapping[str, Any]


CHECKPOINT = "ch05-char-lm-kjv.pt"

SETTINGS = Scaled(
    cpu=CurriculumTransferSettings(
        length_curriculum=arguments(target_length=100),
        strategies=arguments(),
        checkpoint=CHECKPOINT,
        text_transfer=arguments(),
        series_transfer=arguments(series="sunspots"),
    ),
    paper=CurriculumTransferSettings(
        length_curriculum=arguments(target_length=100, steps=3000, hidden_size=128,
                                    seeds=(0, 1, 2, 3, 4)),
        strategies=arguments(max_digits=5, steps=5000, hidden_size=256, seeds=(0, 1, 2)),
        checkpoint=CHECKPOINT,
        text_transfer=arguments(steps=1500, eval_every=100),
        series_transfer=arguments(series="sunspots", pretrain_steps=5000, steps=1000,
                                  seeds=(0, 1, 2, 3, 4)),
    ),
)
