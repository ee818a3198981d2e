"""An LSTM step's element-wise work in C (`lstm_step.c`): the fused LSTM's `elementwise="c"`.

After the matrix products, a step of the LSTM is a dozen element-wise operations. Eagerly, each
is a PyTorch kernel of its own, reading and writing memory, with a call from Python. Compiled by
`torch.compile`, they become one kernel, but each call still passes through the compiled
function's Python wrapper and guards (about a hundred microseconds per call when measured on a
2-core AMD EPYC, of the order of the work itself at B = 64, H = 256), and inductor computes the
concatenated gates with masks. The C functions are one pass over the step's numbers and one
ctypes call (a few microseconds there).

`lstm_step_forward_c` and `lstm_step_backward_c` take the arguments of the PyTorch steps in
`rnncourse.models.lstm_cell_steps` (`lstm_cell_forward`, `lstm_cell_backward`) and write the same
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
           "lstm_step_kernel_unavailable", "trusted_lstm_steps"]

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


def _checked_kernel(batch_size: int, hidden_size: int, reference: Tensor,
                    **arrays: tuple[Tensor | None, tuple[int, ...]]) -> ctypes.CDLL:
    """The kernel for `reference`'s dtype, once every array is a contiguous CPU tensor of that
    dtype and its expected shape (name=(tensor or None, shape)). C reads and writes exactly
    those shapes, so anything else would be read or written out of bounds: refused, by name."""
    reason = lstm_step_kernel_unavailable(reference)
    if reason is not None:
        raise ValueError(f"no C LSTM step for these tensors: {reason}")
    for name, (tensor, shape) in arrays.items():
        if tensor is None:
            continue
        dtype = torch.float64 if name == "grad_bias" else reference.dtype
        if not isinstance(tensor, Tensor) or tensor.device.type != "cpu" or tensor.dtype != dtype:
            described = (f"{tensor.dtype} on {tensor.device}" if isinstance(tensor, Tensor)
                         else type(tensor).__name__)
            raise ValueError(f"the C LSTM step needs {name} as a {dtype} CPU tensor; got "
                             f"{described}")
        if tuple(tensor.shape) != shape:
            raise ValueError(f"the C LSTM step needs {name} of shape {shape} (B = {batch_size}, "
                             f"H = {hidden_size}); got {tuple(tensor.shape)}")
        rows_only = name == "h_next"  # rows may lie apart (beside x_{t+1}), their entries not
        if (tensor.stride(1) != 1) if rows_only else not tensor.is_contiguous():
            raise ValueError(f"the C LSTM step needs contiguous arrays; {name} is not")
    return load_lstm_step_kernel(reference.dtype)


def _observed(run: Callable[[], None], function: Callable) -> None:
    # A profiler (rnncourse.bench.lstm_profile) times each call whole, as it does compiled ones.
    if ElementwiseKernel.observer is not None:
        ElementwiseKernel.observer(function, run)
    else:
        run()


def _state_shape(name: str, tensor: Tensor) -> tuple[int, int]:
    if not isinstance(tensor, Tensor) or tensor.dim() != 2:
        raise ValueError(f"{name} must be a (batch, hidden_size) tensor")
    return tensor.shape[0], tensor.shape[1]


def lstm_step_forward_c(pre: Tensor, bias: Tensor | None, c_prev: Tensor, gates: Tensor,
                        c: Tensor, tanh_c: Tensor, h: Tensor, h_next: Tensor | None = None
                        ) -> None:
    """`lstm_cell_forward` in C: from pre = W_ih x_t + W_hh h_{t-1} (B, 4H), writes the gates
    (i, f, g, o) into gates (B, 4H), c_t, tanh c_t and h_t into c, tanh_c and h (B, H), and h_t
    into h_next too unless it is None. bias (4H,) or None. All contiguous CPU tensors of one
    dtype (h_next's rows may lie apart); anything else is refused before C sees it."""
    batch, hidden = _state_shape("c_prev", c_prev)
    state, four = (batch, hidden), (batch, 4 * hidden)
    kernel = _checked_kernel(batch, hidden, c_prev, pre=(pre, four), bias=(bias, (4 * hidden,)),
                             c_prev=(c_prev, state), gates=(gates, four), c=(c, state),
                             tanh_c=(tanh_c, state), h=(h, state), h_next=(h_next, state))
    _run_forward(kernel, pre, bias, c_prev, gates, c, tanh_c, h, h_next)


def lstm_step_backward_c(grad_output: Tensor, grad_h: Tensor, grad_c: Tensor, gates: Tensor,
                         c_prev: Tensor, tanh_c: Tensor, grad_gates: Tensor,
                         grad_c_prev: Tensor, grad_bias: Tensor | None = None) -> None:
    """`lstm_cell_backward` in C: writes δ_t into grad_gates and ∂L/∂c_{t-1} into grad_c_prev,
    and adds δ_t summed over rows to grad_bias unless it is None (a float64 (4H,) accumulator,
    whatever the other arrays' dtype: a sum over all steps and rows keeps its precision). All
    contiguous CPU tensors; anything else is refused before C sees it."""
    batch, hidden = _state_shape("grad_c", grad_c)
    state, four = (batch, hidden), (batch, 4 * hidden)
    kernel = _checked_kernel(batch, hidden, grad_c, grad_output=(grad_output, state),
                             grad_h=(grad_h, state), grad_c=(grad_c, state),
                             gates=(gates, four), c_prev=(c_prev, state),
                             tanh_c=(tanh_c, state), grad_gates=(grad_gates, four),
                             grad_c_prev=(grad_c_prev, state),
                             grad_bias=(grad_bias, (4 * hidden,)))
    _run_backward(kernel, grad_output, grad_h, grad_c, gates, c_prev, tanh_c, grad_gates,
                  grad_c_prev, grad_bias)


def trusted_lstm_steps(dtype: torch.dtype) -> tuple[Callable[..., None], Callable[..., None]]:
    """`lstm_step_forward_c` and `lstm_step_backward_c` without their checks, for a caller whose
    arrays are what C reads by construction: `FusedLSTMFunction`, which checks its arguments once
    and then hands C views of buffers it made itself. A call then costs the ctypes call alone
    (the checks take about as long again at small sizes). `dtype` must have a kernel."""
    kernel = load_lstm_step_kernel(dtype)
    if isinstance(kernel, str):
        raise ValueError(f"no C LSTM step for {dtype}: {kernel}")
    return functools.partial(_run_forward, kernel), functools.partial(_run_backward, kernel)


def _run_forward(kernel: ctypes.CDLL, pre: Tensor, bias: Tensor | None, c_prev: Tensor,
                 gates: Tensor, c: Tensor, tanh_c: Tensor, h: Tensor,
                 h_next: Tensor | None = None) -> None:
    batch, hidden = c.shape
    if bias is None:
        bias = gates.new_zeros(4 * hidden)
    next_stride = 0 if h_next is None else h_next.stride(0)
    _observed(lambda: kernel.lstm_step_forward(
        address(pre), address(bias), address(c_prev), address(gates), address(c),
        address(tanh_c), address(h), address(h_next), next_stride, batch, hidden),
        lstm_step_forward_c)


def _run_backward(kernel: ctypes.CDLL, grad_output: Tensor, grad_h: Tensor, grad_c: Tensor,
                  gates: Tensor, c_prev: Tensor, tanh_c: Tensor, grad_gates: Tensor,
                  grad_c_prev: Tensor, grad_bias: Tensor | None = None) -> None:
    batch, hidden = grad_c.shape
    _observed(lambda: kernel.lstm_step_backward(
        address(grad_output), address(grad_h), address(grad_c), address(gates), address(c_prev),
        address(tanh_c), address(grad_gates), address(grad_c_prev), address(grad_bias), batch,
        hidden), lstm_step_backward_c)
