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
    # The book's sizes: about 38 s of one CPU core for the four experiments together (the page
    # took 43 kernel CPU s with AVX2 kernels only, on a loaded 2-core machine).
    cpu=CurriculumTransferSettings(
        length_curriculum=arguments(target_length=50, steps=400, batch_size=32,
                                    mastery_mse=0.03, eval_size=128, seeds=(0, 1, 2)),
        strategies=arguments(max_digits=3, steps=250, hidden_size=32, batch_size=64, lr=2e-2,
                             eval_every=25, eval_size=256, seeds=(0, 1, 2)),
        checkpoint=CHECKPOINT,
        text_transfer=arguments(steps=50, batch_size=16, seq_len=32, eval_every=10,
                                train_sizes=(3_000, 300_000), valid_characters=2_000,
                                test_characters=5_000, seeds=(0, 1, 2)),
        series_transfer=arguments(series="sunspots", pretrain_steps=200, steps=100,
                                  batch_size=32, seeds=(0, 1, 2)),
    ),
    paper=CurriculumTransferSettings(
        length_curriculum=arguments(target_length=100, steps=3000, batch_size=64,
                                    mastery_mse=0.01, eval_size=256, hidden_size=128,
                                    seeds=(0, 1, 2, 3, 4)),
        strategies=arguments(max_digits=5, steps=5000, hidden_size=256, batch_size=128,
                             lr=1e-2, eval_every=50, eval_size=1000, seeds=(0, 1, 2)),
        checkpoint=CHECKPOINT,
        text_transfer=arguments(steps=1500, batch_size=32, seq_len=64, eval_every=100,
                                valid_characters=None, test_characters=None, seeds=(0, 1, 2)),
        series_transfer=arguments(series="sunspots", pretrain_steps=5000, steps=1000,
                                  batch_size=64, seeds=(0, 1, 2, 3, 4)),
    ),
)
