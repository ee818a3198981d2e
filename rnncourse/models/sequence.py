"""Multi-layer recurrent networks over whole sequences: `RNN`, `LSTM`, `GRU`.

A Python loop over time that calls the step functions of `rnncourse.models.cells`. The modules
are drop-ins for `torch.nn.RNN` / `LSTM` / `GRU`: same constructor arguments, same parameter
names and shapes (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `..._l1`, ...), same
`forward(input, hx)` contract, so a state dict loads both ways and outputs agree to float
round-off. What torch's fused kernels cannot do, these can: show every step, and record every
hidden state for diagnostics (`record_hidden_states`).

Layer by layer, as torch computes it: layer l reads the whole output sequence of layer l-1, so its
input projection W_ih x_t + b_ih is one matrix product for all t, hoisted out of the time loop;
only the recurrent part W_hh h_{t-1} + b_hh has to wait for the previous step.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import Tensor

from rnncourse.checks import (
    check_bool,
    check_features,
    check_fraction,
    check_lstm_state,
    check_positive_int,
    check_shape,
    check_tensor_like,
)
from rnncourse.models.cells import (
    get_nonlinearity,
    gru_step_projected,
    lstm_step_projected,
    rnn_step_projected,
)
from rnncourse.models.recording import RecordedStates, SequenceModule, State
from rnncourse.models.weights import register_gate_weights, reset_uniform

__all__ = ["GRU", "LSTM", "RNN", "RecurrentSequence"]


class RecurrentSequence(SequenceModule):
    """What RNN, LSTM and GRU share: parameters, argument checks, the loops over layers and time.

    A subclass sets `num_gates` and `mode` and defines `step`, one time step given the input's
    projection. Parameters of layer l, drawn from U(-1/√H, 1/√H) as in torch.nn:

        weight_ih_l{l} (num_gates·H, I or H), weight_hh_l{l} (num_gates·H, H),
        bias_ih_l{l} (num_gates·H,), bias_hh_l{l} (num_gates·H,)

    The constructor takes torch.nn.LSTM's arguments; bidirectional=True and proj_size > 0 are
    refused.
    """

    num_gates: int = 1
    mode: str = ""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if bidirectional:
            raise ValueError(
                f"bidirectional=True is not supported by rnncourse.models.{name}, which runs one "
                f"direction; use torch.nn.{name} for a bidirectional network"
            )
        if proj_size:
            raise ValueError(
                f"proj_size={proj_size} is not supported by rnncourse.models.{name}; "
                "use torch.nn.LSTM for projected states"
            )
        self.dropout = check_fraction("dropout", dropout)
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.bias = check_bool("bias", bias)
        self.batch_first = check_bool("batch_first", batch_first)
        self.bidirectional = False
        self.proj_size = 0
        if dropout > 0 and num_layers == 1:
            # The warning points at the line that built the module: one frame up, or two when
            # a subclass (RNN) has its own __init__ in between.
            own_init = type(self).__init__ is RecurrentSequence.__init__
            warnings.warn(
                f"dropout={dropout} has no effect with num_layers=1: as in torch.nn, dropout is "
                "applied between layers, after all but the last",
                stacklevel=2 if own_init else 3,
            )
        # Registration order (layer by layer: w_ih, w_hh, b_ih, b_hh) is torch's, so that the same
        # seed draws the same initial weights as the torch.nn module.
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size
            register_gate_weights(
                self, layer_input_size, hidden_size, self.num_gates, bias, f"_l{layer}",
                device=device, dtype=dtype,
            )  # fmt: skip
        self.reset_parameters()

    @property
    def carries_cell(self) -> bool:
        return self.mode == "LSTM"

    def reset_parameters(self) -> None:
        """torch's default: every parameter from U(-1/√H, 1/√H)."""
        reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text

    def layer_parameters(self, layer: int) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer; the biases None if bias=False."""
        return (
            getattr(self, f"weight_ih_l{layer}"),
            getattr(self, f"weight_hh_l{layer}"),
            getattr(self, f"bias_ih_l{layer}"),
            getattr(self, f"bias_hh_l{layer}"),
        )

    def step(
        self, x_projection: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor | None
    ) -> State:
        """One time step of one layer, given x_projection = W_ih x_t + b_ih."""
        raise NotImplementedError

    # ---- argument checks ------------------------------------------------------------------

    def _check_input(self, input: Tensor) -> bool:
        """Validate `input`; True when batched (3-D), False for one unbatched sequence (2-D)."""
        check_tensor_like("input", input, self.weight_ih_l0)
        if input.dim() not in (2, 3):
            dims = "batch, seq_len" if self.batch_first else "seq_len, batch"
            layout = f"({dims}, input_size)"
            raise ValueError(
                f"input must have shape {layout} (batch_first={self.batch_first}) or "
                f"(seq_len, input_size) for one sequence; got a {input.dim()}-D tensor of shape "
                f"{tuple(input.shape)}"
            )
        check_features("input", input, self.input_size)
        time_dim = 1 if (input.dim() == 3 and self.batch_first) else 0
        if input.shape[time_dim] == 0:
            raise ValueError(f"input has seq_len=0 (shape {tuple(input.shape)}); need one step")
        return input.dim() == 3

    def _initial_states(self, hx: object, input: Tensor, batched: bool) -> list[State]:
        """One state tuple per layer, from `hx` or zeros. `input` is time-major here."""
        batch = (input.shape[1],) if batched else ()
        shape = (self.num_layers, *batch, self.hidden_size)
        names = ("hx[0] (h_0)", "hx[1] (c_0)") if self.carries_cell else ("hx",)
        if hx is None:
            parts: tuple[Tensor, ...] = tuple(input.new_zeros(shape) for _ in names)
        else:
            parts = check_lstm_state("hx", hx, "an LSTM") if self.carries_cell else (hx,)
            description = (
                "(num_layers, batch, hidden_size)"
                if batched
                else "(num_layers, hidden_size) for unbatched input"
            )
            for name, part in zip(names, parts, strict=True):
                check_tensor_like(name, part, self.weight_hh_l0)
                check_shape(name, part, shape, description)
        return [tuple(part[layer] for part in parts) for layer in range(self.num_layers)]

    # ---- the computation ------------------------------------------------------------------

    def forward(
        self, input: Tensor, hx: Tensor | tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
        """Run the network over `input`, as torch.nn does.

        input: (L, B, I), or (B, L, I) with batch_first=True, or (L, I) for one sequence.
        hx: initial state (num_layers, B, H), or (num_layers, H) unbatched; zeros by default.
            For an LSTM a tuple (h_0, c_0).
        Returns (output, h_n): output holds h_t of the last layer for every t, shaped like input
        with H features; h_n is the final state of every layer, like hx ((h_n, c_n) for an LSTM).
        """
        batched = self._check_input(input)
        if batched and self.batch_first:
            input = input.transpose(0, 1)  # time-major inside: (L, B, I)
        states = self._initial_states(hx, input, batched)
        recording = self._start_recording()

        layer_input = input
        final_states: list[State] = []
        for layer in range(self.num_layers):
            layer_input, state = self._run_layer(layer, layer_input, states[layer], recording)
            final_states.append(state)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)

        output = layer_input.transpose(0, 1) if (batched and self.batch_first) else layer_input
        final = tuple(torch.stack(parts) for parts in zip(*final_states, strict=True))
        return output, (final if self.carries_cell else final[0])

    def _run_layer(
        self, layer: int, layer_input: Tensor, state: State, recording: RecordedStates | None
    ) -> tuple[Tensor, State]:
        """Layer `layer` over the whole time-major sequence: (every h_t stacked, final state)."""
        weight_ih, weight_hh, bias_ih, bias_hh = self.layer_parameters(layer)
        x_projection = F.linear(layer_input, weight_ih, bias_ih)  # W_ih x_t + b_ih for all t
        outputs = []
        for x_projection_t in x_projection.unbind(0):
            state = self.step(x_projection_t, state, weight_hh, bias_hh)
            if recording is not None:
                recording._add(layer, state)
            outputs.append(state[0])  # the same tensor object that feeds step t+1
        return torch.stack(outputs), state


class RNN(RecurrentSequence):
    """Elman RNN, h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh); a drop-in for `torch.nn.RNN`."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        get_nonlinearity(nonlinearity)  # a ValueError naming the choices, before anything is built
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            device=device, dtype=dtype,
        )  # fmt: skip
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def extra_repr(self) -> str:
        return super().extra_repr() + f", nonlinearity={self.nonlinearity!r}"

    def step(
        self, x_projection: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor | None
    ) -> State:
        return (rnn_step_projected(x_projection, state[0], weight_hh, bias_hh, self.nonlinearity),)


class LSTM(RecurrentSequence):
    """LSTM (gates i, f, g, o; see `lstm_step`); a drop-in for `torch.nn.LSTM` without proj_size."""

    num_gates = 4
    mode = "LSTM"

    def step(
        self, x_projection: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor | None
    ) -> State:
        return lstm_step_projected(x_projection, state, weight_hh, bias_hh)


class GRU(RecurrentSequence):
    """GRU (gates r, z, n; see `gru_step`); a drop-in for `torch.nn.GRU`."""

    num_gates = 3
    mode = "GRU"

    def step(
        self, x_projection: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor | None
    ) -> State:
        return (gru_step_projected(x_projection, state[0], weight_hh, bias_hh),)
