"""What the layer-normalised and the batch-normalised LSTM share: the step with normalised gate
pre-activations (`normalized_lstm_step`), the cell's weights and states, and the loop over time.
The normalisations themselves are in `layer_norm_lstm.py` and `batch_norm_lstm.py`; the overview
is in `normalized.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from rnncourse.checks import check_bool, check_lstm_state
from rnncourse.models.cells import LSTMCell
from rnncourse.models.recording import SequenceModule

__all__ = ["NormalizedLSTMCell", "NormalizedLSTMSequence", "normalized_lstm_step"]


def normalized_lstm_step(
    input_part: Tensor,
    recurrent_part: Tensor,
    c: Tensor,
    bias: Tensor | None,
    normalize_cell: Callable[[Tensor], Tensor],
) -> tuple[Tensor, Tensor]:
    """One LSTM step given the normalised gate pre-activations (gates stacked i, f, g, o):

        (i, f, g, o) = input_part + recurrent_part + bias
        c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
        h_t = σ(o) ⊙ tanh(normalize_cell(c_t))

    `input_part` is N_x(W_ih x_t), `recurrent_part` is N_h(W_hh h_{t-1}), both (..., 4H);
    `bias` is b_ih + b_hh or None; `normalize_cell` maps c_t to N_c(c_t). Returns (h_t, c_t).
    """
    gates = input_part + recurrent_part
    if bias is not None:
        gates = gates + bias
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # c_t = σ(f) c_{t-1} + σ(i) tanh(g)
    h = torch.sigmoid(o) * torch.tanh(normalize_cell(c))  # h_t = σ(o) tanh(N_c(c_t))
    return h, c


class NormalizedLSTMCell(LSTMCell):
    """The weights and states of an LSTM cell (torch.nn's names, so a seed draws the same weights
    as `torch.nn.LSTMCell`) and three normalisations, added by the subclass as `norm_ih` (4H),
    `norm_hh` (4H) and `norm_cell` (H). The subclass's `forward` calls `normalized_lstm_step`.
    """

    def reset_parameters(self) -> None:
        """The weights as torch's LSTMCell (U(-1/√H, 1/√H)), the normalisations as they start."""
        super().reset_parameters()
        for name in ("norm_ih", "norm_hh", "norm_cell"):
            norm = getattr(self, name, None)  # absent while the base class is being built
            if norm is not None:
                norm.reset_parameters()

    def _bias(self) -> Tensor | None:
        return self.bias_ih + self.bias_hh if self.bias else None


class NormalizedLSTMSequence(SequenceModule):
    """One layer of a normalised LSTM over whole sequences, with torch.nn.LSTM's contract:

    forward(input, hx) with input (L, B, I), or (B, L, I) with batch_first=True, returns
    (output, (h_n, c_n)): output holds h_t for every t, h_n and c_n are (1, B, H).
    The cell is `self.cell`; `record_hidden_states()` keeps every h_t and c_t, as for
    rnncourse's LSTM, so `rnncourse.training.diagnostics` measures gradients through time here too.
    """

    num_layers = 1
    carries_cell = True

    def __init__(self, cell: NormalizedLSTMCell, batch_first: bool) -> None:
        super().__init__()
        self.cell = cell
        self.input_size = cell.input_size
        self.hidden_size = cell.hidden_size
        self.batch_first = check_bool("batch_first", batch_first)

    def extra_repr(self) -> str:
        return f"batch_first={self.batch_first}"

    def _step(self, x: Tensor, state: tuple[Tensor, Tensor], step: int) -> tuple[Tensor, Tensor]:
        return self.cell(x, state)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if not isinstance(input, Tensor) or input.dim() != 3:
            layout = "(batch, seq_len, input_size)" if self.batch_first else (
                "(seq_len, batch, input_size)")
            shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"input must have shape {layout}, got {shape}")
        if self.batch_first:
            input = input.transpose(0, 1)  # time-major inside: (L, B, I)
        if input.shape[0] == 0:
            raise ValueError("input has seq_len=0; need at least one step")
        if hx is None:
            state = None
        else:
            owner = f"{type(self).__name__}, each (1, batch, hidden_size)"
            h_0, c_0 = check_lstm_state("hx", hx, owner)
            state = (h_0[0], c_0[0])
        recording = self._start_recording()
        outputs = []
        for step, x_t in enumerate(input.unbind(0)):
            state = self._step(x_t, state, step)
            if recording is not None:
                recording._add(0, state)
            outputs.append(state[0])
        output = torch.stack(outputs)
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, (state[0].unsqueeze(0), state[1].unsqueeze(0))
