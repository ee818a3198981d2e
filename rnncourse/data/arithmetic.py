"""Multi-digit addition as a character sequence, the task of Zaremba and Sutskever (2014).

An example with difficulty d adds two d-digit numbers. It is written as characters and read one
at a time by a recurrent network, which then predicts the answer character by character:

    a_1 .. a_d  +  b_1 .. b_d  =  s_1 .. s_{d+1}            (s = a + b, with d + 1 digits)

With `reverse_digits=True` (the default) every number is written least significant digit first,
so that the carry flows the way the network reads. Examples of every difficulty up to
`max_digits` share one tensor shape: a shorter problem is padded on the left with blanks, so its
answer always ends at the last position. This lets a batch mix difficulties, which is what the
"mix" and "combined" curricula need.

The model sees the problem and the answer so far (teacher forcing) and is scored on the answer
digits only: `targets` hold -100 (`IGNORE_INDEX`, skipped by `cross_entropy`) everywhere else.
Accuracy is per answer character under teacher forcing, as in Zaremba and Sutskever's tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnncourse.checks import check_int
from rnncourse.runtime import draw_setup

__all__ = [
    "ADDITION_SYMBOLS",
    "IGNORE_INDEX",
    "AdditionTask",
    "addition_problem",
    "decode_addition",
]

ADDITION_SYMBOLS = "0123456789+=_"  # ten digits, plus, equals, blank (padding)
PLUS, EQUALS, BLANK = 10, 11, 12
IGNORE_INDEX = -100  # torch's cross_entropy default ignore_index


def _digits(numbers: torch.Tensor, width: int) -> torch.Tensor:
    """(B,) non-negative ints -> (B, width) their digits, least significant first."""
    powers = 10 ** torch.arange(width, device=numbers.device)
    return numbers.unsqueeze(1) // powers % 10


def addition_problem(
    difficulties: torch.Tensor | int,
    max_digits: int,
    *,
    batch_size: int | None = None,
    reverse_digits: bool = True,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of addition problems; example i adds two numbers of `difficulties[i]` digits.

    `difficulties` is a (B,) int tensor with values in [1, max_digits], or one int for the whole
    batch (then `batch_size` is needed). Each number is drawn uniformly among the d-digit
    numbers (0..9 for d = 1). With D = `max_digits`, the token sequence has 3D + 3 characters:

        blank * 3(D - d) | a (d digits) | + | b (d digits) | = | a + b (d + 1 digits)

    Returns `inputs`, one-hot float32 of shape (B, 3D + 2, 13) (every character but the last),
    and `targets` (B, 3D + 2) int64: the next character where it is an answer digit, and
    `IGNORE_INDEX` elsewhere.
    """
    check_int("max_digits", max_digits, 1)
    generator, draw_device, device = draw_setup(seed, generator, device)
    if isinstance(difficulties, int) and not isinstance(difficulties, bool):
        if batch_size is None:
            raise ValueError("batch_size is needed when difficulties is one int")
        check_int("batch_size", batch_size, 1)
        difficulties = torch.full((batch_size,), difficulties, dtype=torch.long)
    if not isinstance(difficulties, torch.Tensor) or difficulties.dim() != 1:
        raise TypeError("difficulties must be an int or a 1-D tensor of ints (one per example)")
    if difficulties.numel() == 0 or torch.is_floating_point(difficulties):
        raise ValueError("difficulties must be a non-empty tensor of ints")
    difficulties = difficulties.to(draw_device, torch.long)
    if int(difficulties.min()) < 1 or int(difficulties.max()) > max_digits:
        raise ValueError(
            f"difficulties must lie in [1, max_digits={max_digits}], got "
            f"[{int(difficulties.min())}, {int(difficulties.max())}]"
        )

    count = difficulties.shape[0]
    # Uniform over d-digit numbers: [10^(d-1), 10^d), and [0, 10) for one digit.
    high = 10**difficulties
    low = torch.where(difficulties > 1, high // 10, torch.zeros_like(high))
    uniform = torch.rand(2, count, generator=generator, device=draw_device, dtype=torch.float64)
    a, b = (low + (uniform * (high - low)).long()).clamp(max=high - 1)
    answer = a + b

    width = max_digits + 1
    digits_a, digits_b, digits_sum = _digits(a, width), _digits(b, width), _digits(answer, width)
    if not reverse_digits:  # most significant first: reverse the first d (or d + 1) digits
        index = torch.arange(width, device=draw_device)
        d = difficulties.unsqueeze(1)
        operand = (d - 1 - index).clamp(min=0)
        digits_a, digits_b = digits_a.gather(1, operand), digits_b.gather(1, operand)
        digits_sum = digits_sum.gather(1, (d - index).clamp(min=0))

    # Position p of the padded sequence is character o = p - 3(D - d) of the d-digit problem.
    length = 3 * max_digits + 3
    d = difficulties.unsqueeze(1)
    o = torch.arange(length, device=draw_device).unsqueeze(0) - 3 * (max_digits - d)
    pick = lambda digits, start: digits.gather(1, (o - start).clamp(0, width - 1))  # noqa: E731
    tokens = torch.full((count, length), BLANK, dtype=torch.long, device=draw_device)
    tokens = torch.where((o >= 0) & (o < d), pick(digits_a, 0), tokens)
    tokens = torch.where(o == d, torch.full_like(tokens, PLUS), tokens)
    tokens = torch.where((o > d) & (o <= 2 * d), pick(digits_b, d + 1), tokens)
    tokens = torch.where(o == 2 * d + 1, torch.full_like(tokens, EQUALS), tokens)
    is_answer = o >= 2 * d + 2
    tokens = torch.where(is_answer, pick(digits_sum, 2 * d + 2), tokens)

    inputs = F.one_hot(tokens[:, :-1], num_classes=len(ADDITION_SYMBOLS)).float()
    targets = tokens[:, 1:].masked_fill(~is_answer[:, 1:], IGNORE_INDEX)
    return inputs.to(device), targets.to(device)


def decode_addition(inputs: torch.Tensor, targets: torch.Tensor) -> list[str]:
    """The examples as text, e.g. '12+34=640' (reversed digits) for checking and display."""
    tokens = inputs.argmax(dim=-1)
    last = torch.where(targets[:, -1] >= 0, targets[:, -1], tokens[:, -1])
    tokens = torch.cat([tokens, last.unsqueeze(1)], dim=1)
    return ["".join(ADDITION_SYMBOLS[t] for t in row if t != BLANK) for row in tokens.tolist()]


@dataclass(frozen=True)
class AdditionTask:
    """Addition of numbers of up to `max_digits` digits; pair it with a model with readout="all".

    `sample(difficulties)` draws a batch in which example i has `difficulties[i]` digits.
    """

    max_digits: int
    reverse_digits: bool = True

    input_size = len(ADDITION_SYMBOLS)
    output_size = len(ADDITION_SYMBOLS)
    readout = "all"

    def __post_init__(self) -> None:
        check_int("max_digits", self.max_digits, 1)

    @property
    def seq_len(self) -> int:
        """3D + 2 input characters."""
        return 3 * self.max_digits + 2

    def sample(
        self,
        difficulties: torch.Tensor | int,
        batch_size: int | None = None,
        *,
        generator: torch.Generator | None = None,
        seed: int | None = None,
        device: str | torch.device | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs (B, 3D + 2, 13), targets (B, 3D + 2)); see `addition_problem`."""
        return addition_problem(
            difficulties,
            self.max_digits,
            batch_size=batch_size,
            reverse_digits=self.reverse_digits,
            seed=seed,
            generator=generator,
            device=device,
        )

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Cross entropy over the answer characters: mean of -log softmax(z_t)[y_t]."""
        if logits.dim() != 3 or logits.shape[:2] != targets.shape:
            raise ValueError(
                f"logits must have shape (B, T, {self.output_size}) with (B, T) = "
                f"{tuple(targets.shape)}, got {tuple(logits.shape)}"
            )
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX)

    def accuracy(self, logits: torch.Tensor, targets: torch.Tensor) -> float:
        """Fraction of answer characters predicted right (teacher forcing)."""
        scored = targets != IGNORE_INDEX
        return (logits.argmax(dim=-1)[scored] == targets[scored]).float().mean().item()

    def sequence_accuracy(self, logits: torch.Tensor, targets: torch.Tensor) -> float:
        """Fraction of examples whose whole answer is right."""
        scored = targets != IGNORE_INDEX
        right = (logits.argmax(dim=-1) == targets) | ~scored
        return right.all(dim=1).float().mean().item()
