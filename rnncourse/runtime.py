"""Devices, seeds and random draws: the arguments every model, task and experiment takes.

The default device is CUDA when a GPU is present, then Apple's Metal (MPS) on Apple Silicon, then
the CPU. What a device can do in 16-bit floats differs from one machine to the next (a CPU with
AVX512-BF16 or AMX has bfloat16 kernels, one with only AVX2 emulates them), so code that uses
autocast asks `low_precision_support` first.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch


def mps_available() -> bool:
    """Whether Apple's Metal backend (MPS, Apple Silicon GPUs) can run tensors here."""
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


# Whether `device=None` may mean MPS; the book's pages turn it off (`use_mps_by_default(False)`),
# so that the numbers they print on a Mac are the CPU's, as on other laptops.
_MPS_BY_DEFAULT = [True]


def use_mps_by_default(enabled: bool) -> None:
    """Let `device=None` mean MPS on Apple Silicon (the default), or not (the CPU instead)."""
    _MPS_BY_DEFAULT[0] = bool(enabled)


def default_device(*, include_mps: bool | None = None) -> torch.device:
    """CUDA when a GPU is present, then MPS (Apple Silicon), else the CPU. `include_mps=False`
    skips MPS; None follows `use_mps_by_default` (on unless the book's set-up turned it off)."""
    if include_mps is None:
        include_mps = _MPS_BY_DEFAULT[0]
    if torch.cuda.is_available():
        return torch.device("cuda")
    if include_mps and mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Turn `None` (the default device), a name or a `torch.device` into a `torch.device`.

    Raises a ValueError that names the problem when CUDA or MPS is asked for but absent.
    """
    if device is None:
        return default_device()
    if not isinstance(device, (str, torch.device)):
        raise TypeError(
            f"device must be None, a string or a torch.device, got {type(device).__name__}")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} was asked for, but no CUDA GPU is available")
    if resolved.type == "mps" and not mps_available():
        raise ValueError(f"device={str(device)!r} was asked for, but Apple's MPS backend is not "
                         "available (it needs an Apple Silicon Mac and a torch build for macOS)")
    return resolved


def seeded_generator(seed: int | None, device: torch.device) -> torch.Generator:
    """A random generator on `device`, seeded with `seed`; with `seed=None`, a fresh random seed
    (not reproducible: for a reproducible run, give a seed or use torch's global generator)."""
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))
    return generator


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Inside the block, random draws on the CPU depend on `seed` alone; None leaves the global
    generators as they are.

    A seed runs the block on a forked CPU generator, so that it neither reads nor advances the
    global one, and no GPU's generator is touched (`torch.manual_seed` would reseed them all).
    Modules built inside draw their weights on the CPU (then move them): the same seed gives the
    same model on every device.
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(int(seed))
        yield


def manual_seed(seed: int) -> None:
    """Seed Python, and torch on every device, for a reproducible run."""
    random.seed(seed)
    torch.manual_seed(seed)


def draw_setup(
    seed: int | None,
    generator: torch.Generator | None,
    device: str | torch.device | None,
) -> tuple[torch.Generator | None, torch.device, torch.device]:
    """(generator to draw with, device to draw on, device to return the data on), from the
    `seed`, `generator` and `device` arguments every task's sampling function takes:

    - with `seed`, the data are drawn on the CPU from a generator seeded with it and then moved
      to `device`, so one seed gives the same data on every device;
    - with a `generator`, they are drawn on the generator's device;
    - with neither, torch's global random state is used, so `torch.manual_seed` (and
      `fit(seed=...)`) makes them reproducible.

    The generator is None when neither `seed` nor `generator` is given: torch's global random
    state is then used. Giving both is a ValueError.
    """
    if seed is not None and generator is not None:
        raise ValueError("give seed or generator, not both")
    target_device = resolve_device(device)
    if generator is not None:
        return generator, generator.device, target_device
    cpu = torch.device("cpu")
    # Drawing on the CPU makes a seed mean the same data on every device.
    return (seeded_generator(seed, cpu) if seed is not None else None), cpu, target_device


def synchronize(device: torch.device | str) -> None:
    """Wait for the work queued on a GPU (CUDA or MPS); nothing to wait for on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


# ----------------------------------------------------------------------------------------------
# What a device can do in 16-bit floats


@dataclass(frozen=True)
class LowPrecisionSupport:
    """What `torch.autocast` in a 16-bit `dtype` can do on a device, found out by trying it.

    `lstm_kernel`: torch.nn.LSTM runs under autocast (cuDNN on a GPU; on a CPU, oneDNN's bfloat16
    LSTM kernel, which needs AVX512-BF16 or AMX; on other CPUs it raises). `lstm_kernel_error`
    is the first line of the error when it does not. `matmul_speedup`: the time of a float32
    matrix product over the time of the same product in `dtype`; well below 1 means the 16-bit
    arithmetic is emulated in software. `cpu_capability`: the vector instructions torch's CPU
    kernels use ("AVX512", "AVX2", "NEON", ...), empty on a GPU.
    """

    device: str
    dtype: str
    lstm_kernel: bool
    lstm_kernel_error: str
    matmul_speedup: float
    cpu_capability: str = ""

    @property
    def emulated(self) -> bool:
        """Whether 16-bit products run at less than half float32's speed: software emulation."""
        return self.matmul_speedup < 0.5


def default_low_precision_dtype(device: torch.device | str) -> torch.dtype:
    """float16 on CUDA (every CUDA GPU has it; loss scaling keeps small gradients), bfloat16 on
    other devices (a CPU's autocast supports only bfloat16 and float16; bfloat16 needs no
    scaling)."""
    return torch.float16 if torch.device(device).type == "cuda" else torch.bfloat16


def low_precision_support(
    device: torch.device | str | None = None, dtype: torch.dtype | None = None, *,
    matmul_size: int = 256,
) -> LowPrecisionSupport:
    """Try autocast in `dtype` on `device`: a tiny torch.nn.LSTM forward and backward, then a
    (matmul_size × matmul_size) product timed in float32 and in `dtype` (best of 3; on a CPU,
    process CPU time with one thread). Takes well under a second, emulation included."""
    device = resolve_device(device)
    dtype = dtype or default_low_precision_dtype(device)
    with seeded(0):
        lstm = torch.nn.LSTM(8, 8).to(device)
        inputs = torch.randn(3, 2, 8).to(device)
    try:
        with torch.autocast(device.type, dtype=dtype):
            output, _ = lstm(inputs)
        output.float().sum().backward()
        kernel, error = True, ""
    except (RuntimeError, NotImplementedError) as failure:
        kernel, error = False, str(failure).strip().splitlines()[0]
    square = torch.randn(matmul_size, matmul_size, generator=torch.Generator().manual_seed(0))
    seconds = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # CPU time of one thread: extra threads only add their waiting
    for kind in (torch.float32, dtype):
        operand = square.to(device=device, dtype=kind)
        operand @ operand  # warm-up: the first call may choose and load a kernel
        best = float("inf")
        for _ in range(3):
            synchronize(device)
            start = time.process_time() if device.type == "cpu" else time.perf_counter()
            operand @ operand
            synchronize(device)
            end = time.process_time() if device.type == "cpu" else time.perf_counter()
            best = min(best, end - start)
        seconds[kind] = max(best, 1e-7)
    torch.set_num_threads(threads)
    capability = torch.backends.cpu.get_cpu_capability() if device.type == "cpu" else ""
    return LowPrecisionSupport(str(device), str(dtype).removeprefix("torch."), kernel, error,
                               seconds[torch.float32] / seconds[dtype], capability)


def autocast_lstm_backend(support: LowPrecisionSupport) -> str:
    """Which LSTM to run under autocast: torch.nn's ("torch") where it has a kernel in the 16-bit
    type, else the course's from-scratch LSTM ("rnncourse"), whose matrix products and
    element-wise operations autocast handles on every device, however slowly."""
    return "torch" if support.lstm_kernel else "rnncourse"
