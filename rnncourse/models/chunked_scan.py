"""The chunked scan: h_t = a_t ⊙ h_{t-1} + b_t in chunks of C steps, each chunk's C steps in one
kernel.

Time is cut into N chunks of C steps (C = 16 by default), and the recurrence is solved in three
moves, each over all chunks at once:

1. **Summaries** (`chunk_summaries`): every chunk runs from a zero state. What it adds is its
   last local state l_n; what it keeps of the state entering it is P_n = a_1 ⊙ ... ⊙ a_C.
   One pass over a and b.
2. **Across chunks**: the state after chunk n is s_n = P_n ⊙ s_{n-1} + l_n, the same recurrence
   N = T/C steps long, solved by this scan again (chunks of chunks) until it is shorter than
   two chunks, and then step by step.
3. **Sweep** (`chunk_sweep`): every chunk runs again, from the state entering it: h for every
   step. One pass over a, b and h.

A scan trades sequential depth for work: this one does about twice the loop's arithmetic in
2·T/C + (T/C)/C + ... operations instead of T. With `compiled=True`, torch.compile turns each
move into one loop over chunks and channels that runs a chunk's C steps in registers (the steps
are unrolled when traced); eagerly, each move is C operations on strided slices of all chunks,
with the same numbers. Nothing is divided, exponentiated or taken the logarithm of, so any a,
of any sign, is fine; products that underflow go to zero, which is what they are.

The backward pass is the same scan backwards in time: with g_t = ∂L/∂h_t from outside, the
total gradient λ_t = ∂L/∂h_t through every later step is

    λ_t = g_t + a_{t+1} ⊙ λ_{t+1},   λ_{T+1} = 0,

and then ∂L/∂b_t = λ_t, ∂L/∂a_t = λ_t ⊙ h_{t-1}, ∂L/∂h_0 = a_1 ⊙ λ_1.
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnncourse.checks import check_bool, check_positive_int
from rnncourse.models.kernels import ElementwiseKernel

__all__ = [
    "CHUNK_LENGTH",
    "ChunkedScanFunction",
    "check_recurrence_arguments",
    "chunk_summaries",
    "chunk_sweep",
    "chunked_scan",
    "linear_scan",
]

CHUNK_LENGTH = 16


@functools.partial(ElementwiseKernel, dynamic=True)  # one compilation for every N and D
def chunk_summaries(a: Tensor, b: Tensor, reverse: bool) -> tuple[Tensor, Tensor]:
    """Every chunk from a zero state: (l, P), each (N, D), from a, b of shape (N, C, D).

    Forward (reverse=False): l = h_C from h_0 = 0, P = a_1 ⊙ ... ⊙ a_C; reverse: the same
    with the steps taken from c = C down to 1 (h_c = a_c ⊙ h_{c+1} + b_c).
    """
    steps = range(a.shape[1] - 1, -1, -1) if reverse else range(a.shape[1])
    first, *rest = steps
    local, product = b[:, first], a[:, first]
    for c in rest:
        local = a[:, c] * local + b[:, c]  # l_c = a_c ⊙ l_{c-1} + b_c
        product = product * a[:, c]  # P_c = P_{c-1} ⊙ a_c
    return local, product


@functools.partial(ElementwiseKernel, dynamic=True)
def chunk_sweep(a: Tensor, b: Tensor, entering: Tensor, reverse: bool) -> Tensor:
    """Every chunk from the state entering it, entering (N, D): h for every step, (N, C, D)."""
    steps = range(a.shape[1] - 1, -1, -1) if reverse else range(a.shape[1])
    h, states = entering, [None] * a.shape[1]
    for c in steps:
        h = a[:, c] * h + b[:, c]  # h_c = a_c ⊙ h_{c-1} + b_c
        states[c] = h
    return torch.stack(states, dim=1)


def _step_by_step(a: Tensor, b: Tensor, state: Tensor, steps: range, out: Tensor) -> Tensor:
    """h_t = a_t ⊙ (previous h) + b_t for t in `steps`, written into out[t]; the last h."""
    for t in steps:
        state = torch.addcmul(b[t], a[t], state, out=out[t])
    return state


def linear_scan(
    a: Tensor, b: Tensor, initial: Tensor | None = None, *, reverse: bool = False,
    chunk_length: int = CHUNK_LENGTH, compiled: bool = False,
) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for t = 1 .. T (reverse: h_t = a_t ⊙ h_{t+1} + b_t for t = T
    .. 1), a and b of shape (T, D), h_0 (or h_{T+1}) = initial (D,) or zeros; plain tensors, no
    autograd. Returns every h_t, (T, D), by the chunked scan of this module's docstring."""
    steps, width = b.shape
    state = b.new_zeros(width) if initial is None else initial
    chunks = steps // chunk_length
    if chunks < 2 or chunk_length == 1:  # shorter than two chunks: step by step
        out = torch.empty_like(b)
        _step_by_step(a, b, state, range(steps - 1, -1, -1) if reverse else range(steps), out)
        return out
    # Whole chunks cover the first N·C steps (forward) or the last N·C steps (reverse); the
    # remaining T − N·C steps, fewer than C, run step by step after them.
    covered = chunks * chunk_length
    body = slice(steps - covered, steps) if reverse else slice(0, covered)
    rest = range(body.start - 1, -1, -1) if reverse else range(body.stop, steps)

    def chunked(tensor: Tensor) -> Tensor:
        return tensor[body].view(chunks, chunk_length, width)  # (N, C, D), no copy

    a_chunks, b_chunks = chunked(a), chunked(b)
    local, product = chunk_summaries(a_chunks, b_chunks, reverse, compiled=compiled)
    # The state after each chunk: s_n = P_n ⊙ s_{n-1} + l_n, a scan N steps long.
    after = linear_scan(product, local, state, reverse=reverse, chunk_length=chunk_length,
                        compiled=compiled)
    if reverse:  # the state entering chunk n comes from chunk n + 1
        entering, state = torch.cat((after[1:], state.unsqueeze(0))), after[0]
    else:
        entering, state = torch.cat((state.unsqueeze(0), after[:-1])), after[-1]
    swept = chunk_sweep(a_chunks, b_chunks, entering, reverse, compiled=compiled)
    if not rest:  # whole chunks only: the sweep's result holds every h_t
        return swept.view(steps, width)
    out = torch.empty_like(b)
    chunked(out).copy_(swept)
    _step_by_step(a, b, state, rest, out)
    return out


class ChunkedScanFunction(torch.autograd.Function):
    """h_t = a_t ⊙ h_{t-1} + b_t by `linear_scan`, with the backward of the module docstring.

    forward(a (T, D), b (T, D), initial (D,) or None, chunk_length, compiled) -> h (T, D)
    """

    @staticmethod
    def forward(ctx, a, b, initial, chunk_length, compiled):  # noqa: D102
        states = linear_scan(a, b, initial, chunk_length=chunk_length, compiled=compiled)
        ctx.save_for_backward(a, states, initial)
        ctx.options = {"chunk_length": chunk_length, "compiled": compiled}
        return states

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_states):  # noqa: D102
        a, states, initial = ctx.saved_tensors
        # λ_t = g_t + a_{t+1} ⊙ λ_{t+1}: the same scan backwards, coefficients one step later.
        next_a = torch.empty_like(a)
        next_a[:-1] = a[1:]
        next_a[-1] = 0  # λ_{T+1} = 0: any value will do
        total = linear_scan(next_a, grad_states.contiguous(), reverse=True, **ctx.options)
        grad_a = torch.empty_like(a)  # ∂L/∂a_t = λ_t ⊙ h_{t-1}
        torch.mul(total[1:], states[:-1], out=grad_a[1:])
        if initial is None:
            grad_a[0] = 0
            grad_initial = None
        else:
            torch.mul(total[0], initial, out=grad_a[0])
            grad_initial = a[0] * total[0]  # ∂L/∂h_0 = a_1 ⊙ λ_1
        return grad_a, total, grad_initial, None, None  # ∂L/∂b_t = λ_t


def check_recurrence_arguments(coefficients: Tensor, values: Tensor,
                               initial: Tensor | None) -> None:
    """ValueErrors for a, b and h_0 of h_t = a_t ⊙ h_{t-1} + b_t that do not fit together."""
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


def chunked_scan(
    coefficients: Tensor,
    values: Tensor,
    initial: Tensor | None = None,
    chunk_length: int = CHUNK_LENGTH,
    *,
    compiled: bool = False,
) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for all t (time-major, dim 0) by the chunked scan.

    Same arguments and result as `linear_recurrence_loop`: coefficients a and values b (T, ...),
    initial h_0 (...) or None for zeros; returns h_1 .. h_T. `compiled`: each chunk kernel
    compiled by torch.compile (its first calls compile; where that fails, the kernels run
    eagerly, with a warning). Any signs are allowed. Differentiable once.
    """
    check_recurrence_arguments(coefficients, values, initial)
    check_positive_int("chunk_length", chunk_length)
    check_bool("compiled", compiled)
    shape = values.shape
    flat_initial = None if initial is None else initial.reshape(-1)
    states = ChunkedScanFunction.apply(
        coefficients.reshape(shape[0], -1).contiguous(), values.reshape(shape[0], -1).contiguous(),
        flat_initial, chunk_length, compiled,
    )
    return states.view(shape)
