"""Recurrent cells written the way the equations read.

Two layers of code:

* step functions (`rnn_step`, `lstm_step`, `gru_step`): pure functions of one input, one state and
  the weights. They are the whole model; everything else is bookkeeping. Each has a `_projected`
  twin that takes the input's projection `W_ih x_t + b_ih` already computed, so a sequence module
  can do that projection for all time steps in one matrix product (as torch's CPU kernel does).
* cell modules (`RNNCell`, `LSTMCell`, `GRUCell`): hold the weights under torch.nn's names and
  shapes (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`), so a state dict loads into
  `torch.nn.RNNCell` / `LSTMCell` / `GRUCell` and back.

Gates are stacked along the first dimension of each weight in torch.nn's order:
LSTM (i, f, g, o), GRU (r, z, n). The step functions work on any leading shape: a batch (B, I)
or a single example (I,).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.checks import (
    check_bool,
    check_features,
    check_lstm_state,
    check_positive_int,
    check_shape,
    check_tensor_like,
)
from rnncourse.models.weights import register_gate_weights, reset_uniform

__all__ = [
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "gru_step",
    "gru_step_projected",
    "lstm_step",
    "lstm_step_projected",
    "rnn_step",
    "rnn_step_projected",
]

NONLINEARITIES: dict[str, Callable[[Tensor], Tensor]] = {"tanh": torch.tanh, "relu": torch.relu}


def get_nonlinearity(nonlinearity: str) -> Callable[[Tensor], Tensor]:
    """torch.tanh or torch.relu by name, or a ValueError that lists the choices."""
    try:
        return NONLINEARITIES[nonlinearity]
    except (KeyError, TypeError):
        raise ValueError(
            f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}"
        ) from None


# --------------------------------------------------------------------------------------------
# Step functions
# --------------------------------------------------------------------------------------------


def rnn_step(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One step of the Elman RNN:

        h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),   φ = tanh or relu.
    """
    return rnn_step_projected(F.linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh, nonlinearity)


def rnn_step_projected(
    x_projection: Tensor,
    h: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """`rnn_step` given `x_projection = W_ih x_t + b_ih`."""
    activation = get_nonlinearity(nonlinearity)
    recurrent = F.linear(h, weight_hh, bias_hh)  # W_hh h_{t-1} + b_hh
    return activation(x_projection + recurrent)  # h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)


def lstm_step(
    x: Tensor,
    state: tuple[Tensor, Tensor],
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One step of the LSTM (Hochreiter and Schmidhuber 1997, with a forget gate), torch's form:

        i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)      input gate
        f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)      forget gate
        g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)   candidate cell
        o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)      output gate
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
        h_t = o_t ⊙ tanh(c_t)

    `state` is (h_{t-1}, c_{t-1}); returns (h_t, c_t).
    """
    return lstm_step_projected(F.linear(x, weight_ih, bias_ih), state, weight_hh, bias_hh)


def lstm_step_projected(
    x_projection: Tensor,
    state: tuple[Tensor, Tensor],
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """`lstm_step` given `x_projection = W_ih x_t + b_ih` (the four gates stacked i, f, g, o)."""
    h, c = state
    gates = x_projection + F.linear(h, weight_hh, bias_hh)  # all four pre-activations at once
    i, f, g, o = gates.chunk(4, dim=-1)
    i = torch.sigmoid(i)  # i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f = torch.sigmoid(f)  # f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g = torch.tanh(g)  # g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    o = torch.sigmoid(o)  # o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c = f * c + i * g  # c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t   (the additive path gradients ride on)
    h = o * torch.tanh(c)  # h_t = o_t ⊙ tanh(c_t)
    return h, c


def gru_step(
    x: Tensor,
    h: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> Tensor:
    """One step of the GRU (Cho et al. 2014), torch's form:

        r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)             reset gate
        z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)             update gate
        n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))  candidate
        h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}
    """
    return gru_step_projected(F.linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh)


def gru_step_projected(
    x_projection: Tensor,
    h: Tensor,
    weight_hh: Tensor,
    bias_hh: Tensor | None = None,
) -> Tensor:
    """`gru_step` given `x_projection = W_ih x_t + b_ih` (the three gates stacked r, z, n)."""
    # The input and recurrent parts stay apart: the reset gate multiplies only the recurrent
    # part of the candidate, W_hn h_{t-1} + b_hn.
    x_r, x_z, x_n = x_projection.chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(h, weight_hh, bias_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)  # r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z = torch.sigmoid(x_z + h_z)  # z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n = torch.tanh(x_n + r * h_n)  # n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
    return (1 - z) * n + z * h  # h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}


# --------------------------------------------------------------------------------------------
# Cell modules
# --------------------------------------------------------------------------------------------


class RecurrentCell(nn.Module):
    """Weights of one recurrent cell with `num_gates` gates, named and shaped as in torch.nn:

        weight_ih (num_gates·H, I), weight_hh (num_gates·H, H),
        bias_ih (num_gates·H,), bias_hh (num_gates·H,)

    all drawn from U(-1/√H, 1/√H). Parameters are registered in torch's order, so under the same
    seed a cell starts with exactly the weights of its torch.nn twin.
    """

    num_gates: int = 1
    mode: str = ""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.bias = check_bool("bias", bias)
        register_gate_weights(
            self, input_size, hidden_size, self.num_gates, bias, device=device, dtype=dtype
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: every parameter from U(-1/√H, 1/√H)."""
        reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        return text if self.bias else text + ", bias=False"

    def _check_input(self, input: Tensor) -> bool:
        """Validate `input`; True when it is batched (B, I), False for a single example (I,)."""
        check_tensor_like("input", input, self.weight_ih)
        if input.dim() not in (1, 2):
            raise ValueError(
                f"input must have shape (batch, input_size) or (input_size,), "
                f"got a {input.dim()}-D tensor of shape {tuple(input.shape)}"
            )
        check_features("input", input, self.input_size)
        return input.dim() == 2

    def _state(self, name: str, value: Tensor | None, input: Tensor) -> Tensor:
        """A state tensor (h or c) of the shape that matches `input`, zeros when not given."""
        batched = input.dim() == 2
        expected = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if value is None:
            return input.new_zeros(expected)
        check_tensor_like(name, value, self.weight_hh)
        description = "(batch, hidden_size)" if batched else "(hidden_size,) for unbatched input"
        check_shape(name, value, expected, description)
        return value


class RNNCell(RecurrentCell):
    """Elman RNN cell, h' = φ(W_ih x + b_ih + W_hh h + b_hh); a drop-in for `torch.nn.RNNCell`."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        get_nonlinearity(nonlinearity)  # fail before allocating anything
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """input (B, I) or (I,); hx (B, H) or (H,), zeros by default; returns h' of hx's shape."""
        self._check_input(input)
        h = self._state("hx", hx, input)
        return rnn_step(
            input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity
        )


class LSTMCell(RecurrentCell):
    """LSTM cell (gates i, f, g, o); a drop-in for `torch.nn.LSTMCell`. See `lstm_step`."""

    num_gates = 4
    mode = "LSTM"

    def _states(self, input: Tensor, hx: tuple[Tensor, Tensor] | None) -> tuple[Tensor, Tensor]:
        """Validate `input` and return (h, c) from `hx`, both zeros when it is None."""
        self._check_input(input)
        if hx is None:
            zeros = self._state("hx[0]", None, input)
            return zeros, zeros
        h, c = check_lstm_state("hx", hx, type(self).__name__)
        return self._state("hx[0] (h_0)", h, input), self._state("hx[1] (c_0)", c, input)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """input (B, I) or (I,); hx = (h, c), each (B, H) or (H,), zeros by default.

        Returns (h', c').
        """
        h, c = self._states(input, hx)
        return lstm_step(input, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(RecurrentCell):
    """GRU cell (gates r, z, n); a drop-in for `torch.nn.GRUCell`. See `gru_step`."""

    num_gates = 3
    mode = "GRU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """input (B, I) or (I,); hx (B, H) or (H,), zeros by default; returns h' of hx's shape."""
        self._check_input(input)
        h = self._state("hx", hx, input)
        return gru_step(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
