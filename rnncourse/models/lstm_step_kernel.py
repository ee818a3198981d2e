"""An LSTM step's element-wise work in C (`lstm_step.c`): the fused LSTM's `elementwise="c"`.

After the matrix products, a step of the LSTM is a dozen element-wise operations. Eagerly, each
is a PyTorch kernel of its own, reading and writing memory, with a call from Python. Compiled by
`torch.compile`, they become one kernel, but each call still passes through the compiled
function's Python wrapper and guards (tens of microseconds, of the order of the work itself at
B = 64, H = 256), and inductor computes the concatenated gates with masks. The C functions are
one pass over the step's numbers and one ctypes call of a few microseconds.

`lstm_step_forward_c` and `lstm_step_backward_c` take the arguments of the PyTorch steps in
`rnncourse.models.fused_lstm` (`lstm_cell_forward`, `lstm_cell_backward`) and write the same
numbers: float32 to about 1e-7 (a polynomial e^x, vectorised), float64 with the C library's exp.
The file is built on first use in each process (`rnncourse.models.c_library`);
`lstm_step_kernel_unavailable` says why not where it cannot run.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from rnncourse.models.c_library import address, build_c_library
from rnncourse.models.kernels import ElementwiseKernel

__all__ = ["load_lstm_step_kernel", "lstm_step_backward_c", "lstm_step_forward_c",
           "lstm_step_kernel_unavailable"]

SOURCE = Path(__file__).with_name("lstm_step.c")


@functools.cache
def load_lstm_step_kernel(dtype: torch.dtype) -> ctypes.CDLL | str:
    """The compiled `lstm_step.c` for `dtype` (float32 or float64), built on the first call in
    this process; or, where it cannot be built, the reason."""
    kernel = build_c_library(SOURCE, dtype)
    if isinstance(kernel, str):
        return kernel
    sizes = [ctypes.c_long] * 2  # B, H
    kernel.lstm_step_forward.argtypes = [ctypes.c_void_p] * 8 + [ctypes.c_long] + sizes
    kernel.lstm_step_backward.argtypes = [ctypes.c_void_p] * 9 + sizes
    kernel.lstm_step_forward.restype = kernel.lstm_step_backward.restype = None
    return kernel


def lstm_step_kernel_unavailable(reference: Tensor) -> str | None:
    """None where the C step runs for tensors like `reference`, else why it does not."""
    if reference.device.type != "cpu":
        return f"the C kernel runs on CPUs, not {reference.device.type}"
    kernel = load_lstm_step_kernel(reference.dtype)
    return kernel if isinstance(kernel, str) else None


def _check_contiguous(**tensors: Tensor | None) -> None:
    for name, tensor in tensors.items():
        if tensor is not None and not tensor.is_contiguous():
            raise ValueError(f"the C LSTM step needs contiguous arrays; {name} is not")


def _observed(run: Callable[[], None], function: Callable) -> None:
    # A profiler (rnncourse.bench.lstm_profile) times each call whole, as it does compiled ones.
    if ElementwiseKernel.observer is not None:
        ElementwiseKernel.observer(function, run)
    else:
        run()


def lstm_step_forward_c(pre: Tensor, bias: Tensor | None, c_prev: Tensor, gates: Tensor,
                        c: Tensor, tanh_c: Tensor, h: Tensor, h_next: Tensor | None = None
                        ) -> None:
    """`lstm_cell_forward` in C: from pre = W_ih x_t + W_hh h_{t-1} (B, 4H), writes the gates
    (i, f, g, o) into gates (B, 4H), c_t, tanh c_t and h_t into c, tanh_c and h (B, H), and h_t
    into h_next too unless it is None. All contiguous, but for h_next's rows."""
    _check_contiguous(pre=pre, bias=bias, c_prev=c_prev, gates=gates, c=c, tanh_c=tanh_c, h=h)
    if h_next is not None and (h_next.shape != h.shape or h_next.stride(1) != 1):
        raise ValueError(f"h_next must be {tuple(h.shape)} with contiguous rows; got shape "
                         f"{tuple(h_next.shape)}, strides {h_next.stride()}")
    kernel = load_lstm_step_kernel(gates.dtype)
    if bias is None:
        bias = gates.new_zeros(gates.shape[-1])
    batch, hidden = c.shape
    next_stride = 0 if h_next is None else h_next.stride(0)
    _observed(lambda: kernel.lstm_step_forward(
        address(pre), address(bias), address(c_prev), address(gates), address(c),
        address(tanh_c), address(h), address(h_next), next_stride, batch, hidden),
        lstm_step_forward_c)


def lstm_step_backward_c(grad_output: Tensor, grad_h: Tensor, grad_c: Tensor, gates: Tensor,
                         c_prev: Tensor, tanh_c: Tensor, grad_gates: Tensor,
                         grad_c_prev: Tensor, grad_bias: Tensor | None = None) -> None:
    """`lstm_cell_backward` in C: writes δ_t into grad_gates and ∂L/∂c_{t-1} into grad_c_prev,
    and adds δ_t summed over rows to grad_bias (4H) unless it is None. All contiguous."""
    _check_contiguous(grad_output=grad_output, grad_h=grad_h, grad_c=grad_c, gates=gates,
                      c_prev=c_prev, tanh_c=tanh_c, grad_gates=grad_gates,
                      grad_c_prev=grad_c_prev, grad_bias=grad_bias)
    kernel = load_lstm_step_kernel(gates.dtype)
    batch, hidden = grad_c.shape
    _observed(lambda: kernel.lstm_step_backward(
        address(grad_output), address(grad_h), address(grad_c), address(gates), address(c_prev),
        address(tanh_c), address(grad_gates), address(grad_c_prev), address(grad_bias), batch,
        hidden), lstm_step_backward_c)
