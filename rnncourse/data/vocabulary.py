"""`CharVocabulary`: characters <-> ids for a character-level language model.

    text --CharVocabulary.encode--> ids (N,) --CharVocabulary.decode--> text

A vocabulary built from one text (`from_text`) holds the characters seen there; one built from a
fixed alphabet with an "unknown" symbol can read any text (chapter 5 pretrains on one book and
fine-tunes on another). `state_dict()` stores it in a checkpoint beside the weights.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["CharVocabulary"]


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
