"""Every hidden state of a forward pass, kept for diagnostics: `record_hidden_states()`.

Backpropagation through time computes ∂L/∂h_t for every step t, but torch keeps only the
gradients of leaves. Inside `record_hidden_states()`, a sequence module keeps each h_t (and an
LSTM's c_t) and calls `retain_grad()` on it, so after `loss.backward()` the gradient that
reached every step can be read: how fast it vanishes is chapter 1's measurement.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

__all__ = ["RecordedStates", "SequenceModule", "State"]

State = tuple[Tensor, ...]  # (h,) for RNN and GRU, (h, c) for LSTM


@dataclass
class RecordedStates:
    """The states of one forward pass, kept by `record_hidden_states()`.

    `hidden[layer][t]` is h_t of that layer after reading x_t (t = 0 .. T-1), the very tensor that
    feeds step t+1, the next layer and the output. When it requires grad, `retain_grad()` has been
    called on it, so after `loss.backward()` its `.grad` is the total derivative ∂L/∂h_t, through
    every path. `cell[layer][t]` holds c_t the same way for an LSTM, and is None otherwise.
    """

    hidden: list[list[Tensor]] = field(default_factory=list)
    cell: list[list[Tensor]] | None = None

    def hidden_grads(self, layer: int = -1) -> Tensor:
        """The gradients ∂L/∂h_t of one layer stacked over time: shape (T, *h_t.shape)."""
        states = self.hidden[layer]
        if not states or any(h.grad is None for h in states):
            raise RuntimeError(
                "no gradient recorded: run forward inside record_hidden_states() with parameters "
                "or input that require grad, then call loss.backward()"
            )
        return torch.stack([h.grad for h in states])

    def _start(self, num_layers: int, with_cell: bool) -> None:
        # Each forward call inside the context replaces what an earlier one left.
        self.hidden = [[] for _ in range(num_layers)]
        self.cell = [[] for _ in range(num_layers)] if with_cell else None

    def _add(self, layer: int, state: State) -> None:
        for tensor in state:
            if tensor.requires_grad:
                tensor.retain_grad()
        self.hidden[layer].append(state[0])
        if self.cell is not None:
            self.cell[layer].append(state[1])


class SequenceModule(nn.Module):
    """A module that runs over sequences, layer by layer, and can keep every state it computes.

    A subclass sets `num_layers` and `carries_cell` (True when the state is an LSTM's (h, c)),
    calls `_start_recording()` at the start of `forward` and hands each new state of layer l to
    the recording it returns: `recording._add(l, state)`.
    """

    num_layers: int = 1
    carries_cell: bool = False

    def __init__(self) -> None:
        super().__init__()
        self._recording: RecordedStates | None = None

    @contextmanager
    def record_hidden_states(self) -> Iterator[RecordedStates]:
        """Keep every state of the forward passes run inside the block (the latest one wins).

            with lstm.record_hidden_states() as states:
                output, _ = lstm(x)
            output.pow(2).sum().backward()
            states.hidden_grads(layer=0)   # (T, B, H): ∂L/∂h_t for every t

        Outside the block nothing is kept, so training pays no memory for it.
        """
        recorded = RecordedStates()
        recorded._start(self.num_layers, with_cell=self.carries_cell)
        previous, self._recording = self._recording, recorded
        try:
            yield recorded
        finally:
            self._recording = previous

    def _start_recording(self) -> RecordedStates | None:
        """The recording this forward pass fills (emptied first), or None outside the block."""
        recording = self._recording
        if recording is not None:
            recording._start(self.num_layers, with_cell=self.carries_cell)
        return recording
