"""Real text that ships with the package, a character vocabulary, splits and truncated-BPTT batches.

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
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnncourse.runtime import resolve_device

__all__ = [
    "CORPORA",
    "BPTTBatches",
    "CharVocabulary",
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
# Vocabulary


class CharVocabulary:
    """A bijection between characters and ids 0 .. size-1, with an optional unknown character.

    Built from a text (`CharVocabulary.from_text`) it holds every character seen there (at least
    `min_count` times). Encoding a character it does not hold gives `unknown_id` when the
    vocabulary has an unknown symbol, and a ValueError naming the character otherwise; that is
    what fine-tuning on a second corpus meets, whose alphabet differs from the first one's.
    """

    def __init__(self, characters: Iterable[str], unknown: str | None = None) -> None:
        characters = list(characters)
        for character in characters:
            if not isinstance(character, str) or len(character) != 1:
                raise ValueError(f"characters must be single characters, got {character!r}")
        if unknown is not None:
            if not isinstance(unknown, str) or len(unknown) != 1:
                raise ValueError(f"unknown must be one character or None, got {unknown!r}")
            if unknown not in characters:
                characters.append(unknown)
        if len(set(characters)) != len(characters):
            raise ValueError("characters must not repeat")
        if not characters:
            raise ValueError("a vocabulary needs at least one character")
        self.characters: list[str] = characters  # id -> character
        self.index: dict[str, int] = {c: i for i, c in enumerate(characters)}  # character -> id
        self.unknown = unknown
        self.unknown_id: int | None = self.index[unknown] if unknown is not None else None
        code_points = np.array([ord(c) for c in characters], dtype=np.uint32)
        order = np.argsort(code_points)
        self._sorted_code_points = code_points[order]
        self._ids_of_sorted = order.astype(np.int64)

    @classmethod
    def from_text(
        cls, text: str, min_count: int = 1, unknown: str | None = "\ufffd"
    ) -> CharVocabulary:
        """Every character of `text` seen at least `min_count` times, in sorted order, plus
        `unknown` (U+FFFD, the replacement character, by default; None for no unknown symbol)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"min_count must be a positive int, got {min_count!r}")
        counts = Counter(text)
        kept = sorted(c for c, n in counts.items() if n >= min_count and c != unknown)
        return cls(kept, unknown=unknown)

    @property
    def size(self) -> int:
        """How many ids there are (the input and output size of a language model)."""
        return len(self.characters)

    def __len__(self) -> int:
        return self.size

    def __contains__(self, character: object) -> bool:
        return character in self.index

    def __repr__(self) -> str:
        return f"CharVocabulary(size={self.size}, unknown={self.unknown!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, CharVocabulary) and self.characters == other.characters
                and self.unknown == other.unknown)

    def __hash__(self) -> int:
        return hash((tuple(self.characters), self.unknown))

    def encode(self, text: str) -> Tensor:
        """The ids of the characters of `text`, a 1-D int64 tensor of length len(text)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        # Vectorised lookup: code points, then a binary search among the vocabulary's code points.
        code_points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        position = np.searchsorted(self._sorted_code_points, code_points)
        position = np.minimum(position, len(self._sorted_code_points) - 1)
        known = self._sorted_code_points[position] == code_points
        ids = self._ids_of_sorted[position]
        if not known.all():
            if self.unknown_id is None:
                missing = sorted({chr(c) for c in code_points[~known].tolist()})
                raise ValueError(
                    f"text holds characters that are not in the vocabulary: {missing[:10]!r}; "
                    "build the vocabulary with an unknown symbol to map them to it"
                )
            ids = np.where(known, ids, self.unknown_id)
        return torch.from_numpy(ids.astype(np.int64))

    def decode(self, ids: Tensor | Sequence[int]) -> str:
        """The text that ids (any shape, flattened in order) stand for."""
        values = [int(i) for i in (ids.reshape(-1).tolist() if isinstance(ids, Tensor) else ids)]
        out_of_range = [i for i in values if not 0 <= i < self.size]
        if out_of_range:
            raise ValueError(f"ids must lie in 0 .. {self.size - 1}, got {out_of_range[:5]}")
        return "".join(self.characters[i] for i in values)

    def state_dict(self) -> dict[str, Any]:
        """Plain data that rebuilds this vocabulary (`CharVocabulary.from_state_dict`), for
        checkpoints: a model's output layer means nothing without it."""
        return {"characters": "".join(self.characters), "unknown": self.unknown}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> CharVocabulary:
        return cls(list(state["characters"]), unknown=state["unknown"])


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
