"""`RecurrentModel`: a recurrent core and a linear readout, the model every chapter and task uses.

    h_t = core(x_t, h_{t-1})          for t = 1 .. T  (RNN, LSTM or GRU, one or more layers)
    y   = W_out h_T + b_out           readout="last": one prediction per sequence, (B, O)
    y_t = W_out h_t + b_out           readout="all":  one prediction per step, (B, T, O)

The core is either the from-scratch module of this package (backend="rnncourse": readable, and
it can record every h_t) or torch.nn's fused one (backend="torch": fast, cuDNN on a GPU). Both have
the same parameter names, so under one seed both start from the same weights and compute the
same function.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor, nn

from rnncourse.checks import (
    check_choice,
    check_features,
    check_positive_int,
    check_tensor_like,
)
from rnncourse.models.recording import RecordedStates
from rnncourse.models.sequence import GRU, LSTM, RNN
from rnncourse.runtime import resolve_device, seeded

__all__ = ["BACKENDS", "CELLS", "READOUTS", "RecurrentModel", "build_recurrent_core", "seeded"]

CELLS = ("rnn_tanh", "rnn_relu", "lstm", "gru")
READOUTS = ("last", "all")
BACKENDS = ("rnncourse", "torch")


def build_recurrent_core(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    backend: str = "rnncourse",
    dropout: float = 0.0,
) -> nn.Module:
    """A batch-first recurrent module: rnncourse's or torch.nn's RNN / LSTM / GRU."""
    check_choice("cell", cell, CELLS)
    check_choice("backend", backend, BACKENDS)
    if backend == "rnncourse":
        rnn, lstm, gru = RNN, LSTM, GRU
    else:
        rnn, lstm, gru = nn.RNN, nn.LSTM, nn.GRU
    common = {"num_layers": num_layers, "batch_first": True, "dropout": dropout}
    if cell == "lstm":
        return lstm(input_size, hidden_size, **common)
    if cell == "gru":
        return gru(input_size, hidden_size, **common)
    return rnn(input_size, hidden_size, nonlinearity=cell.removeprefix("rnn_"), **common)


class RecurrentModel(nn.Module):
    """A recurrent core (`.rnn`) and a linear readout (`.head`); input (B, T, I), batch first.

    Args:
        cell: "rnn_tanh", "rnn_relu", "lstm" or "gru".
        input_size, hidden_size, output_size: I, H and O (keyword-only).
        num_layers: stacked recurrent layers.
        readout: "last" maps h_T to (B, O); "all" maps every h_t to (B, T, O).
        backend: "rnncourse" (from scratch, records states) or "torch" (torch.nn's fused kernels).
        dropout: between recurrent layers, as in torch.nn.
        device: where the model lives; None picks CUDA when present, else the CPU.
        seed: when given, the initial weights depend on it alone (not on the global RNG, which
            is left untouched), and are the same on every device and for both backends.
    """

    def __init__(
        self,
        cell: str = "lstm",
        *,
        input_size: int,
        hidden_size: int,
        output_size: int,
        num_layers: int = 1,
        readout: str = "last",
        backend: str = "rnncourse",
        dropout: float = 0.0,
        device: torch.device | str | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.cell = check_choice("cell", cell, CELLS)
        self.readout = check_choice("readout", readout, READOUTS)
        self.backend = check_choice("backend", backend, BACKENDS)
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.output_size = check_positive_int("output_size", output_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        target = resolve_device(device)
        with seeded(seed):  # drawn on the CPU, then moved: one seed, one model, any device
            self.rnn = build_recurrent_core(
                cell, input_size, hidden_size, num_layers, backend, dropout
            )
            self.head = nn.Linear(hidden_size, output_size)
        self.to(target)

    @property
    def device(self) -> torch.device:
        return self.head.weight.device

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, readout={self.readout!r}, backend={self.backend!r}"

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many numbers the model learns (all of them, or only those with requires_grad)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def forward(
        self,
        x: Tensor,
        hx: Tensor | tuple[Tensor, Tensor] | None = None,
        return_state: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
        """Predictions for x of shape (B, T, I), or (T, I) for one sequence.

        hx: optional initial state of the core, (num_layers, B, H) ((h_0, c_0) for an LSTM).
        Returns (B, O) for readout="last", (B, T, O) for "all" (without B for one sequence);
        with return_state=True also the core's final state, to carry across truncated BPTT chunks.
        """
        check_tensor_like("x", x, self.head.weight)
        if x.dim() not in (2, 3):
            raise ValueError(
                f"x must have shape (batch, seq_len, input_size) or (seq_len, input_size); got a "
                f"{x.dim()}-D tensor of shape {tuple(x.shape)}"
            )
        check_features("x", x, self.input_size)
        output, state = self.rnn(x, hx)  # output: (B, T, H), h_t of the last layer
        features = output[..., -1, :] if self.readout == "last" else output
        prediction = self.head(features)
        return (prediction, state) if return_state else prediction

    @contextlib.contextmanager
    def record_hidden_states(self) -> Iterator[RecordedStates]:
        """The core's `record_hidden_states()` (backend="rnncourse" only)."""
        if self.backend != "rnncourse":
            raise ValueError(
                "record_hidden_states() needs backend='rnncourse': torch.nn's fused kernels do "
                f"not expose the states h_t (this model has backend={self.backend!r})"
            )
        with self.rnn.record_hidden_states() as recorded:
            yield recorded
