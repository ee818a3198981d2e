"""A corpus for a character language model: its ids cut into train, validation and test parts,
and the two ways of drawing training batches from the training part.

    prepare_corpus          one vocabulary, three contiguous parts (the test part is the end)
    carried_chunks          truncated BPTT: contiguous chunks, pass after pass
    random_window_batches   windows from random places (a text too short for truncated BPTT)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from rnncourse.data.text import BPTTBatches, load_text, split_text
from rnncourse.data.vocabulary import CharVocabulary
from rnncourse.models.char_lm import CarriedState
from rnncourse.runtime import resolve_device, seeded_generator

__all__ = ["CorpusSplits", "carried_chunks", "prepare_corpus", "random_window_batches"]


@dataclass
class CorpusSplits:
    """A corpus as ids: its vocabulary and three contiguous parts."""

    name: str
    vocabulary: CharVocabulary
    train: Tensor
    valid: Tensor
    test: Tensor


def prepare_corpus(
    corpus: str = "pride_and_prejudice",
    fractions: tuple[float, float, float] = (0.9, 0.05, 0.05),
    max_characters: int | None = None,
    vocabulary: CharVocabulary | None = None,
) -> CorpusSplits:
    """Encode corpus `corpus` and cut it into train, validation and test parts (in that order).

    The vocabulary is built from the whole text unless one is given (a model that is to be
    fine-tuned keeps its own); the test part is the end of the book, never seen in training.
    """
    text = load_text(corpus, max_characters)
    vocabulary = vocabulary if vocabulary is not None else CharVocabulary.from_text(text)
    train, valid, test = split_text(vocabulary.encode(text), fractions)
    return CorpusSplits(corpus, vocabulary, train, valid, test)


def random_window_batches(
    stream: Tensor,
    batch_size: int,
    seq_len: int,
    *,
    seed: int | None = None,
    device: str | torch.device | None = None,
) -> Callable[[int], tuple[Tensor, Tensor]]:
    """`step -> (inputs, targets)`: `batch_size` windows of `seq_len` + 1 consecutive ids from
    random places in `stream`; targets are the inputs shifted by one character.

    Unlike truncated BPTT over contiguous rows, this works however short the stream is (a
    few thousand characters), and every step sees fresh places in it.
    """
    if not isinstance(stream, Tensor) or stream.dim() != 1:
        raise ValueError("stream must be a 1-D tensor of ids")
    if len(stream) < seq_len + 2:
        raise ValueError(f"stream has {len(stream)} ids, fewer than seq_len + 2 = {seq_len + 2}")
    device = resolve_device(device)
    generator = seeded_generator(seed, torch.device("cpu"))
    offsets = torch.arange(seq_len + 1)

    def next_batch(step: int) -> tuple[Tensor, Tensor]:
        starts = torch.randint(len(stream) - seq_len, (batch_size, 1), generator=generator)
        rows = stream[starts + offsets]  # (B, T + 1)
        return rows[:, :-1].to(device), rows[:, 1:].to(device)

    return next_batch


def carried_chunks(
    stepper: CarriedState, stream: Tensor, batch_size: int, seq_len: int, *, seed: int,
    device: torch.device,
) -> Callable[[int], tuple[Tensor, Tensor]]:
    """`step -> (inputs, targets)`: the chunks of `BPTTBatches` in order, pass after pass. Each
    pass starts at a random offset below `seq_len` (new chunk boundaries every time) and resets
    the stepper's carried state, since its rows jump back to their beginnings."""
    offsets = seeded_generator(seed, torch.device("cpu"))
    chunks = iter(())

    def next_chunk(step: int) -> tuple[Tensor, Tensor]:
        nonlocal chunks
        chunk = next(chunks, None)
        if chunk is None:  # a new pass: new chunk boundaries, rows start again from zero state
            offset = int(torch.randint(seq_len, (1,), generator=offsets))
            chunks = iter(BPTTBatches(stream, batch_size, seq_len, offset=offset, device=device))
            stepper.reset()
            chunk = next(chunks)
        return chunk

    return next_chunk

