"""A character language model pretrained on one corpus, to be fine-tuned on another.

The model reads a fixed alphabet (`ascii_vocabulary`: newline, the printable ASCII characters
and an "unknown" symbol), so a model trained on one English text can read any other.
`rnncourse pretrain language` runs `pretrain_language_model` and `save_pretrained`; chapter 5
ships the result and reloads it with `verify_checkpoint`, which recomputes the bits per
character the command recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rnncourse.data.vocabulary import CharVocabulary
from rnncourse.training.language.checkpoints import (
    load_language_model,
    round_weights_to_half,
    save_language_model,
)
from rnncourse.training.language.corpus import prepare_corpus
from rnncourse.training.language.metrics import evaluate_bits_per_character
from rnncourse.training.language.train import LanguageModelSettings, train_language_model

__all__ = ["ascii_vocabulary", "pretrain_language_model", "save_pretrained", "verify_checkpoint"]


def ascii_vocabulary() -> CharVocabulary:
    """Newline, the 95 printable ASCII characters and the unknown symbol: 97 ids, fixed in
    advance, so a model pretrained on one corpus can read (and be fine-tuned on) another."""
    return CharVocabulary(["\n"] + [chr(code) for code in range(32, 127)], unknown="\ufffd")


def pretrain_language_model(
    corpus: str = "kjv",
    *,
    verify_characters: int = 50_000,
    device: str | torch.device | None = None,
    progress: bool | None = False,
    **settings: Any,
) -> tuple[Any, dict[str, Any]]:
    """Train a character LM on `corpus` with the ASCII vocabulary (`train_language_model`:
    truncated BPTT, clipping, learning rate halved on plateaus, early stopping).

    Returns the run and its metrics, among them `verify_bpc`: the bpc, with the weights rounded
    to float16 as the checkpoint stores them, on the first `verify_characters` characters of
    the corpus's test part, which a reader recomputes from the checkpoint in a second.
    """
    splits = prepare_corpus(corpus, vocabulary=ascii_vocabulary())
    run = train_language_model(LanguageModelSettings(corpus=corpus, **settings), splits=splits,
                               device=device, progress=progress)
    round_weights_to_half(run.model)  # as stored: float16, read back as float32
    metrics = {key: value for key, value in run.metrics().items() if key != "train_bpc"}
    metrics["test_bpc"] = evaluate_bits_per_character(run.model, splits.test)
    metrics["verify_characters"] = verify_characters
    metrics["verify_bpc"] = evaluate_bits_per_character(run.model,
                                                        splits.test[:verify_characters])
    return run, metrics


def save_pretrained(path: str | Path, run: Any, metrics: dict[str, Any]) -> Path:
    """The pretrained model as a float16 checkpoint (`save_language_model`) with its metrics."""
    return save_language_model(path, run.model, run.vocabulary, run.settings, metrics, half=True)


def verify_checkpoint(path: str | Path, device: str | torch.device | None = None
                      ) -> dict[str, Any]:
    """Reload a pretrained checkpoint and recompute its `verify_bpc` on its corpus's test part.

    Returns the loaded model and vocabulary, the bpc stored by the command that wrote the file,
    the one measured now, and the command's settings.
    """
    loaded = load_language_model(path, device=device)
    corpus = loaded.settings.corpus
    characters = int(loaded.metrics["verify_characters"])
    splits = prepare_corpus(corpus, vocabulary=loaded.vocabulary)
    measured = evaluate_bits_per_character(loaded.model, splits.test[:characters])
    return {"model": loaded.model, "vocabulary": loaded.vocabulary, "corpus": corpus,
            "stored_bpc": float(loaded.metrics["verify_bpc"]), "measured_bpc": measured,
            "characters": characters, "settings": loaded.settings, "metrics": loaded.metrics}
