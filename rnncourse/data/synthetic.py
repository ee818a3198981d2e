"""Synthetic long-range tasks: the adding problem and copy memory (Arjovsky, Shah, Bengio 2016).

Both tasks put the information the model needs at the start of a long sequence and ask for it
at the end, so solving them means carrying a memory across `T` steps. Each comes with the loss
of the best strategy that remembers nothing, the baseline a model must beat before it can be
said to have learned anything long-range.

Random draws (`rnncourse.runtime.draw_setup`). With `seed`, data are drawn on the CPU from a
generator seeded with it and then moved to `device`, so one seed gives the same data on every
device. With a `generator`, they are drawn on the generator's device. With neither, torch's
global random state is used, so `torch.manual_seed` (and `fit(seed=...)`) makes them
reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnncourse.checks import check_int
from rnncourse.runtime import draw_setup

__all__ = [
    "AddingTask",
    "CopyTask",
    "adding_baseline_mse",
    "adding_problem",
    "copy_memory",
    "copy_memory_baseline_loss",
]


# ----------------------------------------------------------------------------------------------
# The adding problem


def adding_problem(
    batch_size: int,
    seq_len: int,
    *,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the adding problem (Hochreiter and Schmidhuber 1997; Arjovsky et al. 2016).

    Each sequence has two channels. Channel 0 holds values u_t ~ U[0, 1]; channel 1 is a marker
    m_t that is 1 at exactly two positions, p in the first half [0, T//2) and q in the second
    half [T//2, T), and 0 elsewhere. The target is the sum of the two marked values:

        y = sum_t m_t u_t = u_p + u_q

    Returns `inputs` of shape (B, T, 2) and `targets` of shape (B, 1), both float32.
    """
    check_int("batch_size", batch_size, 1)
    check_int("seq_len", seq_len, 2, "one marker in each half")
    generator, draw_device, device = draw_setup(seed, generator, device)

    values = torch.rand(batch_size, seq_len, generator=generator, device=draw_device)
    half = seq_len // 2
    first = torch.randint(0, half, (batch_size,), generator=generator, device=draw_device)
    second = torch.randint(half, seq_len, (batch_size,), generator=generator, device=draw_device)

    markers = torch.zeros_like(values)
    rows = torch.arange(batch_size, device=draw_device)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0

    inputs = torch.stack([values, markers], dim=-1)  # (B, T, 2)
    targets = (values * markers).sum(dim=1, keepdim=True)  # y = u_p + u_q, (B, 1)
    return inputs.to(device), targets.to(device)


def adding_baseline_mse() -> float:
    """MSE of always predicting 1 on the adding problem: 1/6 ≈ 0.167.

    The target is y = u_p + u_q with u_p, u_q independent U[0, 1], so

        E[y] = 1/2 + 1/2 = 1,    Var(y) = 1/12 + 1/12 = 1/6.

    The constant prediction that minimises the mean squared error is the mean, c = 1, and its
    error is the variance: E[(y - 1)^2] = Var(y) = 1/6. A model that ignores the inputs can do
    no better; Arjovsky et al. (2016, Fig. 2) draw this line at 0.167.
    """
    return 2.0 / 12.0


# ----------------------------------------------------------------------------------------------
# Copy memory


def copy_memory(
    batch_size: int,
    delay: int,
    *,
    num_symbols: int = 8,
    copy_length: int = 10,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the copy memory task (Hochreiter and Schmidhuber 1997; Arjovsky et al. 2016).

    Symbols 0..K-1 (K = `num_symbols`) are data, K is the blank and K+1 the delimiter ("go").
    With L = `copy_length` and T = `delay`, a sequence has T + 2L steps:

        input:   x_1 .. x_L | blank * (T-1) | delimiter | blank * L
        target:  blank * (T + L)                        | x_1 .. x_L

    so the model must hold L random symbols for T steps and write them out after the delimiter.
    `delay` is the T of Arjovsky et al., whose sequences have length T + 20.

    Returns `inputs`, one-hot float32 of shape (B, T + 2L, K + 2), and `targets`, class indices
    (int64) of shape (B, T + 2L).
    """
    check_int("batch_size", batch_size, 1)
    check_int("delay", delay, 1, "the delimiter comes `delay` steps after the last symbol")
    check_int("num_symbols", num_symbols, 1)
    check_int("copy_length", copy_length, 1)
    generator, draw_device, device = draw_setup(seed, generator, device)

    blank, delimiter = num_symbols, num_symbols + 1
    seq_len = delay + 2 * copy_length
    data = torch.randint(
        0, num_symbols, (batch_size, copy_length), generator=generator, device=draw_device
    )

    input_symbols = torch.full((batch_size, seq_len), blank, dtype=torch.long, device=draw_device)
    input_symbols[:, :copy_length] = data
    input_symbols[:, copy_length + delay - 1] = delimiter  # after the L symbols and T-1 blanks

    targets = torch.full((batch_size, seq_len), blank, dtype=torch.long, device=draw_device)
    targets[:, -copy_length:] = data

    inputs = F.one_hot(input_symbols, num_classes=num_symbols + 2).float()
    return inputs.to(device), targets.to(device)


def copy_memory_baseline_loss(delay: int, num_symbols: int = 8, copy_length: int = 10) -> float:
    """Cross entropy of the memoryless strategy on copy memory: L ln K / (T + 2L).

    The strategy predicts the blank with certainty for the first T + L steps (loss 0, always
    right) and then the uniform distribution over the K data symbols for the last L steps
    (loss ln K each). Averaged over all T + 2L steps:

        loss = L ln K / (T + 2L)

    For K = 8, L = 10 this is 0.173, 0.095, 0.065, 0.040 at T = 100, 200, 300, 500
    (Arjovsky et al. 2016, Fig. 1).
    """
    check_int("delay", delay, 1)
    check_int("num_symbols", num_symbols, 1)
    check_int("copy_length", copy_length, 1)
    return copy_length * math.log(num_symbols) / (delay + 2 * copy_length)


# ----------------------------------------------------------------------------------------------
# Task objects: what the fit loop and the chapters pass around


def _check_same_shape(predictions: torch.Tensor, targets: torch.Tensor, expected: str) -> None:
    # A (B,) prediction against a (B, 1) target would broadcast to (B, B) and train silently wrong.
    if predictions.shape != targets.shape:
        raise ValueError(
            f"predictions must have shape {expected} = {tuple(targets.shape)} like the targets, "
            f"got {tuple(predictions.shape)}"
        )


@dataclass(frozen=True)
class AddingTask:
    """The adding problem at one sequence length; pair it with a model with readout="last"."""

    seq_len: int

    input_size = 2  # (value, marker)
    output_size = 1  # the sum
    readout = "last"  # one prediction after the whole sequence

    def __post_init__(self) -> None:
        check_int("seq_len", self.seq_len, 2, "one marker in each half")

    def sample(
        self,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        seed: int | None = None,
        device: str | torch.device | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs (B, T, 2), targets (B, 1)); see `adding_problem`."""
        return adding_problem(
            batch_size, self.seq_len, seed=seed, generator=generator, device=device
        )

    def loss(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean squared error, mean over the batch of (ŷ - y)^2."""
        _check_same_shape(predictions, targets, "(B, 1)")
        return F.mse_loss(predictions, targets)

    def baseline_loss(self) -> float:
        """1/6: the MSE of predicting 1 whatever the input."""
        return adding_baseline_mse()


@dataclass(frozen=True)
class CopyTask:
    """Copy memory with delay T; pair it with a model with readout="all".

    The model outputs logits over K + 1 classes (the K data symbols and the blank): the
    delimiter is an input only, never a target (as in Arjovsky et al.'s code).
    """

    delay: int
    num_symbols: int = 8
    copy_length: int = 10

    readout = "all"  # a prediction at every step

    def __post_init__(self) -> None:
        check_int("delay", self.delay, 1)
        check_int("num_symbols", self.num_symbols, 1)
        check_int("copy_length", self.copy_length, 1)

    @property
    def input_size(self) -> int:
        """K data symbols, the blank and the delimiter."""
        return self.num_symbols + 2

    @property
    def output_size(self) -> int:
        """K data symbols and the blank."""
        return self.num_symbols + 1

    @property
    def seq_len(self) -> int:
        """T + 2L."""
        return self.delay + 2 * self.copy_length

    def sample(
        self,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        seed: int | None = None,
        device: str | torch.device | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs (B, T + 2L, K + 2) one-hot, targets (B, T + 2L) long); see `copy_memory`."""
        return copy_memory(
            batch_size,
            self.delay,
            num_symbols=self.num_symbols,
            copy_length=self.copy_length,
            seed=seed,
            generator=generator,
            device=device,
        )

    def _check_logits(self, logits: torch.Tensor, targets: torch.Tensor) -> None:
        if logits.dim() != 3 or logits.shape[:2] != targets.shape:
            raise ValueError(
                f"predictions must be logits of shape (B, T + 2L, classes) = "
                f"({targets.shape[0]}, {targets.shape[1]}, {self.output_size}), "
                f"got {tuple(logits.shape)}"
            )

    def loss(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Cross entropy averaged over every position of every sequence:

            loss = -1/(B (T + 2L)) sum_{b,t} log softmax(z_{b,t})[y_{b,t}]

        `predictions` are logits (B, T + 2L, classes), classes in the last dimension.
        """
        self._check_logits(predictions, targets)
        return F.cross_entropy(predictions.flatten(0, 1), targets.flatten())

    def accuracy(self, predictions: torch.Tensor, targets: torch.Tensor) -> float:
        """Fraction of the L copied symbols (the last L positions) predicted right.

        The blanks are left out: predicting them is easy and would hide whether anything was
        remembered. The memoryless strategy scores 1/K here.
        """
        self._check_logits(predictions, targets)
        copied = slice(-self.copy_length, None)
        predicted = predictions[:, copied].argmax(dim=-1)
        return (predicted == targets[:, copied]).float().mean().item()

    def baseline_loss(self) -> float:
        """L ln K / (T + 2L): the memoryless strategy's cross entropy."""
        return copy_memory_baseline_loss(self.delay, self.num_symbols, self.copy_length)
