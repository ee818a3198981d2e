"""The recurrent batch-normalised LSTM (Cooijmans et al. 2016): `RecurrentBatchNorm`, with
statistics per time step, the cell `BatchNormLSTMCell` and the layer over sequences
`BatchNormLSTM`. Overview: `normalized.py`.
"""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.checks import (
    check_bool,
    check_fraction,
    check_positive_int,
    check_positive_number,
)
from rnncourse.models.normalized_lstm import (
    NormalizedLSTMCell,
    NormalizedLSTMSequence,
    normalized_lstm_step,
)

__all__ = ["BatchNormLSTM", "BatchNormLSTMCell", "RecurrentBatchNorm"]


class RecurrentBatchNorm(nn.Module):
    """Batch normalisation with separate statistics per time step (Cooijmans et al. 2016):

        BN_t(a) = γ ⊙ (a - μ_t) / sqrt(σ²_t + ε) + β

    Training: μ_t, σ²_t are the mean and (biased) variance of each feature over the batch at
    step t, and the running averages of step t are updated, as torch.nn.BatchNorm1d does:
    running ← (1 - momentum) running + momentum · batch statistic (the variance unbiased).
    Evaluation: the running averages of step t. Steps t ≥ max_steps share the statistics of
    the last step, max_steps - 1. γ (`weight`) is shared over time and starts at `gamma`;
    β (`bias`) is shared too, and left out with shift=False.
    """

    def __init__(
        self,
        num_features: int,
        max_steps: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        gamma: float = 0.1,
        shift: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.num_features = check_positive_int("num_features", num_features)
        self.max_steps = check_positive_int("max_steps", max_steps)
        self.eps = check_positive_number("eps", eps)
        self.momentum = check_fraction("momentum", momentum)
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real):
            raise TypeError(f"gamma must be a number, got {type(gamma).__name__}")
        self.gamma = float(gamma)
        self.shift = check_bool("shift", shift)
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(num_features, **factory))
        if shift:
            self.bias = nn.Parameter(torch.empty(num_features, **factory))
        else:
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", torch.zeros(max_steps, num_features, **factory))
        self.register_buffer("running_var", torch.ones(max_steps, num_features, **factory))
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        self.running_mean.zero_()
        self.running_var.fill_(1.0)

    def reset_parameters(self) -> None:
        """γ = `gamma` (0.1 by default), β = 0, and fresh statistics (mean 0, variance 1)."""
        self.reset_running_stats()
        nn.init.constant_(self.weight, self.gamma)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, max_steps={self.max_steps}, eps={self.eps}, "
            f"momentum={self.momentum}, shift={self.shift}"
        )

    def forward(self, x: Tensor, step: int) -> Tensor:
        """Normalise x (batch, num_features) at time step `step` (0-based)."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be a non-negative int, got {step!r}")
        if x.dim() != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"input must have shape (batch, num_features={self.num_features}), "
                f"got {tuple(x.shape)}"
            )
        slot = min(step, self.max_steps - 1)  # past max_steps: the statistics of the last step
        if self.training and x.shape[0] < 2:
            raise ValueError(
                "batch normalisation in training mode needs a batch of at least 2 examples to "
                f"estimate statistics, got batch={x.shape[0]}; call .eval() to use the running "
                "statistics"
            )
        # torch's fused kernel computes BN_t(a) = γ (a - μ_t)/sqrt(σ²_t + ε) + β: in training
        # with the batch's μ_t, σ²_t, updating row `slot` of the running averages in place;
        # in evaluation with that row.
        return F.batch_norm(
            x, self.running_mean[slot], self.running_var[slot], self.weight, self.bias,
            training=self.training, momentum=self.momentum, eps=self.eps,
        )  # fmt: skip


class BatchNormLSTMCell(NormalizedLSTMCell):
    """Batch-normalised LSTM cell (Cooijmans et al. 2016):

        (i, f, g, o) = BN_t(W_ih x_t; γ_x) + BN_t(W_hh h_{t-1}; γ_h) + b_ih + b_hh
        c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g),   h_t = σ(o) ⊙ tanh(BN_t(c_t; γ_c, β_c))

    with statistics per time step t (see `RecurrentBatchNorm`) and every γ starting at `gamma`
    (0.1). The step index must be passed to `forward`. Needs a batch (B, I).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        max_steps: int,
        bias: bool = True,
        gamma: float = 0.1,
        eps: float = 1e-5,
        momentum: float = 0.1,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.max_steps = check_positive_int("max_steps", max_steps)
        common = {"max_steps": max_steps, "eps": eps, "momentum": momentum, "gamma": gamma,
                  "device": device, "dtype": dtype}
        gates = 4 * hidden_size
        self.norm_ih = RecurrentBatchNorm(gates, shift=False, **common)
        self.norm_hh = RecurrentBatchNorm(gates, shift=False, **common)
        self.norm_cell = RecurrentBatchNorm(hidden_size, shift=True, **common)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None, step: int = 0
    ) -> tuple[Tensor, Tensor]:
        """input (B, I); hx = (h, c), zeros by default; `step` is t, 0-based. Returns (h', c')."""
        h, c = self._states(input, hx)
        if input.dim() != 2:
            raise ValueError(
                f"input must have shape (batch, input_size): batch normalisation needs a batch, "
                f"got shape {tuple(input.shape)}"
            )
        input_part = self.norm_ih(F.linear(input, self.weight_ih), step)  # BN_t(W_ih x_t)
        recurrent_part = self.norm_hh(F.linear(h, self.weight_hh), step)  # BN_t(W_hh h_{t-1})
        return normalized_lstm_step(
            input_part, recurrent_part, c, self._bias(), lambda cell: self.norm_cell(cell, step)
        )


class BatchNormLSTM(NormalizedLSTMSequence):
    """A recurrent batch-normalised LSTM layer over sequences (see `BatchNormLSTMCell`):
    step t of every sequence uses the statistics of step t."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        max_steps: int,
        bias: bool = True,
        batch_first: bool = False,
        gamma: float = 0.1,
        eps: float = 1e-5,
        momentum: float = 0.1,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        cell = BatchNormLSTMCell(
            input_size, hidden_size, max_steps, bias, gamma, eps, momentum,
            device=device, dtype=dtype,
        )  # fmt: skip
        super().__init__(cell, batch_first)

    def _step(self, x: Tensor, state: tuple[Tensor, Tensor], step: int) -> tuple[Tensor, Tensor]:
        return self.cell(x, state, step)
