"""How the benchmarks measure: best-of-N timings by wall-clock or CPU time, interleaved between
the variants compared, the device's name, and the rate of one large matrix product (GEMM).

On a machine shared with other work, CPU time with one torch thread is the steadier measure: it
counts only this process's work (it still moves a little, since other programs share the caches).
Timing the variants in turn, round after round (`time_interleaved`), lets a busy spell slow all of
them alike instead of one.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from rnncourse.models.kernels import WeightProduct, onednn_matmul_available
from rnncourse.runtime import seeded, synchronize

__all__ = [
    "GEMM_KERNELS",
    "TIMERS",
    "Timing",
    "device_name",
    "float32_arithmetic",
    "gemm_product",
    "matmul_gflops",
    "resolve_timer",
    "seeded_module",
    "time_call",
    "time_interleaved",
]

TIMERS = ("wall", "cpu")
GEMM_KERNELS = ("torch", "onednn")


@dataclass
class Timing:
    """Best-of-N timing of a callable: wall-clock and CPU milliseconds of the fastest run.

    "Fastest" by the timer asked for: wall-clock time (what a user waits for on a quiet machine)
    or CPU time (the work this process did, much less disturbed by other programs on a shared
    machine; with one thread it is the wall time of an undisturbed run). On CUDA only wall time
    means anything, since kernels run asynchronously on the GPU.
    """

    wall_ms: float
    cpu_ms: float
    median_ms: float
    repeats: int
    timer: str = "wall"

    @property
    def ms(self) -> float:
        """The time by this timing's timer."""
        return self.cpu_ms if self.timer == "cpu" else self.wall_ms


def device_name(device: torch.device | str) -> str:
    """A readable name: the GPU's model for CUDA, the processor for the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    try:  # Linux: the model name from /proc/cpuinfo is more telling than the architecture
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = torch.get_num_threads()
    return f"{name} ({threads} thread{'s' if threads != 1 else ''})"


def _uses_tf32(precision: object, allow_tf32: Callable[[], bool]) -> bool:
    # torch ≥ 2.9 sets a precision per operator: "tf32", "ieee", or "none" (the switch decides).
    if precision in ("tf32", "ieee"):
        return precision == "tf32"
    return bool(allow_tf32())


def float32_arithmetic(device: torch.device | str) -> str:
    """How float32 products run on `device`, for a report. On CUDA: whether cuDNN's RNNs
    (torch.nn.LSTM) and cuBLAS (torch.mm and torch.matmul, under the course's LSTMs and scans)
    may round their operands to TF32 (a 10-bit mantissa, on Ampere and later GPUs). torch's
    defaults differ: TF32 for cuDNN, full float32 for cuBLAS. Empty on other devices."""
    if torch.device(device).type != "cuda":
        return ""
    cudnn, cublas = torch.backends.cudnn, torch.backends.cuda.matmul
    rnn = _uses_tf32(getattr(getattr(cudnn, "rnn", None), "fp32_precision", None),
                     lambda: cudnn.allow_tf32)
    products = _uses_tf32(getattr(cublas, "fp32_precision", None), lambda: cublas.allow_tf32)
    kinds = {True: "TF32", False: "full float32"}
    text = (f"cuDNN's LSTM (torch.nn.LSTM) in {kinds[rnn]}, cuBLAS products (the other "
            f"variants) in {kinds[products]}")
    return text if rnn == products else f"{text}: not the same arithmetic"


def resolve_timer(timer: str, device: torch.device | str) -> str:
    """`timer` checked, and "wall" on a GPU (CUDA, MPS) whatever was asked: CPU time misses the
    work the GPU does while the CPU waits."""
    if timer not in TIMERS:
        raise ValueError(f"timer must be one of {', '.join(TIMERS)}; got {timer!r}")
    return timer if torch.device(device).type == "cpu" else "wall"


def time_interleaved(
    runs: Mapping[str, Callable[[], object]], *, device: torch.device | str = "cpu",
    repeats: int = 5, warmup: int = 1, timer: str = "wall",
) -> dict[str, Timing]:
    """Time every callable in `runs` `repeats` times, in turn round after round, after `warmup`
    untimed calls each; a GPU (CUDA, MPS) is synchronised around every call.

    Returns, per name, the fastest run by `timer` ("wall" or "cpu") and the median by the same.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats ≥ 1 and warmup ≥ 0, got repeats={repeats}, warmup={warmup}")
    device = torch.device(device)
    timer = resolve_timer(timer, device)
    for run in runs.values():
        for _ in range(warmup):
            run()
    synchronize(device)
    measured: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            synchronize(device)
            measured[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    timings = {}
    for name, times in measured.items():
        times.sort(key=lambda pair: pair[1] if timer == "cpu" else pair[0])
        best_wall, best_cpu = times[0]
        median = times[len(times) // 2][1 if timer == "cpu" else 0]
        timings[name] = Timing(best_wall * 1e3, best_cpu * 1e3, median * 1e3, repeats, timer)
    return timings


def time_call(
    run: Callable[[], object], *, device: torch.device | str = "cpu", repeats: int = 5,
    warmup: int = 1, timer: str = "wall",
) -> Timing:
    """Time `run()` `repeats` times after `warmup` untimed calls; a GPU is synchronised around it.

    Returns the fastest run by `timer` ("wall" or "cpu"), and the median by the same timer.
    """
    return time_interleaved({"run": run}, device=device, repeats=repeats, warmup=warmup,
                            timer=timer)["run"]


def seeded_module(build: Callable[[], nn.Module], seed: int, device: torch.device) -> nn.Module:
    """`build()` on `device`, its weights drawn from torch's generator seeded with `seed`.

    The global random state is restored afterwards, so a benchmark leaves it as it found it.
    """
    with seeded(seed):
        return build().to(device)


def gemm_product(rows: int, inner: int, columns: int, *, device: torch.device | str = "cpu",
                 kernel: str = "torch") -> Callable[[], object]:
    """One product of a (rows × inner) by an (inner × columns) matrix, ready to time.

    kernel "torch": `torch.matmul` (MKL or OpenBLAS on CPUs, cuBLAS on GPUs); "onednn": oneDNN's
    product with the right-hand matrix packed once beforehand, as the fused LSTM runs its
    products (a ValueError where oneDNN's product is not available, see `GEMM_KERNELS`).
    """
    if kernel not in GEMM_KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(GEMM_KERNELS)}; got {kernel!r}")
    device = torch.device(device)
    generator = torch.Generator().manual_seed(0)
    left = torch.randn(rows, inner, generator=generator).to(device)
    right = torch.randn(inner, columns, generator=generator).to(device)
    if kernel == "onednn":
        if not onednn_matmul_available(left):
            raise ValueError("kernel='onednn': oneDNN's product is not available here "
                             f"(device {device.type}, this torch build)")
        product = WeightProduct(right.t(), rows, onednn=True)
        return lambda: product(left)
    return lambda: left @ right


def matmul_gflops(rows: int, inner: int, columns: int, *, device: torch.device | str = "cpu",
                  repeats: int = 5, timer: str = "wall", kernel: str = "torch") -> float:
    """GFLOP/s of one product of a (rows × inner) by an (inner × columns) matrix (`gemm_product`):
    2·rows·inner·columns operations over the fastest run's time."""
    product = gemm_product(rows, inner, columns, device=device, kernel=kernel)
    timing = time_call(product, device=device, repeats=repeats, timer=timer)
    return 2.0 * rows * inner * columns / (timing.ms * 1e-3) / 1e9
