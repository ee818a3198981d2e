"""Normalised LSTMs: layer normalisation (Ba et al. 2016) and recurrent batch normalisation
(Cooijmans et al. 2016), written the way the equations read.

Both normalise the two pre-activation streams of the gates separately, and the cell state
before its tanh; only the statistics differ:

    (i, f, g, o) = N_x(W_ih x_t) + N_h(W_hh h_{t-1}) + b_ih + b_hh
    c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
    h_t = σ(o) ⊙ tanh(N_c(c_t))

* layer norm: N(a) = γ ⊙ (a - μ)/sqrt(σ² + ε) + β with μ, σ² the mean and variance of the
  features of one example at one step; the same at training and test time. The gates are
  normalised as one vector of 4H features, as in Ba et al. (their eq. 20).
* recurrent batch norm: μ_t, σ²_t are the mean and variance of each feature over the batch at
  step t: separate statistics per time step, kept as running averages for evaluation (steps past
  `max_steps` use those of the last step). γ starts at 0.1, not 1, so that tanh and σ see small
  inputs and their gradients do not vanish at the start (Cooijmans et al., section 4).

The gate normalisations have no shift β: b_ih + b_hh already is one. Weights carry torch.nn's
names and order (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`), so a seed draws the same
weights as `torch.nn.LSTMCell`, and `initialize_recurrent_weights` and `set_forget_gate_bias`
work on these cells as on the plain ones.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.models.cells import RecurrentCell, check_bool, check_positive_int
from rnncourse.models.recurrent_model import RecurrentModel
from rnncourse.models.sequence import RecordedStates

__all__ = [
    "NORMALIZATIONS",
    "BatchNormLSTM",
    "BatchNormLSTMCell",
    "LayerNorm",
    "LayerNormLSTM",
    "LayerNormLSTMCell",
    "RecurrentBatchNorm",
    "layer_norm",
    "normalized_lstm_model",
    "normalized_lstm_step",
]

NORMALIZATIONS = ("none", "layer", "batch")


def _check_positive_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _check_fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


# --------------------------------------------------------------------------------------------
# Layer normalisation
# --------------------------------------------------------------------------------------------


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
        self.eps = _check_positive_number("eps", eps)
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


# --------------------------------------------------------------------------------------------
# Recurrent batch normalisation
# --------------------------------------------------------------------------------------------


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
        self.eps = _check_positive_number("eps", eps)
        self.momentum = _check_fraction("momentum", momentum)
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


# --------------------------------------------------------------------------------------------
# The step both cells share
# --------------------------------------------------------------------------------------------


def normalized_lstm_step(
    input_part: Tensor,
    recurrent_part: Tensor,
    c: Tensor,
    bias: Tensor | None,
    normalize_cell,
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


class _NormalizedLSTMCell(RecurrentCell):
    """The weights of an LSTM cell (torch.nn's names) and three normalisations, added by the
    subclass as `norm_ih` (4H), `norm_hh` (4H) and `norm_cell` (H)."""

    num_gates = 4
    mode = "LSTM"

    def reset_parameters(self) -> None:
        """The weights as torch's LSTMCell (U(-1/√H, 1/√H)), the normalisations as they start."""
        super().reset_parameters()
        for name in ("norm_ih", "norm_hh", "norm_cell"):
            norm = getattr(self, name, None)  # absent while the base class is being built
            if norm is not None:
                norm.reset_parameters()

    def _bias(self) -> Tensor | None:
        return self.bias_ih + self.bias_hh if self.bias else None

    def _states(self, input: Tensor, hx: tuple[Tensor, Tensor] | None) -> tuple[Tensor, Tensor]:
        self._check_input(input)
        if hx is None:
            zeros = self._state("hx[0]", None, input)
            return zeros, zeros
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(
                f"hx must be a tuple (h_0, c_0) of two tensors for a {type(self).__name__}"
            )
        return self._state("hx[0] (h_0)", hx[0], input), self._state("hx[1] (c_0)", hx[1], input)


class LayerNormLSTMCell(_NormalizedLSTMCell):
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


class BatchNormLSTMCell(_NormalizedLSTMCell):
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


# --------------------------------------------------------------------------------------------
# Sequence modules
# --------------------------------------------------------------------------------------------


class _NormalizedLSTM(nn.Module):
    """One layer of a normalised LSTM over whole sequences, with torch.nn.LSTM's contract:

    forward(input, hx) with input (L, B, I), or (B, L, I) with batch_first=True, returns
    (output, (h_n, c_n)): output holds h_t for every t, h_n and c_n are (1, B, H).
    The cell is `self.cell`; `record_hidden_states()` keeps every h_t and c_t, as for
    rnncourse's LSTM, so `rnncourse.diagnostics` measures gradients through time here too.
    """

    num_layers = 1

    def __init__(self, cell: _NormalizedLSTMCell, batch_first: bool) -> None:
        super().__init__()
        self.cell = cell
        self.input_size = cell.input_size
        self.hidden_size = cell.hidden_size
        self.batch_first = check_bool("batch_first", batch_first)
        self._recording: RecordedStates | None = None

    def extra_repr(self) -> str:
        return f"batch_first={self.batch_first}"

    def _step(self, x: Tensor, state: tuple[Tensor, Tensor], step: int) -> tuple[Tensor, Tensor]:
        return self.cell(x, state)

    @contextlib.contextmanager
    def record_hidden_states(self) -> Iterator[RecordedStates]:
        """Keep every (h_t, c_t) of the forward passes run inside the block (the latest wins)."""
        recorded = RecordedStates()
        recorded._start(1, with_cell=True)
        previous, self._recording = self._recording, recorded
        try:
            yield recorded
        finally:
            self._recording = previous

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
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("hx must be a tuple (h_0, c_0), each (1, batch, hidden_size)")
            state = (hx[0][0], hx[1][0])
        recording = self._recording
        if recording is not None:
            recording._start(1, with_cell=True)
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


class LayerNormLSTM(_NormalizedLSTM):
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


class BatchNormLSTM(_NormalizedLSTM):
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


# --------------------------------------------------------------------------------------------
# A classifier or regressor with a normalised core
# --------------------------------------------------------------------------------------------


def normalized_lstm_model(
    normalization: str,
    *,
    input_size: int,
    hidden_size: int,
    output_size: int,
    max_steps: int | None = None,
    readout: str = "last",
    backend: str = "rnncourse",
    device: torch.device | str | None = None,
    seed: int | None = None,
) -> RecurrentModel:
    """A `RecurrentModel` whose LSTM core is plain ("none"), layer-normalised ("layer") or
    batch-normalised ("batch", which needs `max_steps`, the longest training sequence).

    Under one seed the three start from the same LSTM weights and the same readout, so a
    comparison between them measures the normalisation alone. `backend` ("rnncourse" or
    "torch", the fused kernel) applies to the plain LSTM; the normalised cores are this module's.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"normalization must be one of {', '.join(map(repr, NORMALIZATIONS))}; "
            f"got {normalization!r}"
        )
    if normalization == "batch" and max_steps is None:
        raise ValueError("normalization='batch' needs max_steps (statistics per time step)")
    model = RecurrentModel(
        "lstm", input_size=input_size, hidden_size=hidden_size, output_size=output_size,
        readout=readout, backend=backend, device=device, seed=seed,
    )  # fmt: skip
    if normalization == "none":
        return model
    # The same seed as the model's own core: the LSTM weights are drawn identically.
    seeded = torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext()
    with seeded:
        if seed is not None:
            torch.manual_seed(seed)
        if normalization == "layer":
            core = LayerNormLSTM(input_size, hidden_size, batch_first=True)
        else:
            core = BatchNormLSTM(input_size, hidden_size, max_steps, batch_first=True)
    model.rnn = core.to(model.device)
    return model
