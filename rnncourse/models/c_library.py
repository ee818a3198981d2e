"""The package's C kernels: built on first use in each process, loaded with ctypes.

Two hot loops are written in C (`scan_kernel.c`, the linear recurrence; `lstm_step.c`, an LSTM
step's element-wise work). Each file is compiled on its first use in a process, by the system's C
compiler (`$CC`, which may carry options, e.g. "ccache gcc"; or `cc`), once per dtype (`real` is
`float` or `double`), and loaded with ctypes. Where there is no compiler, or compiling fails,
`build_c_library` returns the reason instead, and the caller runs its PyTorch fallback.
"""

from __future__ import annotations

import ctypes
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["C_TYPES", "address", "build_c_library", "compiler_command"]

C_TYPES = {torch.float32: "float", torch.float64: "double"}


def compiler_command(source: Path, real: str, output: Path) -> list[str]:
    """The command that builds `source`, with `real` the C type of its numbers, into `output`."""
    default = shutil.which("cc") or shutil.which("gcc") or "clang"
    compiler = shlex.split(os.environ.get("CC", "")) or [default]  # $CC may carry options
    # -fno-trapping-math lets the compiler turn branches on numbers (the clamps in lstm_step.c's
    # exp) into vector selects. It changes no result: it only allows the compiler to ignore
    # floating-point exception flags, which Python never reads.
    flags = ["-O3", "-fno-trapping-math", "-shared", "-fPIC", f"-DREAL={real}"]
    # Vector instructions only where torch's own kernels use them (ATEN_CPU_CAPABILITY can lower
    # them, to measure an older processor); otherwise the compiler's portable default.
    if platform.machine() in ("x86_64", "AMD64") and torch.backends.cpu.get_cpu_capability() in (
            "AVX2", "AVX512"):
        flags += ["-mavx2", "-mfma"]
    return [*compiler, *flags, str(source), "-o", str(output), "-lm"]


def build_c_library(source: Path, dtype: torch.dtype) -> ctypes.CDLL | str:
    """`source` compiled for `dtype` (float32 or float64) and loaded; or, where it cannot be
    built, the reason (a string).

    The library is built in a temporary folder and deleted as soon as it is loaded (it stays
    mapped in this process): no compiled copy is left on disk for other code to pick up, such as
    a submission graded on the same machine. Building takes a fraction of a second.
    """
    if dtype not in C_TYPES:
        return f"no kernel for {dtype}"
    try:
        folder = tempfile.mkdtemp(prefix="rnncourse-kernel-")
    except OSError as error:
        return f"the C kernel could not be built (no temporary folder: {error})"
    library = Path(folder) / f"{source.stem}_{C_TYPES[dtype]}.so"
    try:
        subprocess.run(compiler_command(source, C_TYPES[dtype], library), check=True,
                       capture_output=True, text=True, timeout=120)
        return ctypes.CDLL(str(library))
    except (OSError, subprocess.SubprocessError) as error:
        reason = (getattr(error, "stderr", None) or str(error)).strip().splitlines()
        return f"the C kernel could not be built ({(reason or [type(error).__name__])[0][:160]})"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def address(tensor: Tensor | None) -> int | None:
    """Where `tensor`'s first element lies in memory, for a C function's pointer argument (None,
    C's NULL, for no tensor). The caller keeps the tensor alive during the call."""
    return None if tensor is None else tensor.data_ptr()
