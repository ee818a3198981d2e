"""Padding, masking, packing, bucketing and truncated BPTT (chapter 4's experiments on them are
in tests/chapters/test_efficiency.py)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from rnncourse.chapters.ch04_efficiency.truncated_bptt import (
    delayed_recall_stream,
)
from rnncourse.models.char_lm import detach_state
from rnncourse.training.batching import (
    bucket_batches,
    last_valid,
    length_mask,
    masked_mean,
    packed_run,
    pad_batch,
    padding_fraction,
    random_batches,
    truncated_bptt_epoch,
)


def sequences(lengths: list[int], features: int = 2, seed: int = 0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(length, features, generator=generator) for length in lengths]


def test_pad_batch_and_mask() -> None:
    padded, lengths = pad_batch(sequences([3, 1, 2]), padding_value=-1.0)
    assert padded.shape == (3, 3, 2) and lengths.tolist() == [3, 1, 2]
    assert bool((padded[1, 1:] == -1).all())
    assert length_mask(lengths).tolist() == [[True, True, True], [True, False, False],
                                             [True, True, False]]
    assert length_mask([1, 2], max_length=4).shape == (2, 4)


def test_masked_mean_ignores_the_padding() -> None:
    values = torch.tensor([[1.0, 2.0, 100.0], [4.0, 100.0, 100.0]])
    assert_close(masked_mean(values, [2, 1]), torch.tensor(7.0 / 3))  # (1 + 2 + 4) / 3
    per_feature = torch.ones(2, 3, 5)
    per_feature[:, 2] = 50.0
    assert_close(masked_mean(per_feature, torch.tensor([2, 2])), torch.tensor(1.0))


def test_last_valid_picks_step_length_minus_one() -> None:
    outputs = torch.arange(2 * 4 * 1.0).reshape(2, 4, 1)
    assert last_valid(outputs, [4, 2]).tolist() == [[3.0], [5.0]]


def test_packing_gives_the_state_after_each_sequence_own_last_step() -> None:
    torch.manual_seed(0)
    rnn = nn.LSTM(2, 5, batch_first=True)
    padded, lengths = pad_batch(sequences([6, 2, 4]))
    outputs, (h_n, _) = packed_run(rnn, padded, lengths)
    assert outputs.shape == (3, 6, 5)
    assert bool((outputs[1, 2:] == 0).all())  # nothing computed on the padding
    padded_outputs, _ = rnn(padded)
    assert_close(h_n[-1], last_valid(padded_outputs, lengths))
    for row, length in enumerate(lengths.tolist()):  # each alone, no padding at all
        alone, _ = rnn(padded[row : row + 1, :length])
        assert_close(outputs[row, :length], alone[0])


def test_lengths_may_live_on_the_batch_device(device: str) -> None:
    """Lengths moved with their batch (onto a GPU) work as CPU ones do: the mask comes on the
    CPU as always, and packing gets the CPU lengths that torch requires."""
    torch.manual_seed(0)
    rnn = nn.LSTM(2, 5, batch_first=True).to(device)
    padded, lengths = pad_batch(sequences([3, 1, 2]))
    padded, on_device = padded.to(device), lengths.to(device)
    assert length_mask(on_device).tolist() == length_mask(lengths).tolist()
    outputs, (h_n, _) = packed_run(rnn, padded, on_device)
    assert_close(h_n[-1], last_valid(outputs, on_device))
    assert_close(masked_mean(outputs, on_device), masked_mean(outputs, lengths))


def test_random_and_bucketed_batches_cover_every_index_once() -> None:
    lengths = torch.randint(1, 200, (103,), generator=torch.Generator().manual_seed(0))
    for batches in (random_batches(103, 10, seed=1), bucket_batches(lengths, 10, seed=1)):
        assert sorted(i for batch in batches for i in batch) == list(range(103))
        assert [len(b) for b in batches].count(10) == 10
    assert padding_fraction(lengths, bucket_batches(lengths, 10, seed=1)) < 0.1
    assert padding_fraction(lengths, random_batches(103, 10, seed=1)) > 0.3
    assert bucket_batches(lengths, 10, seed=1) == bucket_batches(lengths, 10, seed=1)


def test_padding_fraction_formula() -> None:
    # batch [0, 1]: lengths 4 and 2 padded to 4; batch [2]: 3. Computed 8 + 3, useful 9.
    assert padding_fraction([4, 2, 3], [[0, 1], [2]]) == pytest.approx(1 - 9 / 11)


def test_bad_lengths_and_sizes_are_named() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        length_mask([2, 0])
    with pytest.raises(ValueError, match="exceeds"):
        last_valid(torch.zeros(2, 3, 1), [4, 1])
    with pytest.raises(TypeError, match="ints"):
        length_mask(torch.tensor([1.5]))
    with pytest.raises(ValueError, match="batch_size"):
        random_batches(5, 0)
    with pytest.raises(ValueError, match="empty"):
        pad_batch([])


class Recurrent(nn.Module):
    """A tiny model with the (chunk, state) -> (outputs, state) contract."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(1, 4, batch_first=True)
        self.head = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor, state):
        outputs, state = self.rnn(x, state)
        return self.head(outputs), state


def test_truncated_bptt_updates_once_per_chunk_and_carries_detached_state() -> None:
    inputs, targets = delayed_recall_stream(3, 23, lag=2, seed=0)
    torch.manual_seed(0)
    model = Recurrent()
    reference = Recurrent()
    reference.load_state_dict(model.state_dict())
    losses = truncated_bptt_epoch(model, inputs, targets, chunk_length=5,
                                  loss_fn=F.binary_cross_entropy_with_logits,
                                  optimizer=torch.optim.SGD(model.parameters(), lr=0.5))
    assert len(losses) == 5  # 23 steps in chunks of 5: 5, 5, 5, 5, 3
    # The same by hand: carry the state, cut its gradient, one SGD step per chunk.
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.5)
    state = None
    for x, y in zip(inputs.split(5, dim=1), targets.split(5, dim=1), strict=True):
        outputs, state = reference(x, state)
        optimizer.zero_grad()
        F.binary_cross_entropy_with_logits(outputs, y).backward()
        optimizer.step()
        state = tuple(part.detach() for part in state)
    for ours, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        assert_close(ours, theirs)


def test_reset_state_differs_from_carried_state() -> None:
    inputs, targets = delayed_recall_stream(2, 12, lag=1, seed=1)
    final = []
    for carry in (True, False):
        torch.manual_seed(0)
        model = Recurrent()
        truncated_bptt_epoch(model, inputs, targets, chunk_length=4, carry_state=carry,
                             loss_fn=F.binary_cross_entropy_with_logits,
                             optimizer=torch.optim.SGD(model.parameters(), lr=0.5))
        final.append(model.head.weight.detach().clone())
    assert not torch.allclose(*final)
    with pytest.raises(ValueError, match="chunk_length"):
        truncated_bptt_epoch(model, inputs, targets, chunk_length=0, loss_fn=F.mse_loss,
                             optimizer=torch.optim.SGD(model.parameters(), lr=0.5))


def test_detach_state_keeps_values_and_cuts_gradients() -> None:
    h = torch.ones(2, requires_grad=True) * 2
    detached = detach_state((h, h + 1))
    assert not any(part.requires_grad for part in detached)
    assert_close(detached[1], torch.full((2,), 3.0))
