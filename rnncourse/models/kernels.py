"""Kernels under the fused LSTM: products with a prepacked weight, compiled element-wise steps.

A recurrent layer multiplies by the *same* weight matrix at every step, and repeats the same few
element-wise operations at every step. Two things make that fast, and each has a fallback that
gives the same numbers (to float round-off) where it cannot run:

* **A prepacked weight** (`WeightProduct`). A matrix-product (GEMM) kernel first copies its
  right-hand matrix into the blocked layout its inner loop reads ("packing"). `torch.matmul`
  packs on every call, which for a 64-row product is a noticeable share of the work; oneDNN,
  the library under torch.nn.LSTM on CPUs, can pack once and reuse the packed copy for all T
  steps. Where oneDNN's product is missing (other builds, GPUs, float64), `torch.mm` runs.
* **One kernel for a step's element-wise work** (`ElementwiseKernel`). Eager PyTorch runs each
  of a step's dozen element-wise operations as its own kernel, each reading and writing memory;
  `torch.compile` fuses them into one (inductor writes C++ on CPUs, Triton on GPUs), or a layer
  can bring the same step written in C (the fused LSTM's `lstm_step.c`, path "c"). Where no
  compiler works, the same Python function runs eagerly.

`resolve_kernels` says which path a call takes (`KernelPaths`), so benchmarks can report it.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from rnncourse.checks import check_choice

__all__ = [
    "ELEMENTWISE_PATHS",
    "MATMUL_PATHS",
    "ElementwiseKernel",
    "KernelPaths",
    "WeightProduct",
    "onednn_matmul_available",
    "resolve_kernels",
    "warn_at_caller",
]

MATMUL_PATHS = ("auto", "onednn", "torch")
ELEMENTWISE_PATHS = ("c", "compiled", "eager")


@functools.cache
def _onednn_matmul_works() -> bool:
    """Whether this torch build has oneDNN's packed linear product, and it gives x Wᵀ."""
    try:
        if not torch.backends.mkldnn.is_available():
            return False
        generator = torch.Generator().manual_seed(0)
        weight = torch.randn(8, 4, generator=generator)
        x = torch.randn(3, 4, generator=generator)
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, 3)
        product = torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")
        return bool(torch.allclose(product, x @ weight.t(), atol=1e-5, rtol=1e-5))
    except Exception:  # an op missing or refusing this CPU: the fallback runs
        return False


def onednn_matmul_available(reference: Tensor) -> bool:
    """Whether oneDNN's packed product can multiply tensors like `reference` (float32 on a CPU)."""
    return (reference.device.type == "cpu" and reference.dtype == torch.float32
            and _onednn_matmul_works())


class WeightProduct:
    """x ↦ x Wᵀ (+ bias) for one weight W of shape (N, K) and many x of shape (rows, K).

    With `onednn`, W is packed once here for oneDNN's product and each call only multiplies;
    otherwise each call is `torch.mm(x, Wᵀ)` (`torch.addmm` with a bias).
    """

    def __init__(self, weight: Tensor, rows: int, onednn: bool) -> None:
        self.onednn = onednn
        if onednn:  # the blocked copy that oneDNN's inner loop reads, made once for every call
            self.packed = torch.ops.mkldnn._reorder_linear_weight(weight.contiguous(), rows)
        else:
            self.transposed = weight.t()

    def __call__(self, x: Tensor, bias: Tensor | None = None) -> Tensor:
        if self.onednn:
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, bias, "none", [], "")
        if bias is None:
            return torch.mm(x, self.transposed)
        return torch.addmm(bias, x, self.transposed)


# Where the package's and torch's own frames come from (`warn_at_caller` skips them).
_INSIDE = tuple({
    os.path.join(os.path.dirname(path), "")
    for module_file in (os.path.dirname(os.path.dirname(__file__)) + "/__init__.py",
                        torch.__file__)
    for path in (module_file, os.path.realpath(module_file))
})


def warn_at_caller(message: str, category: type[Warning] = RuntimeWarning) -> None:
    """`warnings.warn(message, category)`, attributed to the nearest calling frame outside
    rnncourse and torch (as Python 3.12's `skip_file_prefixes`): a fallback warning raised deep
    inside a layer names the reader's line that called it, not a line of the package or of
    `nn.Module`."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_INSIDE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0][:160] if text else ''}"


# Vector width in bits of torch's CPU kernels, by the capability torch reports.
VECTOR_BITS = {"AVX2": 256, "AVX512": 512}


def align_compiler_with_cpu_kernels() -> None:
    """Have inductor's C++ use the vector width of torch's own CPU kernels.

    Inductor reads the processor to choose the width of its loops, but compiles for the
    instruction set that `ATEN_CPU_CAPABILITY` names. Where that variable lowers the capability
    (`ATEN_CPU_CAPABILITY=avx2` on an AVX-512 processor, as the course's tests run), the two
    disagree and the generated loops step over half of every vector: wrong numbers, no error.
    Setting `cpp.simdlen` to the capability's width makes them agree. Nothing changes where the
    variable is not set, or where a width was configured already.
    """
    import torch._inductor.config as inductor

    bits = VECTOR_BITS.get(torch.backends.cpu.get_cpu_capability())
    if os.environ.get("ATEN_CPU_CAPABILITY") and bits and inductor.cpp.simdlen is None:
        inductor.cpp.simdlen = bits


class ElementwiseKernel:
    """`function`, run eagerly or compiled once by `torch.compile` (`fullgraph=True`, and
    `dynamic`: None compiles for the first shapes seen and again, shape-generic, for others;
    True compiles shape-generic code at once).

    The first compiled call compiles (seconds to a minute on a CPU: inductor writes C++ and gcc or
    clang builds it). If compiling fails, for want of a C++ compiler, Triton or support for this
    Python, the call runs `function` eagerly instead, and so does every later call in this process;
    `failure` says why, and a warning says it once.
    """

    # Set by a profiler (`rnncourse.bench.lstm_profile`): called as observer(kernel, run) for every
    # compiled call and every C step's call (`lstm_step_kernel`), whose work no dispatch mode
    # sees, so that it can time `run()` whole.
    observer: ClassVar[Callable[[ElementwiseKernel, Callable], object] | None] = None

    def __init__(self, function: Callable, *, dynamic: bool | None = None) -> None:
        self.function = function
        self.dynamic = dynamic
        self.compiled_function: Callable | None = None
        self.failure: str | None = None
        functools.update_wrapper(self, function)

    def __call__(self, *args: Tensor | bool, compiled: bool = False):
        if not compiled or self.failure is not None:
            return self.function(*args)
        if ElementwiseKernel.observer is not None:
            return ElementwiseKernel.observer(self, lambda: self._compiled_call(args))
        return self._compiled_call(args)

    def _compiled_call(self, args: tuple):
        # The kernels run inside autograd Functions, without autograd: detached arguments keep
        # torch.compile from compiling again for every change of requires_grad.
        args = tuple(arg.detach() if isinstance(arg, Tensor) else arg for arg in args)
        try:
            if self.compiled_function is None:
                align_compiler_with_cpu_kernels()
                self.compiled_function = torch.compile(self.function, fullgraph=True,
                                                       dynamic=self.dynamic)
            return self.compiled_function(*args)
        except Exception as error:  # no compiler here: the same function, eagerly
            result = self.function(*args)  # an error in the arguments is raised here, as usual
            self.failure = _first_line(error)
            warn_at_caller(f"torch.compile failed, running {self.function.__name__} eagerly: "
                           f"{self.failure}")
            return result

    def reset(self) -> None:
        """Forget the compiled function and any failure: the next compiled call compiles again."""
        self.compiled_function, self.failure = None, None


_warned: set[str] = set()  # reasons for not running C kernels, warned of once each


@dataclass(frozen=True)
class KernelPaths:
    """Which kernels a fused layer runs: `matmul` "onednn" (prepacked weights) or "torch";
    `elementwise` "c" (a C function per step), "compiled" or "eager"; `note` says why a
    requested path was not taken."""

    matmul: str
    elementwise: str
    note: str = ""

    def describe(self) -> str:
        """E.g. "oneDNN products, compiled element-wise"."""
        products = "oneDNN products" if self.matmul == "onednn" else "torch.mm products"
        elementwise = "C" if self.elementwise == "c" else self.elementwise
        text = f"{products}, {elementwise} element-wise"
        return f"{text} ({self.note})" if self.note else text


def resolve_kernels(
    reference: Tensor,
    matmul: str = "auto",
    elementwise: str = "eager",
    kernels: tuple[ElementwiseKernel, ...] = (),
    c_unavailable: Callable[[Tensor], str | None] | None = None,
) -> KernelPaths:
    """The paths a fused layer takes for tensors like `reference`.

    matmul: "auto" (oneDNN where available, else torch), "onednn" (falls back to torch where
    unavailable, with a note) or "torch". elementwise: "c" (falls back to eager where
    `c_unavailable(reference)` gives a reason, with a note and a warning once), "compiled"
    (falls back to eager where one of `kernels` failed to compile, with a note) or "eager".
    """
    check_choice("matmul", matmul, MATMUL_PATHS)
    check_choice("elementwise", elementwise, ELEMENTWISE_PATHS)
    notes = []
    use_onednn = matmul != "torch" and onednn_matmul_available(reference)
    if matmul == "onednn" and not use_onednn:
        notes.append("oneDNN's product is not available for these tensors")
    if elementwise == "c":
        reason = c_unavailable(reference) if c_unavailable else "this layer has no C kernel"
        if reason is not None:
            notes.append(f"no C kernel: {reason}")
            elementwise = "eager"
            if reason not in _warned:
                _warned.add(reason)
                warn_at_caller(f"running the element-wise work eagerly: {reason}")
    failures = [kernel.failure for kernel in kernels if kernel.failure is not None]
    if elementwise == "compiled" and failures:
        notes.append(f"compiling failed: {failures[0]}")
        elementwise = "eager"
    return KernelPaths("onednn" if use_onednn else "torch", elementwise, "; ".join(notes))
