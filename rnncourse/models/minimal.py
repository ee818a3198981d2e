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
of √T steps (a two-level scan, fast on a CPU), and `mode="sequential"` runs step by step.
"""

from __future__ import annotations

import math

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

__all__ = [
    "MODES",
    "BlockedScanFunction",
    "MinGRU",
    "MinLSTM",
    "blocked_scan",
    "g",
    "linear_recurrence_loop",
    "log_g",
    "log_space_scan",
]

MODES = ("log_scan", "blocked_scan", "sequential")


def g(x: Tensor) -> Tensor:
    """g(x) = x + 1/2 for x ≥ 0, σ(x) for x < 0: a positive stand-in for tanh (Feng et al. 2024)."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_g(x: Tensor) -> Tensor:
    """log g(x), computed without forming g: log(x + 1/2) for x ≥ 0, −softplus(−x) for x < 0."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


def linear_recurrence_loop(
    coefficients: Tensor, values: Tensor, initial: Tensor | None = None
) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for t = 1 .. T, one step at a time (time-major, dim 0).

    coefficients a and values b: (T, ...); initial h_0: (...), zeros when None.
    Returns h_1 .. h_T, shape (T, ...).
    """
    h = torch.zeros_like(values[0]) if initial is None else initial
    states = []
    for a_t, b_t in zip(coefficients.unbind(0), values.unbind(0), strict=True):
        h = torch.addcmul(b_t, a_t, h)  # h_t = a_t ⊙ h_{t-1} + b_t
        states.append(h)
    return torch.stack(states)


def _two_level_scan(
    coefficients: Tensor, values: Tensor, initial: Tensor | None, block_length: int | None
) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t by a two-level (blocked) scan; plain tensors, no autograd.

    Time is cut into N blocks of C ≈ √T steps. (1) Every block runs from a zero state, all blocks
    at once: C steps, each on N slices, giving the local states l and the running products
    P_c = Π_{k≤c} a_k of each block. (2) The state entering each block follows from the previous
    block's last l and P: N tiny steps. (3) h = l + P ⊙ (entering state), one operation.
    Sequential depth C + N ≈ 2√T instead of T; work about three times the loop's.
    """
    steps, rest = coefficients.shape[0], coefficients.shape[1:]
    block = block_length or max(1, math.isqrt(steps))
    num_blocks = -(-steps // block)
    padding = num_blocks * block - steps
    if padding:  # identity steps (a = 1, b = 0) at the end leave every h_t unchanged
        coefficients = torch.cat((coefficients, coefficients.new_ones(padding, *rest)))
        values = torch.cat((values, values.new_zeros(padding, *rest)))
    # (C, N, ...): row c holds step c of every block, so one operation advances all blocks.
    a = coefficients.reshape(num_blocks, block, *rest).transpose(0, 1).contiguous()
    b = values.reshape(num_blocks, block, *rest).transpose(0, 1).contiguous()
    local = torch.empty_like(b)  # l_c: the block's state after step c, from a zero start
    products = torch.empty_like(a)  # P_c = a_1 ⊙ ... ⊙ a_c within the block
    local[0], products[0] = b[0], a[0]
    for c in range(1, block):
        torch.addcmul(b[c], a[c], local[c - 1], out=local[c])  # l_c = a_c ⊙ l_{c-1} + b_c
        torch.mul(products[c - 1], a[c], out=products[c])  # P_c = P_{c-1} ⊙ a_c
    entering = torch.empty_like(local[0])  # (N, ...): the state before each block
    state = values.new_zeros(rest) if initial is None else initial
    for n in range(num_blocks):
        entering[n] = state
        state = torch.addcmul(local[-1, n], products[-1, n], state)  # s_n = l_C + P_C ⊙ s_{n-1}
    states = local.addcmul_(products, entering)  # h = l + P ⊙ (state entering the block)
    return states.transpose(0, 1).reshape(num_blocks * block, *rest)[:steps]


class BlockedScanFunction(torch.autograd.Function):
    """h_t = a_t ⊙ h_{t-1} + b_t by `_two_level_scan`, with the backward written out.

    The backward of a linear recurrence is the same recurrence run backwards in time: with
    g_t = ∂L/∂h_t from outside, the total gradient λ_t = ∂L/∂h_t (through every later step) is

        λ_t = g_t + a_{t+1} ⊙ λ_{t+1},   λ_{T+1} = 0,

    another scan; then ∂L/∂b_t = λ_t, ∂L/∂a_t = λ_t ⊙ h_{t-1}, ∂L/∂h_0 = a_1 ⊙ λ_1.
    """

    @staticmethod
    def forward(ctx, coefficients, values, initial, block_length):  # noqa: D102
        states = _two_level_scan(coefficients, values, initial, block_length)
        ctx.save_for_backward(coefficients, states, initial)
        ctx.block_length = block_length
        return states

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states):  # noqa: D102
        coefficients, states, initial = ctx.saved_tensors
        # a_{t+1} for t = 1 .. T (the last one multiplies λ_{T+1} = 0, so any value will do).
        next_coefficients = torch.cat((coefficients[1:], torch.zeros_like(coefficients[:1])))
        total = _two_level_scan(  # λ, computed from t = T down to 1
            next_coefficients.flip(0), grad_states.flip(0), None, ctx.block_length
        ).flip(0)
        first = torch.zeros_like(states[0]) if initial is None else initial
        previous = torch.cat((first.unsqueeze(0), states[:-1]))  # h_0 .. h_{T-1}
        grad_initial = coefficients[0] * total[0] if initial is not None else None
        return total * previous, total, grad_initial, None


def blocked_scan(
    coefficients: Tensor,
    values: Tensor,
    initial: Tensor | None = None,
    block_length: int | None = None,
) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for all t (time-major, dim 0) by a two-level blocked scan.

    Any signs are allowed (no logarithms). Sequential depth ≈ 2√T (blocks of `block_length`
    steps, √T by default) instead of T; the backward pass is the reverse scan. Same arguments
    and result as `linear_recurrence_loop`.
    """
    if coefficients.shape != values.shape:
        raise ValueError(
            f"coefficients and values must have the same shape, got {tuple(coefficients.shape)} "
            f"and {tuple(values.shape)}"
        )
    if coefficients.dim() == 0 or coefficients.shape[0] == 0:
        raise ValueError("coefficients need a time dimension (dim 0) of at least one step")
    if initial is not None and initial.shape != values.shape[1:]:
        raise ValueError(
            f"initial must have shape {tuple(values.shape[1:])} (one step), "
            f"got {tuple(initial.shape)}"
        )
    if block_length is not None:
        check_positive_int("block_length", block_length)
    return BlockedScanFunction.apply(coefficients, values, initial, block_length)


def log_space_scan(
    log_coefficients: Tensor, log_values: Tensor, log_initial: Tensor | None = None
) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for all t at once, from log a_t, log b_t and log h_0 (time-major).

        a*_t = Σ_{k≤t} log a_k                                   (a cumulative sum)
        log h_t = a*_t + logcumsumexp_k(log b_k − a*_k)_t        (with h_0 as a term k = 0)

    log_coefficients, log_values: (T, ...); log_initial: (...) or None for h_0 = 0.
    Returns h_1 .. h_T, shape (T, ...). Needs a_t > 0, b_t > 0 and h_0 > 0 (or None).
    """
    a_star = torch.cumsum(log_coefficients, dim=0)  # log A_t = Σ_{k≤t} log a_k
    terms = log_values - a_star  # log(b_k / A_k)
    if log_initial is not None:
        # h_0 enters as one more term with A_0 = 1, before all the others.
        terms = torch.cat((log_initial.unsqueeze(0), terms), dim=0)
        log_sums = torch.logcumsumexp(terms, dim=0)[1:]  # log(h_0 + Σ_{k≤t} b_k / A_k)
    else:
        log_sums = torch.logcumsumexp(terms, dim=0)  # log(Σ_{k≤t} b_k / A_k)
    return torch.exp(a_star + log_sums)  # h_t = A_t (h_0 + Σ_{k≤t} b_k / A_k)


class MinimalRecurrence(nn.Module):
    """What MinGRU and MinLSTM share: one input projection and the scan over time.

    Parameters: `weight_ih` (num_gates·H, I) and `bias_ih` (num_gates·H,), the gates stacked in
    the order of `gate_names`, from U(−1/√H, 1/√H) as torch.nn initialises recurrent layers.
    """

    num_gates: int = 2

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        batch_first: bool = False,
        mode: str = "log_scan",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.batch_first = check_bool("batch_first", batch_first)
        self.mode = check_choice("mode", mode, MODES)
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
        Feng et al.), "blocked_scan" (`blocked_scan`) or "sequential" (`linear_recurrence_loop`);
        all three give the same numbers to float round-off. Returns (output with every h_t,
        shaped like input with H features; h_T of shape (B, H)).
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
                    "mode='blocked_scan' or 'sequential'"
                )
            log_a, log_b = self.log_coefficients(projection)
            log_h_0 = None if h_0 is None else torch.log(h_0)
            output = log_space_scan(log_a, log_b, log_h_0)
        else:
            a, b = self.coefficients(projection)
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
