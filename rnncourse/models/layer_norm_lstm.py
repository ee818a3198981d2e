"""The layer-normalised LSTM (Ba, Kiros and Hinton 2016): `layer_norm` and `LayerNorm`, the cell
`LayerNormLSTMCell` and the layer over sequences `LayerNormLSTM`. Statistics are those of one
example at one step, so training and evaluation compute the same function. Overview:
`normalized.py`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.checks import check_bool, check_positive_int, check_positive_number
from rnncourse.models.normalized_lstm import (
    NormalizedLSTMCell,
    NormalizedLSTMSequence,
    normalized_lstm_step,
)

__all__ = ["LayerNorm", "LayerNormLSTM", "LayerNormLSTMCell", "layer_norm"]


def layer_norm(
    x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """Layer normalisation over the last dimension (Ba, Kiros and Hinton 2016):

        μ = mean_j a_j,   σ² = mean_j (a_j - μ)²,   LN(a) = γ ⊙ (a - μ) / sqrt(σ² + ε) + β

    The variance is the biased one (divided by the number of features), as in
    `torch.nn.functional.layer_norm`. `weight` is γ and `bias` is β; None leaves them out.
    """
    mean = x.mean(dim=-1, keepdim=True)  # μ
    variance = (x - mean).pow(2).mean(dim=-1, keepdim=True)  # σ², biased
    normalized = (x - mean) * torch.rsqrt(variance + eps)  # (a - μ) / sqrt(σ² + ε)
    if weight is not None:
        normalized = normalized * weight  # γ ⊙ ...
    if bias is not None:
        normalized = normalized + bias  # ... + β
    return normalized


class LayerNorm(nn.Module):
    """`layer_norm` with learned γ (`weight`, ones) and β (`bias`, zeros) over the last dim.

    A drop-in for `torch.nn.LayerNorm(num_features, eps, elementwise_affine, bias)`: same
    parameter names and shapes, so state dicts load both ways.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.num_features = check_positive_int("num_features", num_features)
        self.eps = check_positive_number("eps", eps)
        self.elementwise_affine = check_bool("elementwise_affine", elementwise_affine)
        with_shift = elementwise_affine and check_bool("bias", bias)
        factory = {"device": device, "dtype": dtype}
        weight = nn.Parameter(torch.empty(num_features, **factory)) if elementwise_affine else None
        shift = nn.Parameter(torch.empty(num_features, **factory)) if with_shift else None
        self.register_parameter("weight", weight)  # γ
        self.register_parameter("bias", shift)  # β
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ = 1, β = 0: at the start, LN only centres and scales."""
        if self.weight is not None:
            nn.init.ones_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.num_features:
            raise ValueError(
                f"input has {x.shape[-1]} features in its last dimension, expected "
                f"num_features={self.num_features}"
            )
        # `layer_norm` above, computed by torch's fused kernel (the same numbers, twice as fast
        # inside a Python loop over time steps).
        return F.layer_norm(x, (self.num_features,), self.weight, self.bias, self.eps)


class LayerNormLSTMCell(NormalizedLSTMCell):
    """Layer-normalised LSTM cell (Ba et al. 2016):

        (i, f, g, o) = LN_x(W_ih x_t) + LN_h(W_hh h_{t-1}) + b_ih + b_hh
        c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g),   h_t = σ(o) ⊙ tanh(LN_c(c_t))

    LN_x and LN_h normalise all 4H pre-activations of one example together (gain γ, no shift);
    LN_c has a gain and a shift. Works on a batch (B, I) or one example (I,).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        eps: float = 1e-5,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        factory = {"device": device, "dtype": dtype}
        gates = 4 * hidden_size
        self.norm_ih = LayerNorm(gates, eps, bias=False, **factory)
        self.norm_hh = LayerNorm(gates, eps, bias=False, **factory)
        self.norm_cell = LayerNorm(hidden_size, eps, **factory)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """input (B, I) or (I,); hx = (h, c), zeros by default. Returns (h', c')."""
        h, c = self._states(input, hx)
        input_part = self.norm_ih(F.linear(input, self.weight_ih))  # LN_x(W_ih x_t)
        recurrent_part = self.norm_hh(F.linear(h, self.weight_hh))  # LN_h(W_hh h_{t-1})
        return normalized_lstm_step(input_part, recurrent_part, c, self._bias(), self.norm_cell)


class LayerNormLSTM(NormalizedLSTMSequence):
    """A layer-normalised LSTM layer over sequences (see `LayerNormLSTMCell`)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        batch_first: bool = False,
        eps: float = 1e-5,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        cell = LayerNormLSTMCell(input_size, hidden_size, bias, eps, device=device, dtype=dtype)
        super().__init__(cell, batch_first)
