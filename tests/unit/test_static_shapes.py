"""Static-shape buckets: every batch has one of the promised shapes, no sequence is lost beyond
the last bucket's leftovers, and bad arguments are named."""

from __future__ import annotations

import pytest
import torch

from rnncourse.training.static_shapes import (
    bucket_of,
    length_boundaries,
    padded_static_batches,
    static_padding_fraction,
    static_shape_batches,
)


def _lengths(count: int = 203, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(3, 300, (count,), generator=generator)


@pytest.mark.parametrize("buckets", [1, 3, 5])
def test_bucketed_loader_yields_only_the_promised_shapes(buckets: int) -> None:
    lengths = _lengths()
    boundaries = length_boundaries(lengths, buckets)
    assert len(boundaries) <= buckets and boundaries[-1] >= int(lengths.max())
    sequences = [torch.randn(int(length), 2) for length in lengths]
    batches = static_shape_batches(lengths, 16, boundaries, seed=1)
    shapes = {tuple(padded.shape) for padded, _ in padded_static_batches(sequences, batches)}
    assert shapes <= {(16, boundary, 2) for boundary in boundaries}
    assert len(shapes) <= buckets
    random_shapes = {max(int(lengths[i]) for i in range(start, start + 16))
                     for start in range(0, 192, 16)}
    assert len(random_shapes) > buckets  # padded per batch, the same data has more shapes


def test_every_sequence_fits_its_batch_and_only_the_last_leftovers_are_dropped() -> None:
    lengths = _lengths()
    boundaries = length_boundaries(lengths, 4)
    batches = static_shape_batches(lengths, 16, boundaries, seed=0)
    used = [i for indices, _ in batches for i in indices]
    assert len(used) == len(set(used)) and len(lengths) - len(used) < 16
    for indices, padded_length in batches:
        assert len(indices) == 16 and int(lengths[indices].max()) <= padded_length


def test_padding_keeps_the_sequences_and_zeros_the_rest() -> None:
    sequences = [torch.ones(length, 3) for length in (2, 5, 7, 4)]
    batches = [([0, 1], 8), ([2, 3], 8)]
    (first, first_lengths), _ = list(padded_static_batches(sequences, batches))
    assert first.shape == (2, 8, 3) and first_lengths.tolist() == [2, 5]
    assert first[0, :2].eq(1).all() and first[0, 2:].eq(0).all()
    assert static_padding_fraction([2, 5, 7, 4], batches) == pytest.approx(1 - 18 / 32)


def test_bucket_of_is_the_first_boundary_that_fits() -> None:
    assert bucket_of([1, 8, 9, 16, 17], [8, 16, 24]).tolist() == [0, 0, 1, 1, 2]


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="longer than the last boundary"):
        bucket_of([30], [8, 16])
    with pytest.raises(ValueError, match="increasing"):
        bucket_of([3], [16, 8])
    with pytest.raises(ValueError, match="batch_size"):
        static_shape_batches([3, 4], 0, [8])
    with pytest.raises(ValueError, match="does not fit"):
        list(padded_static_batches([torch.ones(9, 1)], [([0], 8)]))
