"""The weights of a recurrent layer under torch.nn's names and shapes, drawn as torch draws them.

With G gate blocks (RNN 1, GRU 3, LSTM 4) and H units, one layer holds

    weight_ih (G·H, I), weight_hh (G·H, H), bias_ih (G·H,), bias_hh (G·H,),

all from U(-1/√H, 1/√H). Registered in torch's order, so under one seed the cells of
`cells.py` and the layers of `sequence.py` start with exactly the weights of their torch.nn
twins, and state dicts load both ways.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["register_gate_weights", "reset_uniform"]


def register_gate_weights(
    module: nn.Module,
    input_size: int,
    hidden_size: int,
    num_gates: int,
    bias: bool,
    suffix: str = "",
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> None:
    """Register one layer's weights, its `num_gates` gates stacked along the first dimension:

        weight_ih{suffix} (G·H, I), weight_hh{suffix} (G·H, H),
        bias_ih{suffix} (G·H,), bias_hh{suffix} (G·H,)   (None with bias=False, as in torch.nn)

    in this order, torch's, so that `reset_uniform` draws them as torch.nn does. They are
    allocated, not initialised.
    """
    gates = num_gates * hidden_size

    def parameter(*shape: int) -> nn.Parameter:
        return nn.Parameter(torch.empty(*shape, device=device, dtype=dtype))

    module.register_parameter(f"weight_ih{suffix}", parameter(gates, input_size))
    module.register_parameter(f"weight_hh{suffix}", parameter(gates, hidden_size))
    module.register_parameter(f"bias_ih{suffix}", parameter(gates) if bias else None)
    module.register_parameter(f"bias_hh{suffix}", parameter(gates) if bias else None)


def reset_uniform(module: nn.Module, hidden_size: int) -> None:
    """torch's default for recurrent layers: every parameter of `module` from U(-1/√H, 1/√H)."""
    bound = 1.0 / math.sqrt(hidden_size)
    for parameter in module.parameters():
        nn.init.uniform_(parameter, -bound, bound)
