"""Real text that ships with the package, contiguous splits and truncated-BPTT batches.

Three public-domain books of clearly different kinds, gzip-compressed under `data/files/`, each
taken once from a Debian package (the Debian copyright file is quoted in `CORPORA`):

| name                  | what                                              | characters |
|-----------------------|---------------------------------------------------|-----------:|
| `kjv`                 | the King James Bible (1611), verse per line        | 4.2 M      |
| `pride_and_prejudice` | Jane Austen, *Pride and Prejudice* (1813), a novel | 0.68 M     |
| `devils_dictionary`   | Ambrose Bierce, *The Devil's Dictionary* (1911)    | 0.38 M     |

A character-level language model reads a corpus as one long stream of ids,

    text --CharVocabulary.encode--> ids (N,) --split_text--> train | valid | test (contiguous)
    train --BPTTBatches(B, T)--> (inputs, targets) chunks of shape (B, T), targets[t] = ids[t + 1]

where the stream is cut into B parallel rows, and chunk k+1 of row b continues chunk k of row b,
so the recurrent state at the end of one chunk is the right initial state for the next
(truncated backpropagation through time: the state is carried, its gradient is not).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import torch
from torch import Tensor

from rnncourse.runtime import resolve_device

__all__ = [
    "CORPORA",
    "BPTTBatches",
    "CorpusInfo",
    "available_corpora",
    "corpus_info",
    "load_text",
    "split_text",
]


@dataclass(frozen=True)
class CorpusInfo:
    """Where a corpus comes from and what it may be used for."""

    name: str
    title: str
    author: str
    year: str
    domain: str
    file: str
    characters: int
    source: str
    licence: str

    @property
    def size(self) -> int:
        """Length of the text in characters (what `len(load_text(name))` gives)."""
        return self.characters


_DEBIAN = "Debian 12 (bookworm) package"
CORPORA: dict[str, CorpusInfo] = {
    info.name: info
    for info in (
        CorpusInfo(
            name="kjv",
            title="The Holy Bible, King James Version",
            author="translated under James I",
            year="1611",
            domain="scripture: early-modern English, one verse per line under chapter headings",
            file="kjv.txt.gz",
            characters=4_236_033,
            source=(
                f"{_DEBIAN} bible-kjv-text 4.38 (the Bible Retrieval System text by Chip Chapin), "
                "all 31,102 verses printed with its `bible` reader, leading spaces removed"
            ),
            licence=(
                "public domain: the Debian copyright file states that the copyright of the "
                "King James Version text has expired (in the United Kingdom the Crown still "
                "claims rights of printing by letters patent)"
            ),
        ),
        CorpusInfo(
            name="pride_and_prejudice",
            title="Pride and Prejudice",
            author="Jane Austen",
            year="1813",
            domain="narrative fiction: a nineteenth-century novel with much dialogue",
            file="pride_and_prejudice.txt.gz",
            characters=684_707,
            source=(
                f"{_DEBIAN} r-cran-janeaustenr 1.0.0 (the R package janeaustenr by Julia Silge, "
                "text from Project Gutenberg), the `prideprejudice` lines joined with newlines"
            ),
            licence=(
                "public domain (published 1813); the janeaustenr packaging is MIT-licensed, "
                "the novel's text carries no copyright"
            ),
        ),
        CorpusInfo(
            name="devils_dictionary",
            title="The Devil's Dictionary",
            author="Ambrose Bierce",
            year="1911",
            domain="satirical dictionary: headwords in capitals, definitions, verse quotations",
            file="devils_dictionary.txt.gz",
            characters=383_056,
            source=(
                f"{_DEBIAN} dict-devil 1.0 (the Internet Wiretap online edition of 1993), "
                "the dictd database decompressed, its dictfmt header and trailer removed"
            ),
            licence=(
                "public domain: 'Copyright 1911 by Albert and Charles Boni, Inc. A Public "
                "Domain Text, Copyright Expired' (edition notice, kept in the text)"
            ),
        ),
    )
}


def available_corpora() -> list[str]:
    """Names of the corpora that ship with the package, in alphabetical order."""
    return sorted(CORPORA)


def corpus_info(name: str) -> CorpusInfo:
    """Title, author, domain, size (characters), source and licence of corpus `name`."""
    if name not in CORPORA:
        raise ValueError(f"name must be one of {', '.join(available_corpora())}; got {name!r}")
    return CORPORA[name]


@lru_cache(maxsize=8)
def _read_corpus(name: str) -> str:
    info = corpus_info(name)
    packed = resources.files("rnncourse.data").joinpath("files").joinpath(info.file).read_bytes()
    return gzip.decompress(packed).decode("utf-8")


def load_text(name: str, max_characters: int | None = None) -> str:
    """The whole text of corpus `name` (see `available_corpora()`), or its first characters.

    Read from the package (no download) and cached, so a second call costs nothing.
    """
    text = _read_corpus(name)
    if max_characters is None:
        return text
    if isinstance(max_characters, bool) or not isinstance(max_characters, int):
        raise TypeError(f"max_characters must be an int or None, got {max_characters!r}")
    if max_characters < 1:
        raise ValueError(f"max_characters must be positive, got {max_characters}")
    return text[:max_characters]


# ----------------------------------------------------------------------------------------------
# Splits and batches


def split_text(
    encoded: Tensor | str, fractions: Sequence[float] = (0.9, 0.05, 0.05)
) -> tuple[Tensor | str, ...]:
    """Cut a stream into contiguous parts of the given fractions (train, valid, test by default).

    Contiguous, not shuffled: shuffled characters or lines would put the same passages in
    training and test, and a language model would be tested on text it has read. The fractions
    must be positive and sum to 1; the last part takes what rounding leaves.
    """
    if not isinstance(encoded, (Tensor, str)):
        raise TypeError(f"encoded must be a 1-D tensor or a str, got {type(encoded).__name__}")
    if isinstance(encoded, Tensor) and encoded.dim() != 1:
        raise ValueError(f"encoded must be 1-D, got shape {tuple(encoded.shape)}")
    fractions = [float(f) for f in fractions]
    if not fractions or any(not f > 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be positive and sum to 1, got {fractions}")
    total = len(encoded)
    bounds = [0]
    for fraction in fractions[:-1]:
        bounds.append(bounds[-1] + int(round(fraction * total)))
    bounds.append(total)
    parts = tuple(encoded[start:end] for start, end in zip(bounds[:-1], bounds[1:], strict=True))
    if any(len(part) < 2 for part in parts):
        raise ValueError(f"a stream of {total} items is too short for fractions {fractions}")
    return parts


class BPTTBatches:
    """Chunks (inputs, targets) of shape (B, T) over one long stream, for truncated BPTT.

    The stream of N ids is cut into `batch_size` rows of L = (N - 1 - offset) // B ids each
    (row b holds ids[offset + b·L : offset + (b+1)·L + 1], the extra one for the last target), and
    chunk k is

        inputs  = rows[:, k·T     : (k+1)·T]
        targets = rows[:, k·T + 1 : (k+1)·T + 1]      (the next character of each input)

    Row b of chunk k+1 continues row b of chunk k, so a model's final state on one chunk is the
    initial state for the next (detached, so the gradient stops at the chunk boundary). The last
    chunk may be shorter than T. `offset` shifts every chunk boundary (vary it between epochs so
    that the model does not always see the same cuts). Iterating again starts from the top.
    """

    def __init__(
        self,
        stream: Tensor,
        batch_size: int,
        seq_len: int,
        offset: int = 0,
        device: str | torch.device | None = "cpu",
    ) -> None:
        if not isinstance(stream, Tensor) or stream.dim() != 1:
            raise ValueError("stream must be a 1-D tensor of ids (from CharVocabulary.encode)")
        for name, value in (("batch_size", batch_size), ("seq_len", seq_len)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be a non-negative int, got {offset!r}")
        row_length = (len(stream) - 1 - offset) // batch_size
        if row_length < 1:
            raise ValueError(
                f"a stream of {len(stream)} ids is too short for batch_size={batch_size} "
                f"(and offset={offset}): each row needs at least 2 ids"
            )
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.row_length = row_length
        device = resolve_device(device)
        # Row b: ids[offset + b·L .. offset + (b+1)·L], overlapping its successor by one id.
        starts = offset + torch.arange(batch_size) * row_length
        positions = starts[:, None] + torch.arange(row_length + 1)[None, :]
        self.rows = stream[positions].to(device)  # (B, L + 1)

    def __len__(self) -> int:
        """Number of chunks: ceil(L / T)."""
        return -(-self.row_length // self.seq_len)

    @property
    def num_targets(self) -> int:
        """How many characters are predicted in one pass, B·L."""
        return self.batch_size * self.row_length

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for start in range(0, self.row_length, self.seq_len):
            end = min(start + self.seq_len, self.row_length)
            yield self.rows[:, start:end], self.rows[:, start + 1:end + 1]

    def __repr__(self) -> str:
        return (f"BPTTBatches(batch_size={self.batch_size}, seq_len={self.seq_len}, "
                f"chunks={len(self)})")
