"""Batches with a few fixed shapes, for compilers that build one program per input shape.

An XLA device (a TPU) compiles the whole step for the exact shapes it is given, and so does
`torch.compile(dynamic=False)`. Batches padded to their own longest sequence (`pad_batch`) come
in as many shapes as there are distinct longest lengths, and each new shape is a new
compilation. Bucketing to K fixed lengths L_1 < ... < L_K bounds that:

* sequence n, of length ℓ_n, goes to bucket k(n) = min{k : ℓ_n ≤ L_k} (`bucket_of`);
* each bucket is cut into batches of exactly B sequences; what is left over, fewer than B, moves
  up to the next bucket (the last bucket's leftovers wait for another epoch);
* each batch is padded to its bucket's length L_k,

so every batch has one of at most K shapes (B, L_k, ...) (`static_shape_batches`,
`padded_static_batches`). The padding this adds is measured by `static_padding_fraction`; the
masking of `rnncourse.training.batching` keeps it from changing the loss.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from rnncourse.training.batching import _check_batch_arguments, _check_lengths, pad_batch

__all__ = [
    "bucket_of",
    "length_boundaries",
    "padded_static_batches",
    "static_padding_fraction",
    "static_shape_batches",
]

StaticBatch = tuple[list[int], int]  # (indices of the sequences, padded length L_k)


def length_boundaries(lengths: Tensor | Sequence[int], buckets: int, *,
                      multiple: int = 8) -> list[int]:
    """K bucket lengths: the k/K quantiles of `lengths` (k = 1..K), rounded up to a multiple of
    `multiple` (hardware likes tiles of 8 or 128), the last at least the longest length.
    Equal boundaries merge, so fewer than K may come back."""
    lengths = _check_lengths(lengths)
    _check_batch_arguments(len(lengths), buckets)
    _check_batch_arguments(1, multiple)
    ordered = lengths.sort().values
    boundaries = []
    for k in range(1, buckets + 1):
        quantile = int(ordered[math.ceil(k * len(ordered) / buckets) - 1])
        boundary = math.ceil(quantile / multiple) * multiple
        if not boundaries or boundary > boundaries[-1]:
            boundaries.append(boundary)
    return boundaries


def bucket_of(lengths: Tensor | Sequence[int], boundaries: Sequence[int]) -> Tensor:
    """k(n) = min{k : ℓ_n ≤ L_k}, the bucket of every sequence (a ValueError if one is longer
    than the last boundary, or the boundaries do not increase)."""
    lengths = _check_lengths(lengths)
    bounds = torch.as_tensor(list(boundaries), dtype=torch.int64)
    if bounds.dim() != 1 or len(bounds) == 0 or bool((bounds[1:] <= bounds[:-1]).any()):
        raise ValueError(f"boundaries must be a non-empty increasing sequence, got {boundaries}")
    if len(lengths) and int(lengths.max()) > int(bounds[-1]):
        raise ValueError(f"a sequence of length {int(lengths.max())} is longer than the last "
                         f"boundary {int(bounds[-1])}")
    return torch.searchsorted(bounds, lengths)  # the first L_k ≥ ℓ_n


def static_shape_batches(lengths: Tensor | Sequence[int], batch_size: int,
                         boundaries: Sequence[int], *,
                         seed: int | None = None) -> list[StaticBatch]:
    """Batches of exactly `batch_size` sequences, each padded to one of the `boundaries`: a list
    of (indices, L_k), in shuffled order.

    Buckets are filled from the shortest: a bucket's leftovers (fewer than `batch_size`
    sequences, chosen at random) move up to the next bucket, where they fit, since its length
    is larger. Only the last bucket's leftovers (fewer than `batch_size`) are left out of this
    epoch.
    """
    lengths = _check_lengths(lengths)
    _check_batch_arguments(len(lengths), batch_size)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    buckets = bucket_of(lengths, boundaries)
    batches: list[StaticBatch] = []
    carried: list[int] = []
    for k, boundary in enumerate(boundaries):
        members = torch.nonzero(buckets == k).flatten()
        members = carried + members[torch.randperm(len(members), generator=generator)].tolist()
        whole = len(members) - len(members) % batch_size
        batches += [(members[start : start + batch_size], int(boundary))
                    for start in range(0, whole, batch_size)]
        carried = members[whole:]
    order = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in order]


def padded_static_batches(sequences: Sequence[Tensor],
                          batches: Sequence[StaticBatch]) -> Iterator[tuple[Tensor, Tensor]]:
    """Each batch's sequences (L_n, ...) stacked and padded with zeros to (B, L_k, ...), with
    their lengths (B,): the tensors a shape-specialising compiler sees."""
    for indices, padded_length in batches:
        padded, lengths = pad_batch([sequences[i] for i in indices])
        if padded.shape[1] > padded_length:
            raise ValueError(f"a sequence of length {padded.shape[1]} does not fit the batch's "
                             f"padded length {padded_length}")
        full = padded.new_zeros(padded.shape[0], padded_length, *padded.shape[2:])
        full[:, : padded.shape[1]] = padded
        yield full, lengths


def static_padding_fraction(lengths: Tensor | Sequence[int],
                            batches: Sequence[StaticBatch]) -> float:
    """Share of computed steps that are padding: 1 − Σ ℓ_n / Σ_batches B · L_k."""
    lengths = _check_lengths(lengths)
    computed = sum(len(indices) * padded_length for indices, padded_length in batches)
    useful = sum(int(lengths[indices].sum()) for indices, _ in batches)
    return 1.0 - useful / computed if computed else 0.0
