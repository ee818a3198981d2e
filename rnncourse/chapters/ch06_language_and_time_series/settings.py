"""Chapter 6's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch06` both pass to it:

    corpus           prepare_corpus          (rnncourse.training.language)
    ngram_baselines  ngram_baselines         (rnncourse.training.language)
    language_model   train_language_model    (rnncourse.training.language)
    co2, sunspots    run_forecasting_study   (rnncourse.training.forecasting)

The paper scale trains the language model as the shipped checkpoints were trained (6,000
steps, validated on the whole validation part, early stopping): minutes, not seconds.
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
    language_model: Mapping[str, Any]
    co2: Mapping[str, Any]
    sunspots: Mapping[str, Any]


CORPUS = arguments(corpus="pride_and_prejudice")
NGRAM_BASELINES = arguments(orders=(1, 2))
LANGUAGE_MODEL = dict(cell="lstm", hidden_size=128, batch_size=32, seq_len=64, lr=3e-3,
                      clip_norm=1.0, max_steps=300, eval_every=50, eval_characters=10_000)
CO2 = arguments(series="co2", cell="gru", hidden_size=64, max_steps=600, eval_every=25,
                patience=8)
SUNSPOTS = arguments(series="sunspots", cell="gru")

SETTINGS = Scaled(
    cpu=LanguageAndTimeSeriesSettings(
        corpus=CORPUS,
        ngram_baselines=NGRAM_BASELINES,
        language_model=arguments(**LANGUAGE_MODEL),
        co2=CO2,
        sunspots=SUNSPOTS,
    ),
    paper=LanguageAndTimeSeriesSettings(
        corpus=CORPUS,
        ngram_baselines=NGRAM_BASELINES,
        language_model=arguments(**{**LANGUAGE_MODEL, "max_steps": 6000, "eval_every": 250,
                                    "eval_characters": None, "patience": 4}),
        co2=CO2,
        sunspots=SUNSPOTS,
    ),
)
