"""A trained character language model in one file: weights (float32, or float16 to ship small),
vocabulary, sizes, training settings and metrics; it loads on any device."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnncourse.data.vocabulary import CharVocabulary
from rnncourse.models.char_lm import CharLanguageModel
from rnncourse.runtime import resolve_device
from rnncourse.training.language.train import LanguageModelSettings

__all__ = [
    "LoadedLanguageModel",
    "load_language_model",
    "round_weights_to_half",
    "save_language_model",
]


@dataclass
class LoadedLanguageModel:
    model: CharLanguageModel
    vocabulary: CharVocabulary
    settings: LanguageModelSettings
    metrics: dict[str, Any]


@torch.no_grad()
def round_weights_to_half(model: CharLanguageModel) -> CharLanguageModel:
    """Round every floating-point weight to float16 and back, in place: the model exactly as
    `save_language_model(..., half=True)` stores it, so that scores measured now are the file's."""
    for value in model.state_dict().values():
        if value.is_floating_point():
            value.copy_(value.half().float())
    return model


def save_language_model(
    path: str | os.PathLike,
    model: CharLanguageModel,
    vocabulary: CharVocabulary,
    settings: LanguageModelSettings | None = None,
    metrics: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Weights, vocabulary, sizes, settings and metrics in one file.

    `half=True` stores the weights as float16 (half the bytes; they are read back as float32),
    which is how the book's checkpoints stay small.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = {name: (value.detach().cpu().half() if half and value.is_floating_point()
                      else value.detach().cpu())
               for name, value in model.state_dict().items()}
    torch.save({
        "format": "rnncourse-char-lm/1",
        "config": model.config.to_dict(),
        "vocabulary": vocabulary.state_dict(),
        "settings": (settings or LanguageModelSettings()).to_dict(),
        "metrics": _plain(metrics or {}),
        "model": weights,
    }, path)
    return path


def load_language_model(
    path: str | os.PathLike, device: str | torch.device | None = None
) -> LoadedLanguageModel:
    """A checkpoint of `save_language_model`, read onto the CPU first (`map_location`), so one
    saved on a GPU loads anywhere, then moved to `device` (CUDA when present by default)."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if checkpoint.get("format") != "rnncourse-char-lm/1":
        raise ValueError(f"{path} is not a checkpoint written by save_language_model")
    model = CharLanguageModel.from_config(checkpoint["config"], device="cpu")
    model.load_state_dict({name: value.float() if value.is_floating_point() else value
                           for name, value in checkpoint["model"].items()})
    model.to(resolve_device(device))
    return LoadedLanguageModel(
        model, CharVocabulary.from_state_dict(checkpoint["vocabulary"]),
        LanguageModelSettings.from_dict(checkpoint["settings"]), checkpoint["metrics"],
    )


def _plain(value: Any) -> Any:
    """Numbers, strings, lists and dicts only (what `torch.load(weights_only=True)` accepts)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (np.generic, Tensor)):
        return value.item()
    return str(value)
