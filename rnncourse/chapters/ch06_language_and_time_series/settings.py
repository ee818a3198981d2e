"""Chapter 6's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch06` both pass to it:

    corpus           prepare_corpus          (rnncourse.training.language)
    ngram_baselines  ngram_baselines         (rnncourse.training.language)
    cell_comparison  compare_cells           (cell_comparison.py)
    attention        run_attention_study     (translation.py)
    co2, sunspots    run_forecasting_study   (rnncourse.training.forecasting)

The paper scale trains the cell comparison as the shipped checkpoints were trained (three
seeds of 6,000 steps per cell, validated on the whole validation part, early stopping: an hour
or more on a CPU) and a larger encoder-decoder on longer words.
`rnncourse train language` and `rnncourse train forecast` train larger models still.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnncourse.chapters.scales import Scaled, arguments

__all__ = ["SETTINGS", "LanguageAndTimeSeriesSettings"]


@dataclass(frozen=True)
class LanguageAndTimeSeriesSettings:
    """Keyword arguments of chapter 6's experiments, at one scale."""

    corpus: Mapping[str, Any]
    ngram_baselines: Mapping[str, Any]
    cell_comparison: Mapping[str, Any]
    attention: Mapping[str, Any]
    co2: Mapping[str, Any]
    sunspots: Mapping[str, Any]


CORPUS = arguments(corpus="pride_and_prejudice")
NGRAM_BASELINES = arguments(orders=(1, 2))
# Hidden sizes that give the three cells about the same number of parameters (with the
# 32-wide embedding and the read-out): about 32,500 at cpu scale, 95,000 at paper scale.
CELL_COMPARISON = dict(hidden_sizes={"rnn_tanh": 128, "gru": 74, "lstm": 64}, seeds=3,
                       batch_size=32, seq_len=32, lr=1e-2, clip_norm=1.0, max_steps=150,
                       eval_every=25, eval_characters=4_000, patience=None)
# The shipped checkpoints' settings (`rnncourse train language ... --steps 6000`).
LONG_RUNS = dict(hidden_sizes={"rnn_tanh": 256, "gru": 150, "lstm": 128}, seeds=3,
                 batch_size=32, seq_len=64, lr=3e-3, clip_norm=1.0, max_steps=6000,
                 eval_every=250, eval_characters=None, patience=4)
ATTENTION = dict(alphabet_size=12, embedding_dim=32, hidden_size=48, min_length=2,
                 max_length=12, test_words=200, steps=150, batch_size=32, lr=1e-2,
                 clip_norm=1.0, seeds=3)
CO2 = arguments(series="co2", cell="gru", hidden_size=64, max_steps=600, eval_every=25,
                patience=8)
SUNSPOTS = arguments(series="sunspots", cell="gru")

SETTINGS = Scaled(
    cpu=LanguageAndTimeSeriesSettings(
        corpus=CORPUS,
        ngram_baselines=NGRAM_BASELINES,
        cell_comparison=arguments(**CELL_COMPARISON),
        attention=arguments(**ATTENTION),
        co2=CO2,
        sunspots=SUNSPOTS,
    ),
    paper=LanguageAndTimeSeriesSettings(
        corpus=CORPUS,
        ngram_baselines=NGRAM_BASELINES,
        cell_comparison=arguments(**LONG_RUNS),
        attention=arguments(**{**ATTENTION, "hidden_size": 128, "max_length": 30,
                               "steps": 3000, "batch_size": 64, "lr": 3e-3}),
        co2=CO2,
        sunspots=SUNSPOTS,
    ),
)
