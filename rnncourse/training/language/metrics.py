"""How a character-level language model is scored, and the baselines it must beat.

The score is the average number of bits per character of held-out text,

    bpc = -(1/N) Σ_t log2 p(x_{t+1} | x_{≤t}) = cross-entropy in nats / ln 2,

which is what an ideal arithmetic coder driven by the model would spend. n-gram count models
with add-k smoothing are the baselines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnncourse.data.text import BPTTBatches
from rnncourse.models.char_lm import CharLanguageModel
from rnncourse.runtime import resolve_device
from rnncourse.training.language.corpus import CorpusSplits

__all__ = [
    "LN2",
    "bits_per_character",
    "evaluate_bits_per_character",
    "ngram_baselines",
    "ngram_bits_per_character",
]

LN2 = math.log(2.0)


def bits_per_character(logits: Tensor, targets: Tensor) -> float:
    """Mean -log2 p(target) under softmax(logits): cross-entropy in nats divided by ln 2.

    logits (..., V), targets (...) of ids.
    """
    if logits.shape[:-1] != targets.shape:
        raise ValueError(
            f"logits {tuple(logits.shape)} must be targets' shape {tuple(targets.shape)} plus V"
        )
    nats = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))
    return float(nats) / LN2


def ngram_bits_per_character(
    train: Tensor, test: Tensor, order: int, vocab_size: int, smoothing: float = 1.0
) -> float:
    """Test bpc of an n-gram model counted on `train`, with add-k (Laplace for k=1) smoothing:

        p(c | context) = (count(context, c) + k) / (count(context) + k·V),

    the context being the previous `order - 1` characters (none for a unigram model). The first
    `order - 1` test characters are predicted from the end of the training text.
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a positive int, got {order!r}")
    if not smoothing > 0:
        raise ValueError(f"smoothing must be positive, got {smoothing!r}")
    train_ids = np.asarray(train.cpu(), dtype=np.int64)
    test_ids = np.asarray(torch.cat([train[len(train) - order + 1:], test]).cpu()
                          if order > 1 else test.cpu(), dtype=np.int64)

    def context_codes(ids: np.ndarray) -> np.ndarray:
        # Context of position t: ids[t-order+1 .. t-1] as one base-V number.
        code = np.zeros(len(ids) - order + 1, dtype=np.int64)
        for lag in range(order - 1):
            code = code * vocab_size + ids[lag:len(ids) - order + 1 + lag]
        return code

    train_context, test_context = context_codes(train_ids), context_codes(test_ids)
    train_next, test_next = train_ids[order - 1:], test_ids[order - 1:]
    # Counts of (context, next) pairs and of contexts, looked up for the test pairs.
    pair_keys = np.unique(train_context * vocab_size + train_next, return_counts=True)
    context_keys = np.unique(train_context, return_counts=True)

    def lookup(keys: tuple[np.ndarray, np.ndarray], query: np.ndarray) -> np.ndarray:
        values, counts = keys
        position = np.clip(np.searchsorted(values, query), 0, len(values) - 1)
        return np.where(values[position] == query, counts[position], 0)

    pair_count = lookup(pair_keys, test_context * vocab_size + test_next)
    context_count = lookup(context_keys, test_context)
    probability = (pair_count + smoothing) / (context_count + smoothing * vocab_size)
    return float(-np.log2(probability).mean())


@torch.no_grad()
def evaluate_bits_per_character(
    model: CharLanguageModel,
    stream: Tensor,
    batch_size: int = 16,
    seq_len: int = 256,
    device: str | torch.device | None = None,
) -> float:
    """bpc of `model` on a whole stream, read as `batch_size` rows with the state carried.

    Every target of the stream but the last `(N - 1) % batch_size` is scored once; each row
    starts from a zero state, so a few characters at each row's start are predicted blind.
    """
    device = resolve_device(device) if device is not None else model.device
    was_training = model.training
    model.eval()
    total_nats, count, state = 0.0, 0, None
    for inputs, targets in BPTTBatches(stream, batch_size, seq_len, device=device):
        logits, state = model(inputs, state)
        total_nats += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                            targets.reshape(-1), reduction="sum"))
        count += targets.numel()
    model.train(was_training)
    return total_nats / count / LN2


def ngram_baselines(
    splits: CorpusSplits, orders: Sequence[int] = (1, 2),
    smoothings: Sequence[float] = (1.0, 0.3, 0.1, 0.03, 0.01),
) -> list[dict[str, Any]]:
    """Test bpc of n-gram models, each with the add-k smoothing that is best on validation.

    "parameters" is the size of the count table, V^n (what the model has to store).
    """
    names = {1: "unigram", 2: "bigram", 3: "trigram"}
    rows = []
    vocabulary_size = splits.vocabulary.size
    for order in orders:
        best = min(smoothings, key=lambda k: ngram_bits_per_character(
            splits.train, splits.valid, order, vocabulary_size, k))
        rows.append({
            "model": names.get(order, f"{order}-gram") + " counts",
            "parameters": vocabulary_size ** order,
            "valid_bpc": ngram_bits_per_character(splits.train, splits.valid, order,
                                                  vocabulary_size, best),
            "test_bpc": ngram_bits_per_character(splits.train, splits.test, order,
                                                 vocabulary_size, best),
            "smoothing": best,
        })
    return rows
