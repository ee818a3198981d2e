"""The 8×8 handwritten digits that ship with scikit-learn, read as sequences.

1797 grey-level images of the digits 0 to 9, 8×8 pixels with values 0 to 16 (the test part of
the UCI "Optical Recognition of Handwritten Digits" data, Alpaydin and Kaynak 1998, CC BY 4.0),
installed with scikit-learn (`pip install rnncourse[data]`): nothing is downloaded.

A recurrent classifier reads one image as a sequence and names the digit after the last step,
a small offline stand-in for sequential MNIST (Le et al. 2015; Cooijmans et al. 2016):

    order="rows"      T = 8 steps of 8 pixels (one image row per step)
    order="pixels"    T = 64 steps of 1 pixel, row by row (sequential MNIST's reading order)
    order="permuted"  T = 64 steps of 1 pixel in a fixed random order (permuted MNIST), which
                      scatters neighbouring pixels far apart in time

Pixels are scaled to [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from rnncourse.runtime import resolve_device

__all__ = ["DIGIT_ORDERS", "DigitSequences", "load_digit_sequences"]

DIGIT_ORDERS = ("rows", "pixels", "permuted")
IMAGE_SIDE = 8
NUM_CLASSES = 10


@dataclass
class DigitSequences:
    """Train and test sequences: inputs (N, T, I) float32 in [0, 1], targets (N,) int64."""

    train_inputs: torch.Tensor
    train_targets: torch.Tensor
    test_inputs: torch.Tensor
    test_targets: torch.Tensor
    order: str
    num_classes: int = NUM_CLASSES

    @property
    def seq_len(self) -> int:
        return self.train_inputs.shape[1]

    @property
    def input_size(self) -> int:
        return self.train_inputs.shape[2]

    def batches(self, batch_size: int, seed: int = 0) -> Callable[[int], tuple[torch.Tensor, ...]]:
        """`step -> (inputs, targets)`: mini-batches drawn at random from the training part
        (with replacement, from a generator seeded with `seed`), for `rnncourse.training.fit`."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        generator = torch.Generator().manual_seed(int(seed))
        count = len(self.train_targets)

        def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            rows = torch.randint(0, count, (batch_size,), generator=generator)
            rows = rows.to(self.train_inputs.device)
            return self.train_inputs[rows], self.train_targets[rows]

        return batch


def load_digit_sequences(
    order: str = "rows",
    *,
    test_fraction: float = 0.25,
    seed: int = 0,
    permutation_seed: int = 0,
    device: str | torch.device | None = None,
) -> DigitSequences:
    """scikit-learn's digits as sequences in the given `order`, split at random (`seed`) into
    a training part and a test part holding `test_fraction` of the images.

    `permutation_seed` fixes the pixel order of order="permuted" (one permutation for all
    images, train and test, as in permuted MNIST).
    """
    if order not in DIGIT_ORDERS:
        choices = ", ".join(map(repr, DIGIT_ORDERS))
        raise ValueError(f"order must be one of {choices}; got {order!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:  # pragma: no cover - scikit-learn is in the course environment
        raise ImportError(
            "the digits come with scikit-learn: pip install 'rnncourse[data]'"
        ) from error
    digits = load_digits()
    images = torch.as_tensor(digits.images, dtype=torch.float32) / 16.0  # (N, 8, 8) in [0, 1]
    targets = torch.as_tensor(digits.target, dtype=torch.int64)
    if order == "rows":
        inputs = images  # step t reads row t
    else:
        inputs = images.reshape(len(images), IMAGE_SIDE * IMAGE_SIDE, 1)  # one pixel per step
        if order == "permuted":
            generator = torch.Generator().manual_seed(int(permutation_seed))
            inputs = inputs[:, torch.randperm(IMAGE_SIDE * IMAGE_SIDE, generator=generator)]

    shuffled = torch.randperm(len(targets), generator=torch.Generator().manual_seed(int(seed)))
    test_count = round(test_fraction * len(targets))
    test, train = shuffled[:test_count], shuffled[test_count:]
    target_device = resolve_device(device)
    return DigitSequences(
        train_inputs=inputs[train].to(target_device),
        train_targets=targets[train].to(target_device),
        test_inputs=inputs[test].to(target_device),
        test_targets=targets[test].to(target_device),
        order=order,
    )
