"""minGRU and minLSTM (Feng et al. 2024): gates that read only the input, so time runs in parallel.

A GRU's gates read h_{t-1}, so step t cannot start before step t-1 ends. Drop that dependence and
the update becomes a *linear* recurrence in h with coefficients known in advance:

    minGRU:   z_t = σ(W_z x_t + b_z),  h̃_t = g(W_h x_t + b_h)
              h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t
    minLSTM:  f_t = σ(W_f x_t + b_f),  i_t = σ(W_i x_t + b_i),  h̃_t = g(W_h x_t + b_h)
              f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)
              h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t

with g(x) = x + 1/2 for x ≥ 0 and σ(x) for x < 0 (continuous and positive). Both have the form

    h_t = a_t ⊙ h_{t-1} + b_t,    a_t ∈ (0, 1),  b_t > 0,

whose solution h_t = A_t (h_0 + Σ_{k≤t} b_k / A_k), A_t = Π_{k≤t} a_k, is a prefix sum. In log
space (Heinsen 2023), with a*_t = Σ_{k≤t} log a_k,

    log h_t = a*_t + log( exp(log h_0) + Σ_{k≤t} exp(log b_k − a*_k) ),

a cumulative sum and a cumulative log-sum-exp: O(log T) parallel depth instead of T sequential
steps, and no products that underflow. `blocked_scan` does the same in linear space with blocks
of √T steps (a two-level scan), `chunked_scan` with chunks of 16 steps, each chunk's steps in
one kernel (`rnncourse.models.chunked_scan`), `kernel_scan` as one pass over time in C (the
fastest on a CPU core, see `rnncourse.models.scan_kernel`), and `mode="sequential"` runs step by
step. The parallel scans themselves live in `rnncourse.models.scans`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.checks import (
    check_bool,
    check_choice,
    check_positive_int,
    check_shape,
    check_tensor_like,
)
from rnncourse.models.chunked_scan import chunked_scan
from rnncourse.models.scan_kernel import kernel_scan
from rnncourse.models.scans import (
    BlockedScanFunction,
    blocked_scan,
    linear_recurrence_loop,
    log_space_scan,
)

__all__ = [
    "MODES",
    "BlockedScanFunction",
    "MinGRU",
    "MinLSTM",
    "blocked_scan",
    "chunked_scan",
    "g",
    "kernel_scan",
    "linear_recurrence_loop",
    "log_g",
    "log_space_scan",
]

MODES = ("log_scan", "blocked_scan", "chunked_scan", "kernel_scan", "sequential")


def g(x: Tensor) -> Tensor:
    """g(x) = x + 1/2 for x ≥ 0, σ(x) for x < 0: a positive stand-in for tanh (Feng et al. 2024)."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """log g(x), computed without forming g: log(x + 1/2) for x ≥ 0, −softplus(−x) for x < 0."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


class MinimalRecurrence(nn.Module):
    """What MinGRU and MinLSTM share: one input projection and the scan over time.

    Parameters: `weight_ih` (num_gates·H, I) and `bias_ih` (num_gates·H,), the gates stacked in
    the order of `gate_names`, from U(−1/√H, 1/√H) as torch.nn initialises recurrent layers.
    `compiled=True` compiles the chunked scan's kernels with torch.compile (its first calls
    compile; where no compiler works they run eagerly, with a warning).
    """

    num_gates: int = 2

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        batch_first: bool = False,
        mode: str = "log_scan",
        compiled: bool = False,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.batch_first = check_bool("batch_first", batch_first)
        self.mode = check_choice("mode", mode, MODES)
        self.compiled = check_bool("compiled", compiled)  # the chunked scan's kernels
        factory = {"device": device, "dtype": dtype}
        gates = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gates, input_size, **factory))
        self.bias_ih = nn.Parameter(torch.empty(gates, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / self.hidden_size**0.5
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}, mode={self.mode!r}"
        text += ", compiled=True" if self.compiled else ""
        return text + (", batch_first=True" if self.batch_first else "")

    def coefficients(self, projection: Tensor) -> tuple[Tensor, Tensor]:
        """(a_t, b_t) of h_t = a_t ⊙ h_{t-1} + b_t from the input projection (T, B, gates·H)."""
        raise NotImplementedError

    def log_coefficients(self, projection: Tensor) -> tuple[Tensor, Tensor]:
        """(log a_t, log b_t), computed stably in log space."""
        raise NotImplementedError

    def forward(
        self, input: Tensor, h_0: Tensor | None = None, mode: str | None = None
    ) -> tuple[Tensor, Tensor]:
        """Run over `input` (T, B, I), or (B, T, I) with batch_first; h_0 (B, H), zeros if None.

        `mode` overrides the module's mode for this call: "log_scan" (`log_space_scan`, as in
        Feng et al.), "blocked_scan" (`blocked_scan`), "chunked_scan" (`chunked_scan`),
        "kernel_scan" (`kernel_scan`) or "sequential" (`linear_recurrence_loop`); all give the same
        numbers to float round-off.
        Returns (output with every h_t, shaped like input with H features; h_T of shape (B, H)).
        """
        mode = self.mode if mode is None else check_choice("mode", mode, MODES)
        check_tensor_like("input", input, self.weight_ih)
        if input.dim() != 3 or input.shape[-1] != self.input_size:
            dims = "batch, seq_len" if self.batch_first else "seq_len, batch"
            raise ValueError(
                f"input must have shape ({dims}, input_size) with input_size={self.input_size}, "
                f"got {tuple(input.shape)}"
            )
        if self.batch_first:
            input = input.transpose(0, 1)  # time-major inside
        if h_0 is not None:
            check_tensor_like("h_0", h_0, self.weight_ih)
            check_shape("h_0", h_0, (input.shape[1], self.hidden_size), "(batch, hidden_size)")
        projection = F.linear(input, self.weight_ih, self.bias_ih)  # all gates, all t: one product
        if mode == "log_scan":
            if h_0 is not None and not bool((h_0 > 0).all()):
                raise ValueError(
                    "the log-space scan needs h_0 > 0 (the states of this model are positive); "
                    "pass a positive h_0, e.g. rnncourse.models.minimal.g(x), or use "
                    "mode='chunked_scan', 'blocked_scan' or 'sequential'"
                )
            log_a, log_b = self.log_coefficients(projection)
            log_h_0 = None if h_0 is None else torch.log(h_0)
            output = log_space_scan(log_a, log_b, log_h_0)
        else:
            a, b = self.coefficients(projection)
            if mode == "chunked_scan":
                output = chunked_scan(a, b, h_0, compiled=self.compiled)
            elif mode == "kernel_scan":
                output = kernel_scan(a, b, h_0)
            else:
                scan = blocked_scan if mode == "blocked_scan" else linear_recurrence_loop
                output = scan(a, b, h_0)
        final = output[-1]
        return (output.transpose(0, 1) if self.batch_first else output), final


class MinGRU(MinimalRecurrence):
    """minGRU: h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t, gates from x_t alone (Feng et al. 2024).

    `weight_ih` stacks (W_z; W_h), shape (2H, I); `bias_ih` stacks (b_z; b_h).
    """

    num_gates = 2

    def coefficients(self, projection: Tensor) -> tuple[Tensor, Tensor]:
        gate, candidate = projection.chunk(2, dim=-1)
        z = torch.sigmoid(gate)  # z_t = σ(W_z x_t + b_z)
        return 1 - z, z * g(candidate)  # a_t = 1 − z_t,  b_t = z_t ⊙ h̃_t

    def log_coefficients(self, projection: Tensor) -> tuple[Tensor, Tensor]:
        gate, candidate = projection.chunk(2, dim=-1)
        log_z = -F.softplus(-gate)  # log σ(k) = −softplus(−k)
        log_one_minus_z = -F.softplus(gate)  # log(1 − σ(k)) = −softplus(k)
        return log_one_minus_z, log_z + log_g(candidate)


class MinLSTM(MinimalRecurrence):
    """minLSTM: h_t = f'_t ⊙ h_{t-1} + i'_t ⊙ h̃_t with normalised gates (Feng et al. 2024).

    `weight_ih` stacks (W_f; W_i; W_h), shape (3H, I); `bias_ih` stacks (b_f; b_i; b_h).
    """

    num_gates = 3

    def coefficients(self, projection: Tensor) -> tuple[Tensor, Tensor]:
        forget, input_gate, candidate = projection.chunk(3, dim=-1)
        f, i = torch.sigmoid(forget), torch.sigmoid(input_gate)
        total = f + i
        return f / total, (i / total) * g(candidate)  # a_t = f'_t, b_t = i'_t ⊙ h̃_t

    def log_coefficients(self, projection: Tensor) -> tuple[Tensor, Tensor]:
        forget, input_gate, candidate = projection.chunk(3, dim=-1)
        # With log σ(x) = −softplus(−x): log f' = −log(1 + i/f) = −softplus(log i − log f).
        log_ratio = F.softplus(-forget) - F.softplus(-input_gate)  # log i_t − log f_t
        log_f_prime = -F.softplus(log_ratio)  # log f/(f + i)
        log_i_prime = -F.softplus(-log_ratio)  # log i/(f + i)
        return log_f_prime, log_i_prime + log_g(candidate)
