"""scikit-learn's 8×8 digits as sequences: shapes, orders, splits, batches."""

from __future__ import annotations

import pytest
import torch

from rnncourse.data.digits import DIGIT_ORDERS, load_digit_sequences


@pytest.fixture(scope="module")
def rows():
    return load_digit_sequences("rows", seed=0)


def test_shapes_and_values(rows):
    assert rows.train_inputs.shape[1:] == (8, 8) and rows.seq_len == 8 and rows.input_size == 8
    assert len(rows.train_targets) + len(rows.test_targets) == 1797
    assert len(rows.test_targets) == round(0.25 * 1797)
    assert rows.train_inputs.dtype == torch.float32 and rows.train_targets.dtype == torch.int64
    assert rows.train_inputs.min() >= 0 and rows.train_inputs.max() == 1
    assert set(rows.train_targets.tolist()) == set(range(10))


def test_orders_read_the_same_images(rows):
    pixels = load_digit_sequences("pixels", seed=0)
    permuted = load_digit_sequences("permuted", seed=0)
    assert pixels.train_inputs.shape[1:] == (64, 1) and permuted.seq_len == 64
    # Row by row and pixel by pixel are the same numbers in the same order.
    assert torch.equal(pixels.train_inputs.flatten(1), rows.train_inputs.flatten(1))
    assert torch.equal(pixels.test_targets, permuted.test_targets)
    # Permuted: one fixed reordering of the 64 pixels for every image.
    flat, shuffled = pixels.train_inputs[:, :, 0], permuted.train_inputs[:, :, 0]
    assert not torch.equal(flat, shuffled)
    assert torch.equal(flat.sort(dim=1).values, shuffled.sort(dim=1).values)
    matches = [(flat[:, i:i + 1] == shuffled).all(dim=0).nonzero().flatten() for i in range(64)]
    assert all(m.numel() >= 1 for m in matches)


def test_split_depends_on_the_seed_only(rows):
    again = load_digit_sequences("rows", seed=0)
    other = load_digit_sequences("rows", seed=1)
    assert torch.equal(rows.test_inputs, again.test_inputs)
    assert not torch.equal(rows.test_targets, other.test_targets)


def test_batches_are_seeded_draws_from_the_training_part(rows):
    first = rows.batches(16, seed=3)
    second = rows.batches(16, seed=3)
    inputs, targets = first(0)
    assert inputs.shape == (16, 8, 8) and targets.shape == (16,)
    assert torch.equal(inputs, second(0)[0])
    assert not torch.equal(inputs, first(1)[0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="order must be one of"):
        load_digit_sequences("columns")
    with pytest.raises(ValueError, match="test_fraction"):
        load_digit_sequences("rows", test_fraction=1.0)
    with pytest.raises(ValueError, match="batch_size"):
        load_digit_sequences("rows").batches(0)
    assert DIGIT_ORDERS == ("rows", "pixels", "permuted")
