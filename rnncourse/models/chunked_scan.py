"""The chunked scan: h_t = a_t ⊙ h_{t-1} + b_t in chunks of C steps, each chunk's C steps in one
kernel.

Time is cut into N chunks of C steps (C = 16 by default), and the recurrence is solved in three
moves, each over all chunks at once:

1. **Summaries** (`chunk_summaries`): every chunk runs from a zero state. What it adds is its
   last local state l_n; what it keeps of the state entering it is P_n = a_1 ⊙ ... ⊙ a_C.
   One pass over a and b.
2. **Across chunks**: the state after chunk n is s_n = P_n ⊙ s_{n-1} + l_n, the same recurrence
   N = T/C steps long, solved by this scan again (chunks of chunks) until one chunk is left.
3. **Sweep** (`chunk_sweep`): every chunk runs again, from the state entering it: h for every
   step. One pass over a, b and h.

A sequence that is not a whole number of chunks is padded with steps a = 1, b = 0, which change
nothing. The scan does about twice the loop's arithmetic in 2·T/C + 2·T/C² + ... operations
instead of T. With `compiled=True`, torch.compile turns each move into one loop over chunks and
channels that runs a chunk's C steps in registers (the steps are unrolled when traced); eagerly,
each move is C operations on strided slices of all chunks, with the same numbers. Nothing is
divided, exponentiated or taken the logarithm of, so any a, of any sign, is fine; products that
underflow go to zero, which is what they are.

The backward pass is the same scan backwards in time. With g_t = ∂L/∂h_t from outside, let
μ_t = a_t ⊙ λ_t be the gradient that step t passes on to h_{t-1}, where λ_t = ∂L/∂h_t through
every later step; then

    μ_t = a_t ⊙ (g_t + μ_{t+1}),  μ_{T+1} = 0,   λ_t = g_t + μ_{t+1},
    ∂L/∂b_t = λ_t,   ∂L/∂a_t = λ_t ⊙ h_{t-1},   ∂L/∂h_0 = μ_1,

a recurrence backwards in time with the same coefficients, chunked in the same three moves
(`gradient_summaries`, `gradient_sweep`); the sweep writes both gradients in its one pass.
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
    "as_channels",
    "check_recurrence_arguments",
    "chunk_summaries",
    "chunk_sweep",
    "chunked_scan",
    "gradient_summaries",
    "gradient_sweep",
    "linear_scan",
    "linear_scan_backward",
]

CHUNK_LENGTH = 16
compiled_once = functools.partial(ElementwiseKernel, dynamic=True)  # one build for all N and D


@compiled_once
def chunk_summaries(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Every chunk from a zero state: (l, P), each (N, D), from a, b of shape (N, C, D):
    l = h_C from h_0 = 0, and P = a_1 ⊙ ... ⊙ a_C."""
    local, product = b[:, 0], a[:, 0]
    for c in range(1, a.shape[1]):
        local = a[:, c] * local + b[:, c]  # l_c = a_c ⊙ l_{c-1} + b_c
        product = product * a[:, c]  # P_c = P_{c-1} ⊙ a_c
    return local, product


@compiled_once
def chunk_sweep(a: Tensor, b: Tensor, entering: Tensor) -> Tensor:
    """Every chunk from the state entering it, entering (N, D): h for every step, (N, C, D)."""
    h, states = entering, []
    for c in range(a.shape[1]):
        h = a[:, c] * h + b[:, c]  # h_c = a_c ⊙ h_{c-1} + b_c
        states.append(h)
    return torch.stack(states, dim=1)


@compiled_once
def gradient_summaries(a: Tensor, grad: Tensor) -> tuple[Tensor, Tensor]:
    """Every chunk backwards from μ = 0 after it: (μ at its first step, P = a_1 ⊙ ... ⊙ a_C)."""
    steps = a.shape[1]
    mu, product = a[:, -1] * grad[:, -1], a[:, -1]
    for c in range(steps - 2, -1, -1):
        mu = a[:, c] * (grad[:, c] + mu)  # μ_c = a_c ⊙ (g_c + μ_{c+1})
        product = product * a[:, c]
    return mu, product


@compiled_once
def gradient_sweep(a: Tensor, grad: Tensor, h: Tensor, h_before: Tensor,
                   entering: Tensor) -> tuple[Tensor, Tensor]:
    """Every chunk backwards from μ entering it from the next chunk, entering (N, D):
    (λ, ∂L/∂a), each (N, C, D); h_before (N, D) is the state before each chunk."""
    steps = a.shape[1]
    mu, totals, grad_a = entering, [None] * steps, [None] * steps
    for c in range(steps - 1, -1, -1):
        total = grad[:, c] + mu  # λ_c = g_c + μ_{c+1}
        grad_a[c] = total * (h[:, c - 1] if c else h_before)  # ∂L/∂a_c = λ_c ⊙ h_{c-1}
        totals[c] = total
        mu = a[:, c] * total  # μ_c = a_c ⊙ λ_c
    return torch.stack(totals, dim=1), torch.stack(grad_a, dim=1)


def _whole_chunks(tensor: Tensor, chunks: int, chunk_length: int, fill: float) -> Tensor:
    """`tensor` (T, D) as (N, C, D), padded at the end with `fill` where T < N·C."""
    padding = chunks * chunk_length - tensor.shape[0]
    if padding:
        tensor = torch.cat((tensor, tensor.new_full((padding, tensor.shape[1]), fill)))
    return tensor.view(chunks, chunk_length, tensor.shape[1])


def linear_scan(a: Tensor, b: Tensor, initial: Tensor | None = None, *,
                chunk_length: int = CHUNK_LENGTH, compiled: bool = False) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for t = 1 .. T, a and b of shape (T, D), h_0 = initial (D,) or
    zeros; plain tensors, no autograd. Returns every h_t, (T, D), by the chunked scan."""
    steps, width = b.shape
    state = b.new_zeros(width) if initial is None else initial
    if chunk_length == 1:  # chunks of one step: the loop
        return torch.stack(_step_by_step(a, b, state))
    chunks = -(-steps // chunk_length)
    a_chunks = _whole_chunks(a, chunks, chunk_length, 1.0)
    b_chunks = _whole_chunks(b, chunks, chunk_length, 0.0)
    if chunks == 1:
        entering = state.unsqueeze(0)
    else:
        local, product = chunk_summaries(a_chunks, b_chunks, compiled=compiled)
        # The state after each chunk: s_n = P_n ⊙ s_{n-1} + l_n, a scan N steps long.
        after = linear_scan(product, local, state, chunk_length=chunk_length, compiled=compiled)
        entering = torch.cat((state.unsqueeze(0), after[:-1]))
    states = chunk_sweep(a_chunks, b_chunks, entering, compiled=compiled)
    return states.view(chunks * chunk_length, width)[:steps]


def linear_scan_backward(a: Tensor, grad: Tensor, states: Tensor, initial: Tensor | None, *,
                         chunk_length: int = CHUNK_LENGTH,
                         compiled: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """(∂L/∂a, ∂L/∂b, ∂L/∂h_0) of h = linear_scan(a, b, initial), given grad = ∂L/∂h and the
    states h it returned, all (T, D), by the backward recurrence of the module docstring."""
    steps, width = grad.shape
    first = grad.new_zeros(width) if initial is None else initial
    chunk_length = max(2, chunk_length)
    chunks = -(-steps // chunk_length)
    a_chunks = _whole_chunks(a, chunks, chunk_length, 1.0)
    grad_chunks = _whole_chunks(grad, chunks, chunk_length, 0.0)
    h_chunks = _whole_chunks(states, chunks, chunk_length, 0.0)
    h_before = torch.cat((first.unsqueeze(0), h_chunks[:-1, -1]))  # the state before each chunk
    zero = grad.new_zeros(1, width)
    if chunks == 1:
        entering = zero
    else:
        mu, product = gradient_summaries(a_chunks, grad_chunks, compiled=compiled)
        # μ entering chunk n from chunk n+1: s_n = P_n ⊙ s_{n+1} + μ_n, a scan N steps long
        # backwards in time (the reversed copies are N·D, a C-th of the data).
        after = linear_scan(product.flip(0), mu.flip(0), chunk_length=chunk_length,
                            compiled=compiled).flip(0)
        entering = torch.cat((after[1:], zero))
    totals, grad_a = gradient_sweep(a_chunks, grad_chunks, h_chunks, h_before, entering,
                                    compiled=compiled)
    totals = totals.view(chunks * chunk_length, width)[:steps]  # λ_t = ∂L/∂b_t
    grad_initial = a[0] * totals[0]  # μ_1 = a_1 ⊙ λ_1
    return grad_a.view(chunks * chunk_length, width)[:steps], totals, grad_initial


def _step_by_step(a: Tensor, b: Tensor, state: Tensor) -> list[Tensor]:
    """h_t = a_t ⊙ h_{t-1} + b_t one step at a time: the list of every h_t."""
    states = []
    for a_t, b_t in zip(a.unbind(0), b.unbind(0), strict=True):
        state = torch.addcmul(b_t, a_t, state)
        states.append(state)
    return states


class ChunkedScanFunction(torch.autograd.Function):
    """h_t = a_t ⊙ h_{t-1} + b_t by `linear_scan`, with the backward `linear_scan_backward`.

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
        grad_a, grad_b, grad_initial = linear_scan_backward(
            a, grad_states.contiguous(), states, initial, **ctx.options)
        return grad_a, grad_b, None if initial is None else grad_initial, None, None


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
    dtypes = {tensor.dtype for tensor in (coefficients, values, initial) if tensor is not None}
    if len(dtypes) > 1:
        raise ValueError(f"coefficients, values and initial must have one dtype, got "
                         f"{', '.join(sorted(str(dtype) for dtype in dtypes))}")
    devices = {str(tensor.device) for tensor in (coefficients, values, initial)
               if tensor is not None}
    if len(devices) > 1:
        raise ValueError(f"coefficients, values and initial must be on one device, got "
                         f"{', '.join(sorted(devices))}")


def as_channels(coefficients: Tensor, values: Tensor,
                initial: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None]:
    """The recurrence over (T, ...) seen as D independent channels: a and b as contiguous (T, D),
    h_0 as (D,) or None. A result (T, D) goes back with `.view(values.shape)`."""
    steps = values.shape[0]
    flat_initial = None if initial is None else initial.reshape(-1)
    return (coefficients.reshape(steps, -1).contiguous(), values.reshape(steps, -1).contiguous(),
            flat_initial)


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
    states = ChunkedScanFunction.apply(*as_channels(coefficients, values, initial), chunk_length,
                                       compiled)
    return states.view(values.shape)
