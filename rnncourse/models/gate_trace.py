"""Looking inside gated recurrent networks: their gate activations over a sequence.

    trace = record_gates(model, inputs)   # an LSTM's i, f, g, o and c_t, or a GRU's r, z, n
    trace.gates["f"]                      # (B, T, H): the forget gate at every step

The gates are recomputed from the states the model's own forward pass produced (recorded with
`record_hidden_states()`), so they are exactly the gates that made those states.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.models.sequence import GRU, LSTM, RecurrentSequence

__all__ = ["GateTrace", "record_gates"]

GATED_MODES = ("LSTM", "GRU")


# ----------------------------------------------------------------------------------------------
# Gate activations over a sequence


@dataclass
class GateTrace:
    """The gates and states of one layer over a sequence, each (B, T, H), on the CPU.

    `gates` holds an LSTM's i, f, g, o (g is the candidate cell, tanh) or a GRU's r, z, n
    (n is the candidate state, tanh), as computed at step t from x_t and h_{t-1}. `hidden`
    is h_t and `cell` is c_t (None for a GRU).
    """

    kind: str  # "LSTM" or "GRU"
    gates: dict[str, Tensor]
    hidden: Tensor
    cell: Tensor | None

    @property
    def seq_len(self) -> int:
        return self.hidden.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.hidden.shape[2]


def _gated_core(model: nn.Module) -> nn.Module:
    """The LSTM or GRU inside `model` (its `.rnn`), or `model` itself."""
    core = getattr(model, "rnn", model)
    mode = getattr(core, "mode", None)
    if mode not in GATED_MODES or not hasattr(core, "weight_hh_l0"):
        raise TypeError(
            "model must be an LSTM or GRU sequence module (rnncourse or torch.nn), or a model "
            f"whose .rnn is one; got {type(core).__name__}"
        )
    if getattr(core, "bidirectional", False) or getattr(core, "proj_size", 0):
        raise ValueError("record_gates supports one direction and no proj_size")
    return core


def _as_rnncourse(core: nn.Module) -> RecurrentSequence:
    """`core` itself when it is rnncourse's; else its rnncourse twin with the same weights
    (torch.nn's fused kernels do not expose the state at each step)."""
    if isinstance(core, RecurrentSequence):
        return core
    twin_class = LSTM if core.mode == "LSTM" else GRU
    weight = core.weight_hh_l0
    twin = twin_class(
        core.input_size, core.hidden_size, core.num_layers, bias=core.bias,
        batch_first=core.batch_first, device=weight.device, dtype=weight.dtype,
    )  # fmt: skip
    twin.load_state_dict(core.state_dict())
    return twin


@torch.no_grad()
def record_gates(model: nn.Module, inputs: Tensor, *, layer: int = 0) -> GateTrace:
    """Run `model` on `inputs` and return the gate activations of one layer at every step.

    `model` is an LSTM or GRU (rnncourse's or torch.nn's) or a model whose `.rnn` is one, such
    as `RecurrentModel`. `inputs` is laid out as the core expects: (B, T, I) when it is batch
    first, (T, B, I) otherwise, or (T, I) for one sequence (then B = 1). The sequence starts
    from the zero state. For an LSTM the gates are

        i_t, f_t, o_t = σ(W_i· x_t + b_i· + W_h· h_{t-1} + b_h·),   g_t = tanh(...),

    and for a GRU r_t, z_t = σ(...), n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn)).
    """
    core = _as_rnncourse(_gated_core(model))
    if not isinstance(inputs, Tensor) or inputs.dim() not in (2, 3):
        raise ValueError("inputs must be a tensor of shape (B, T, I), (T, B, I) or (T, I)")
    if not -core.num_layers <= layer < core.num_layers:
        bounds = f"[{-core.num_layers}, {core.num_layers - 1}]"
        raise ValueError(f"layer must be in {bounds}, got {layer}")
    layer = layer % core.num_layers
    weight_ih = core.weight_ih_l0
    inputs = inputs.to(device=weight_ih.device, dtype=weight_ih.dtype)
    if inputs.dim() == 2:
        inputs = inputs.unsqueeze(1 if not core.batch_first else 0)  # one sequence: B = 1

    was_training = core.training
    core.eval()  # no dropout between layers: the trace shows the model as it predicts
    try:
        with core.record_hidden_states() as recorded:
            core(inputs)
    finally:
        core.train(was_training)

    hidden = torch.stack(recorded.hidden[layer])  # (T, B, H): h_1 .. h_T
    # The recorded states are time-major, (T, B, H); so is everything computed from here on.
    time_major_inputs = inputs.transpose(0, 1) if core.batch_first else inputs
    layer_input = time_major_inputs if layer == 0 else torch.stack(recorded.hidden[layer - 1])
    previous = torch.cat([torch.zeros_like(hidden[:1]), hidden[:-1]])  # h_0 = 0 .. h_{T-1}
    weight_ih, weight_hh, bias_ih, bias_hh = core.layer_parameters(layer)
    from_input = F.linear(layer_input, weight_ih, bias_ih)  # W_ih x_t + b_ih, all gates, all t
    from_state = F.linear(previous, weight_hh, bias_hh)  # W_hh h_{t-1} + b_hh

    if core.mode == "LSTM":
        i, f, g, o = (from_input + from_state).chunk(4, dim=-1)
        gates = {"i": torch.sigmoid(i), "f": torch.sigmoid(f), "g": torch.tanh(g),
                 "o": torch.sigmoid(o)}  # fmt: skip
        cell = torch.stack(recorded.cell[layer])
    else:
        x_r, x_z, x_n = from_input.chunk(3, dim=-1)
        h_r, h_z, h_n = from_state.chunk(3, dim=-1)
        r = torch.sigmoid(x_r + h_r)
        gates = {"r": r, "z": torch.sigmoid(x_z + h_z), "n": torch.tanh(x_n + r * h_n)}
        cell = None

    def batch_first(tensor: Tensor) -> Tensor:
        return tensor.transpose(0, 1).detach().cpu()

    return GateTrace(
        kind=core.mode,
        gates={name: batch_first(value) for name, value in gates.items()},
        hidden=batch_first(hidden),
        cell=batch_first(cell) if cell is not None else None,
    )
