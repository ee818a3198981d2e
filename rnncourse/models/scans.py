"""Ways to solve the linear recurrence h_t = a_t ⊙ h_{t-1} + b_t over all t (time-major, dim 0).

    linear_recurrence_loop   one step at a time, each step an autograd node (the reference)
    blocked_scan             a two-level scan in linear space with blocks of √T steps
    log_space_scan           the closed form in log space (Heinsen 2023; Feng et al. 2024)
    chunked_scan             chunks of C steps, each chunk's steps in one kernel (chunked_scan.py)

The solution is a prefix product and a prefix sum, h_t = A_t (h_0 + Σ_{k≤t} b_k / A_k) with
A_t = Π_{k≤t} a_k, and steps compose associatively, (a_2, b_2) ∘ (a_1, b_1) = (a_2 a_1,
a_2 b_1 + b_2), so a parallel scan needs O(log T) rounds instead of T steps.

Why the log-space scan is slow on a CPU: torch's CPU kernels for cumulative operations
(`cumsum`, `logcumsumexp`) run a scalar loop along time for each channel, about 5 ns per element
for `cumsum` and about 30 ns for `logcumsumexp`, which takes an exponential and a logarithm per
element, where the loop's `addcmul` is vectorised across channels. Autograd's backward of
`logcumsumexp` costs two to three more of them. Here the backward is written out in linear
space (the reverse chunked scan), which removes the second cost; the first is the kernel's. The
log-space form is needed only by closed forms that divide by the products A_k: scans that
multiply by them (blocked, chunked) cannot overflow for a_t ∈ (0, 1).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnncourse.checks import check_positive_int
from rnncourse.models.chunked_scan import check_recurrence_arguments, linear_scan_backward

__all__ = [
    "BlockedScanFunction",
    "LogSpaceScanFunction",
    "blocked_scan",
    "linear_recurrence_loop",
    "log_space_scan",
]


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
    check_recurrence_arguments(coefficients, values, initial)
    if block_length is not None:
        check_positive_int("block_length", block_length)
    return BlockedScanFunction.apply(coefficients, values, initial, block_length)


class LogSpaceScanFunction(torch.autograd.Function):
    """`log_space_scan`'s forward in log space, its backward written out in linear space.

    With λ_t = ∂L/∂h_t through every later step (the reverse scan λ_t = g_t + a_{t+1} λ_{t+1},
    `linear_scan_backward`):

        ∂L/∂log b_t = λ_t ⊙ b_t,   ∂L/∂log a_t = λ_t ⊙ a_t ⊙ h_{t-1},   ∂L/∂log h_0 = a_1 λ_1 h_0.
    """

    @staticmethod
    def forward(ctx, log_coefficients, log_values, log_initial):  # noqa: D102
        a_star = torch.cumsum(log_coefficients, dim=0)  # log A_t = Σ_{k≤t} log a_k
        terms = log_values - a_star  # log(b_k / A_k)
        if log_initial is not None:
            # h_0 enters as one more term with A_0 = 1, before all the others.
            terms = torch.cat((log_initial.unsqueeze(0), terms), dim=0)
            log_sums = torch.logcumsumexp(terms, dim=0)[1:]  # log(h_0 + Σ_{k≤t} b_k / A_k)
        else:
            log_sums = torch.logcumsumexp(terms, dim=0)  # log(Σ_{k≤t} b_k / A_k)
        states = torch.exp(a_star + log_sums)  # h_t = A_t (h_0 + Σ_{k≤t} b_k / A_k)
        ctx.save_for_backward(log_coefficients, log_values, log_initial, states)
        return states

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_states):  # noqa: D102
        log_coefficients, log_values, log_initial, states = ctx.saved_tensors
        steps = states.shape[0]

        def flat(tensor: Tensor) -> Tensor:
            return tensor.reshape(steps, -1).contiguous()

        initial = None if log_initial is None else log_initial.exp().reshape(-1)
        grad_a, grad_b, grad_initial = linear_scan_backward(
            flat(log_coefficients.exp()), flat(grad_states), flat(states), initial)
        # The chain rule through the exponentials: ∂L/∂log x = x ⊙ ∂L/∂x.
        grad_log_coefficients = grad_a.view_as(states) * log_coefficients.exp()
        grad_log_values = grad_b.view_as(states) * log_values.exp()
        grad_log_initial = (None if log_initial is None
                            else grad_initial.view_as(log_initial) * log_initial.exp())
        return grad_log_coefficients, grad_log_values, grad_log_initial


def log_space_scan(
    log_coefficients: Tensor, log_values: Tensor, log_initial: Tensor | None = None
) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for all t at once, from log a_t, log b_t and log h_0 (time-major).

        a*_t = Σ_{k≤t} log a_k                                   (a cumulative sum)
        log h_t = a*_t + logcumsumexp_k(log b_k − a*_k)_t        (with h_0 as a term k = 0)

    log_coefficients, log_values: (T, ...); log_initial: (...) or None for h_0 = 0.
    Returns h_1 .. h_T, shape (T, ...). Needs a_t > 0, b_t > 0 and h_0 > 0 (or None).
    Differentiable once (the backward is `LogSpaceScanFunction`'s).
    """
    check_recurrence_arguments(log_coefficients, log_values, log_initial)
    return LogSpaceScanFunction.apply(log_coefficients, log_values, log_initial)
