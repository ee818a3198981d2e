"""A translation-like task for encoder-decoders: transliterating random words, Latin to Greek.

A source word is L letters drawn at random from the first K letters of the Latin alphabet; its
target is the same word written with the corresponding Greek letters, in the same order:

    x = (x_1, ..., x_L),  x_j ~ U{0, ..., K-1}        "cabbage"-like strings over a..
    y = (y_1, ..., y_L),  y_i = x_i                  written α β γ ...: a→α, b→β, c→γ, ...

The mapping is one symbol to one symbol, so nothing about it is hard except memory: to write
y_i the model must still know x_i, i steps after it started writing and L - i steps after it
finished reading. The encoder and the decoder have separate embedding tables, so the model
cannot copy ids; it has to learn the correspondence. A model that remembers nothing of the
source is right on 1/K of the symbols.

Random draws follow `rnncourse.runtime.draw_setup`: with `seed`, the same data on every device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from rnncourse.checks import check_int
from rnncourse.runtime import draw_setup

__all__ = ["GREEK", "LATIN", "TransliterationTask"]

LATIN = "abcdefghijklmnopqrstuvwx"
GREEK = "αβγδεζηθικλμνξοπρστυφχψω"


@dataclass(frozen=True)
class TransliterationTask:
    """Latin words of random letters to Greek ones, letter by letter (see the module docstring).

    `alphabet_size` K (2 to 24) letters on each side; target id K is the decoder's start
    symbol BOS (read, never written).
    """

    alphabet_size: int = 10

    def __post_init__(self) -> None:
        check_int("alphabet_size", self.alphabet_size, 2)
        if self.alphabet_size > len(GREEK):
            raise ValueError(f"alphabet_size must be at most {len(GREEK)}, got "
                             f"{self.alphabet_size}")

    @property
    def bos(self) -> int:
        """The id of the decoder's start symbol."""
        return self.alphabet_size

    @property
    def chance_accuracy(self) -> float:
        """1/K: the share of symbols a model that knows nothing of the source gets right."""
        return 1.0 / self.alphabet_size

    def sample(
        self,
        batch_size: int,
        length: int,
        *,
        generator: torch.Generator | None = None,
        seed: int | None = None,
        device: str | torch.device | None = None,
    ) -> tuple[tuple[Tensor, Tensor], Tensor]:
        """A batch of `batch_size` words of `length` letters, as `fit` takes it:
        ((source (B, L), decoder inputs (B, L)), target (B, L)), all int64.

        The decoder inputs are BOS followed by the target without its last letter (teacher
        forcing: at step i the decoder reads the true y_{i-1}).
        """
        check_int("batch_size", batch_size, 1)
        check_int("length", length, 1)
        generator, draw_device, device = draw_setup(seed, generator, device)
        source = torch.randint(self.alphabet_size, (batch_size, length), generator=generator,
                               device=draw_device).to(device)
        target = source.clone()  # y_i = x_i, written in the other alphabet
        return (source, self.decoder_inputs(target)), target

    def decoder_inputs(self, target: Tensor) -> Tensor:
        """BOS followed by target[:, :-1]: what the decoder reads under teacher forcing."""
        start = torch.full_like(target[:, :1], self.bos)
        return torch.cat([start, target[:, :-1]], dim=1)

    def source_text(self, ids: Tensor | Sequence[int]) -> str:
        """Source ids as Latin letters, e.g. [2, 0, 1] -> "cab"."""
        return "".join(LATIN[int(i)] for i in ids)

    def target_text(self, ids: Tensor | Sequence[int]) -> str:
        """Target ids as Greek letters, e.g. [2, 0, 1] -> "γαβ"."""
        return "".join(GREEK[int(i)] for i in ids)
