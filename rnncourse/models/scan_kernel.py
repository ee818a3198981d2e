"""The kernel scan: h_t = a_t ⊙ h_{t-1} + b_t as one pass over time in C (`scan_kernel.c`).

On one CPU core the scans of `scans.py` and `chunked_scan.py` do not win by parallel work: there
is none to fill. They win by running the loop's T steps in a few large operations, so that the
loop's fixed cost per step (Python, dispatch, autograd) is paid a few times instead of T times.
A loop compiled whole removes that cost with the least memory traffic of all: the forward pass
reads a and b and writes h once, the backward pass reads a, ∂L/∂h and h and writes the two
gradients once, the same bytes as the bench's memory floor. It is a scan in the sense of
`jax.lax.scan` (a loop over time compiled as one), not a parallel one, and on a GPU it would
leave the machine as idle as the loop does; there, and wherever it cannot run, `kernel_scan`
runs `chunked_scan` instead.

The C file is compiled on first use in each process, once for float32 and once for float64, and
loaded with ctypes (`rnncourse.models.c_library`). Where there is no compiler, or compiling fails,
`kernel_scan` falls back, with a warning once; `scan_kernel_path` says which implementation a
call takes.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnncourse.models.c_library import address, build_c_library
from rnncourse.models.chunked_scan import (
    as_channels,
    check_recurrence_arguments,
    chunked_scan,
)
from rnncourse.models.kernels import warn_at_caller

__all__ = ["KernelScanFunction", "kernel_scan", "load_scan_kernel", "scan_kernel_path"]

SOURCE = Path(__file__).with_name("scan_kernel.c")


@functools.cache
def load_scan_kernel(dtype: torch.dtype) -> ctypes.CDLL | str:
    """The compiled `scan_kernel.c` for `dtype` (float32 or float64), built on the first call in
    this process (see `rnncourse.models.c_library`); or, where it cannot be built, the reason."""
    kernel = build_c_library(SOURCE, dtype)
    if isinstance(kernel, str):
        return kernel
    sizes = [ctypes.c_long] * 2  # T, D
    kernel.scan_forward.argtypes = [ctypes.c_void_p] * 4 + sizes
    kernel.scan_backward.argtypes = [ctypes.c_void_p] * 7 + sizes
    kernel.scan_forward.restype = kernel.scan_backward.restype = None
    return kernel


def scan_kernel_path(reference: Tensor) -> str:
    """"C kernel" where `kernel_scan` runs the kernel for tensors like `reference`, else
    "chunked scan (why)"."""
    if reference.device.type != "cpu":
        return f"chunked scan (the C kernel runs on CPUs, not {reference.device.type})"
    kernel = load_scan_kernel(reference.dtype)
    return "C kernel" if not isinstance(kernel, str) else f"chunked scan ({kernel})"


class KernelScanFunction(torch.autograd.Function):
    """h_t = a_t ⊙ h_{t-1} + b_t by `scan_forward`, with the backward `scan_backward`.

    forward(a (T, D), b (T, D), initial (D,)), all contiguous on the CPU, -> h (T, D); anything
    else is refused before C sees it (C reads exactly these arrays, from host memory).
    """

    @staticmethod
    def forward(ctx, a, b, initial):  # noqa: D102
        _check_kernel_arguments(a, b, initial)
        kernel = load_scan_kernel(a.dtype)
        steps, width = a.shape
        h = torch.empty_like(b)
        kernel.scan_forward(address(a), address(b), address(initial), address(h), steps,
                            width)
        ctx.save_for_backward(a, h, initial)
        return h

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h):  # noqa: D102
        a, h, initial = ctx.saved_tensors
        grad_h = grad_h.contiguous()
        grad_a, grad_b = torch.empty_like(a), torch.empty_like(a)
        grad_initial = torch.empty_like(initial)
        steps, width = a.shape
        load_scan_kernel(a.dtype).scan_backward(
            address(a), address(grad_h), address(h), address(initial), address(grad_a),
            address(grad_b), address(grad_initial), steps, width)
        return grad_a, grad_b, grad_initial


def _check_kernel_arguments(a: Tensor, b: Tensor, initial: Tensor) -> None:
    path = scan_kernel_path(a)
    if path != "C kernel":
        raise ValueError(f"KernelScanFunction cannot run here: kernel_scan would run the {path}")
    if a.dim() != 2 or b.shape != a.shape or initial.shape != a.shape[1:]:
        raise ValueError(f"KernelScanFunction needs a and b of shape (T, D) and initial (D,); got "
                         f"{tuple(a.shape)}, {tuple(b.shape)} and {tuple(initial.shape)}")
    for name, tensor in (("b", b), ("initial", initial)):
        if tensor.device.type != "cpu" or tensor.dtype != a.dtype:
            raise ValueError(f"KernelScanFunction needs {name} as a {a.dtype} CPU tensor, like "
                             f"a; got {tensor.dtype} on {tensor.device}")
    if not (a.is_contiguous() and b.is_contiguous() and initial.is_contiguous()):
        raise ValueError("KernelScanFunction needs contiguous a, b and initial")


_warned: set[str] = set()


def kernel_scan(coefficients: Tensor, values: Tensor, initial: Tensor | None = None) -> Tensor:
    """h_t = a_t ⊙ h_{t-1} + b_t for all t (time-major, dim 0) by the C kernel, one pass each way.

    Same arguments and result as `chunked_scan`: coefficients a and values b (T, ...), initial
    h_0 (...) or None for zeros; returns h_1 .. h_T. Where the kernel cannot run (see
    `scan_kernel_path`), `chunked_scan` computes the same, with a warning the first time.
    Differentiable once.
    """
    check_recurrence_arguments(coefficients, values, initial)
    path = scan_kernel_path(values)
    if path != "C kernel":
        if path not in _warned:
            _warned.add(path)
            warn_at_caller(f"kernel_scan runs the {path}")
        return chunked_scan(coefficients, values, initial)
    if initial is None:  # the kernel reads h_0 as an array
        initial = values.new_zeros(values.shape[1:])
    a, b, flat_initial = as_channels(coefficients, values, initial)
    return KernelScanFunction.apply(a, b, flat_initial.contiguous()).view(values.shape)
