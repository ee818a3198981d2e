"""The scan section: minGRU's loop against its scans, and where a scan starts to pay.

Two levels are timed, forward and backward:

* the **recurrence** alone, h_t = a_t ⊙ h_{t-1} + b_t with a and b given (`bench_recurrence`):
  what a scan replaces, and what the speed-up of a scan is about;
* the whole **minGRU layer** (`bench_min_gru`): the input projection and the gates, the same for
  every mode, plus the recurrence. Its speed-up is smaller, by Amdahl's law: a scan cannot make
  the projection's matrix product faster.

The recurrence section also times a **memory floor** (`memory_floor_pass`): torch's own
element-wise kernels moving, once, the bytes that any implementation of the recurrence must read
and write, into arrays allocated beforehand. The loop's time over the floor's is the most a scan
could gain on that device.

`scan_speedup_by_length` and `scan_speedup_by_width` sweep T and B·H for chapter 4's figures: a
scan wins while the loop's fixed cost per step dominates, and loses its edge as each step widens.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from rnncourse.bench.report import BenchRow
from rnncourse.bench.timing import resolve_timer, seeded_module, time_interleaved
from rnncourse.models.chunked_scan import chunked_scan
from rnncourse.models.minimal import MinGRU
from rnncourse.models.scan_kernel import kernel_scan, scan_kernel_path
from rnncourse.models.scans import blocked_scan, linear_recurrence_loop, log_space_scan
from rnncourse.runtime import resolve_device, synchronize

__all__ = [
    "EAGER_SCAN_MODES",
    "MEMORY_FLOOR_LABEL",
    "SCAN_LABELS",
    "SCAN_MODES",
    "ScanSweep",
    "bench_min_gru",
    "bench_recurrence",
    "floor_outputs",
    "memory_floor_pass",
    "scan_speedup_by_length",
    "scan_speedup_by_width",
]

SCAN_MODES = ("sequential", "log_scan", "blocked_scan", "chunked_scan", "kernel_scan",
              "chunked_scan_compiled")
# The default: every mode but torch.compile's (its first call takes up to minutes; the kernel
# scan's C file compiles in about a second, once).
EAGER_SCAN_MODES = SCAN_MODES[:-1]
SCAN_LABELS = {
    "sequential": "minGRU loop",
    "log_scan": "minGRU log-space scan",
    "blocked_scan": "minGRU blocked scan",
    "chunked_scan": "minGRU chunked scan",
    "kernel_scan": "minGRU kernel scan (one pass in C)",
    "chunked_scan_compiled": "minGRU chunked scan, compiled",
}
MEMORY_FLOOR_LABEL = "memory floor: each array read or written once"


def _check_modes(modes: Sequence[str]) -> None:
    unknown = [mode for mode in modes if mode not in SCAN_MODES]
    if unknown:
        raise ValueError(f"modes must be among {', '.join(SCAN_MODES)}; got {unknown}")


def _recurrence(mode: str) -> Callable:
    """(a, b) -> every h_t, by `mode` (the log-space scan takes log a and log b itself)."""
    if mode == "sequential":
        return linear_recurrence_loop
    if mode == "log_scan":
        return lambda a, b: log_space_scan(a.log(), b.log())
    if mode == "blocked_scan":
        return blocked_scan
    if mode == "kernel_scan":
        return kernel_scan
    return lambda a, b: chunked_scan(a, b, compiled=mode == "chunked_scan_compiled")


def memory_floor_pass(a: torch.Tensor, b: torch.Tensor, grad: torch.Tensor,
                      out: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> None:
    """Move the bytes that forward and backward of h_t = a_t ⊙ h_{t-1} + b_t must move, once,
    with no recurrence: the forward pass reads a and b and writes h; the backward pass reads a,
    ∂L/∂h and h and writes ∂L/∂a and ∂L/∂b. Streamed by torch's element-wise kernels, without
    autograd, into `out` = (h, ∂L/∂a, ∂L/∂b), arrays of the same shape allocated and touched
    beforehand (`floor_outputs`): a real pass also gets fresh memory for its results, whose
    first touch costs more than the stream on large arrays and varies from run to run, so the
    floor leaves it out and stays below every implementation."""
    h, grad_a, grad_b = out
    torch.add(a, b, out=h)  # reads a, b; writes h
    torch.addcmul(grad, a, h, out=grad_a)  # reads ∂L/∂h, a, h; writes one gradient
    grad_b.zero_()  # writes the other


def floor_outputs(like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The three arrays `memory_floor_pass` writes into, shaped like `like`, already in memory."""
    return torch.zeros_like(like), torch.zeros_like(like), torch.zeros_like(like)


def _time_modes(section: str, runs: dict[str, Callable[[], None]], sizes: dict,
                device: torch.device, modes: Sequence[str], repeats: int, warmup: int,
                timer: str) -> list[BenchRow]:
    """Time `runs` in turn (a compiled mode's first call apart, in its note); a row per mode
    (and for the memory floor, where `runs` has it) with the loop's time over its time."""
    notes = {}
    for mode, run in runs.items():
        if mode.endswith("_compiled"):  # the first call compiles
            start = time.perf_counter()
            run()
            synchronize(device)
            notes[mode] = f"compile + first call {time.perf_counter() - start:.1f} s"
    if "kernel_scan" in runs and (path := scan_kernel_path(torch.empty(0, device=device))) != (
            "C kernel"):
        notes["kernel_scan"] = f"ran the {path}"
    timings = time_interleaved(runs, device=device, repeats=repeats, warmup=warmup, timer=timer)
    loop_ms = timings["sequential"].ms
    labels = {mode: SCAN_LABELS[mode] for mode in modes}
    if "memory_floor" in runs:
        labels["memory_floor"] = MEMORY_FLOOR_LABEL
        notes["memory_floor"] = ("the same bytes moved once, into arrays allocated beforehand: "
                                 "about the most a scan can gain")
    return [BenchRow(section, label, str(device), **sizes,
                     wall_ms=timings[mode].wall_ms, cpu_ms=timings[mode].cpu_ms,
                     ratio=loop_ms / timings[mode].ms, note=notes.get(mode, ""))
            for mode, label in labels.items()]


def bench_recurrence(
    lengths: Sequence[int] = (256, 512, 1024, 2048, 4096),
    batch_size: int = 8,
    hidden_size: int = 64,
    *,
    device: torch.device | str | None = None,
    modes: Sequence[str] = EAGER_SCAN_MODES,
    repeats: int = 3,
    warmup: int = 1,
    timer: str = "wall",
    seed: int = 0,
    floor: bool = True,
) -> list[BenchRow]:
    """Forward + backward of h_t = a_t ⊙ h_{t-1} + b_t alone, a and b of shape (T, B, H) drawn
    like minGRU's (a ∈ (0.05, 0.95), b ∈ (0, 1)), gradients by `torch.autograd.grad` (nothing
    accumulates). Ratios: the loop's time over each mode's (the speed-up), by `timer`. With
    `floor`, a last row per length times `memory_floor_pass` on the same arrays: its ratio is
    the ceiling on any scan's speed-up."""
    device = resolve_device(device)
    timer = resolve_timer(timer, device)
    _check_modes(modes)
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for seq_len in lengths:
        shape = (seq_len, batch_size, hidden_size)
        a = (torch.rand(*shape, generator=generator) * 0.9 + 0.05).to(device).requires_grad_()
        b = torch.rand(*shape, generator=generator).to(device).requires_grad_()
        grad = torch.randn(*shape, generator=generator).to(device)
        runs = {}
        for mode in ["sequential", *[m for m in modes if m != "sequential"]]:
            solve = _recurrence(mode)

            def run(solve: Callable = solve, a: torch.Tensor = a, b: torch.Tensor = b,
                    grad: torch.Tensor = grad) -> None:
                torch.autograd.grad(solve(a, b), (a, b), grad)

            runs[mode] = run
        if floor:
            arrays, out = (a.detach(), b.detach(), grad), floor_outputs(grad)
            runs["memory_floor"] = lambda arrays=arrays, out=out: memory_floor_pass(*arrays, out)
        sizes = {"seq_len": seq_len, "batch_size": batch_size, "input_size": hidden_size,
                 "hidden_size": hidden_size}
        rows += _time_modes("recurrence", runs, sizes, device, modes, repeats, warmup, timer)
    return rows


def bench_min_gru(
    lengths: Sequence[int] = (256, 512, 1024, 2048, 4096),
    batch_size: int = 8,
    hidden_size: int = 64,
    *,
    device: torch.device | str | None = None,
    modes: Sequence[str] = EAGER_SCAN_MODES,
    repeats: int = 3,
    warmup: int = 1,
    timer: str = "wall",
    seed: int = 0,
) -> list[BenchRow]:
    """Forward + backward of a minGRU layer (I = H) in each mode, for every sequence length.

    Ratios are the loop's time over each mode's time at the same length (the speed-up), by
    `timer` (see `Timing`); the modes are timed in turn, round after round.
    """
    device = resolve_device(device)
    timer = resolve_timer(timer, device)
    _check_modes(modes)
    model = seeded_module(lambda: MinGRU(hidden_size, hidden_size), seed, device)
    compiled = seeded_module(lambda: MinGRU(hidden_size, hidden_size, compiled=True), seed,
                             device)
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for seq_len in lengths:
        inputs = torch.randn(seq_len, batch_size, hidden_size, generator=generator).to(device)
        runs = {}
        for mode in ["sequential", *[m for m in modes if m != "sequential"]]:
            layer = compiled if mode == "chunked_scan_compiled" else model
            layer_mode = mode.removesuffix("_compiled")

            def run(layer: MinGRU = layer, mode: str = layer_mode,
                    inputs: torch.Tensor = inputs) -> None:
                layer(inputs, mode=mode)[0].sum().backward()

            runs[mode] = run
        sizes = {"seq_len": seq_len, "batch_size": batch_size, "input_size": hidden_size,
                 "hidden_size": hidden_size}
        rows += _time_modes("min_gru", runs, sizes, device, modes, repeats, warmup, timer)
    return rows


@dataclass
class ScanSweep:
    """Speed-ups of each scan over the loop along one axis, for chapter 4's figures.

    `axis` is "seq_len" or "width" (B·H); `values` the points on it; `speedup[mode]` one ratio
    per point; `loop_ms` the loop's time per point. `fixed` names what was held fixed.
    `ceiling`: per point, the loop's time over the memory floor's (`memory_floor_pass`), the
    most any scan could gain there, and `floor_ms` the floor's time; both empty for the whole
    layer, which has no floor.
    """

    axis: str
    values: list[int]
    speedup: dict[str, list[float]]
    loop_ms: list[float]
    level: str
    fixed: dict[str, int] = field(default_factory=dict)
    device: str = "cpu"
    timer: str = "cpu"
    ceiling: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)

    def crossover(self, mode: str) -> float | None:
        """Where `mode`'s speed-up over the loop crosses 1 (the scan starts or stops winning),
        interpolated on log scales between the two measured points around it; None if it is on
        one side of 1 at every point."""
        points = list(zip(self.values, self.speedup[mode], strict=True))
        for (left, left_ratio), (right, right_ratio) in zip(points, points[1:], strict=False):
            if left_ratio == 1:
                return float(left)
            if (left_ratio - 1) * (right_ratio - 1) <= 0:
                fraction = math.log(left_ratio) / (math.log(left_ratio) - math.log(right_ratio))
                return float(left * (right / left) ** fraction)
        return None


def _sweep(level: str, axis: str, points: list[tuple[int, int, int]], modes: Sequence[str],
           **options) -> ScanSweep:
    bench = bench_recurrence if level == "recurrence" else bench_min_gru
    if level not in ("recurrence", "layer"):
        raise ValueError(f"level must be 'recurrence' or 'layer'; got {level!r}")
    modes = [mode for mode in modes if mode != "sequential"]
    speedup: dict[str, list[float]] = {mode: [] for mode in modes}
    loop_ms, ceiling, floor_ms, device, timer = [], [], [], "cpu", "cpu"
    for seq_len, batch_size, hidden_size in points:
        rows = bench((seq_len,), batch_size, hidden_size, modes=("sequential", *modes), **options)
        by_name = {row.name: row for row in rows}
        loop = by_name[SCAN_LABELS["sequential"]]
        loop_ms.append(loop.cpu_ms if loop.device == "cpu" else loop.wall_ms)
        floor = by_name.get(MEMORY_FLOOR_LABEL)
        device = loop.device
        for mode in modes:
            speedup[mode].append(by_name[SCAN_LABELS[mode]].ratio)
        if floor is not None:
            ceiling.append(floor.ratio)
            floor_ms.append(floor.cpu_ms if floor.device == "cpu" else floor.wall_ms)
    timer = resolve_timer(options.get("timer", "wall"), device)
    values = [p[0] for p in points] if axis == "seq_len" else [p[1] * p[2] for p in points]
    return ScanSweep(axis, values, speedup, loop_ms, level, device=device, timer=timer,
                     ceiling=ceiling, floor_ms=floor_ms)


def scan_speedup_by_length(
    lengths: Sequence[int] = (64, 256, 1024, 4096),
    batch_size: int = 8,
    hidden_size: int = 64,
    *,
    level: str = "recurrence",
    modes: Sequence[str] = ("kernel_scan", "chunked_scan", "blocked_scan", "log_scan"),
    **options,
) -> ScanSweep:
    """Each scan's speed-up over the loop against T, at one (B, H). `level`: "recurrence" or
    "layer" (the whole minGRU). `options` go to `bench_recurrence` / `bench_min_gru` (device,
    repeats, timer, seed)."""
    sweep = _sweep(level, "seq_len", [(t, batch_size, hidden_size) for t in lengths], modes,
                   **options)
    sweep.fixed = {"batch_size": batch_size, "hidden_size": hidden_size}
    return sweep


def scan_speedup_by_width(
    shapes: Sequence[tuple[int, int]] = ((1, 32), (8, 64), (16, 128), (64, 256)),
    seq_len: int = 4096,
    *,
    level: str = "recurrence",
    modes: Sequence[str] = ("kernel_scan", "chunked_scan", "blocked_scan", "log_scan"),
    **options,
) -> ScanSweep:
    """Each scan's speed-up over the loop against the width B·H of a step, at one T: where the
    loop's fixed cost per step stops dominating, the scan's extra passes over memory stop paying
    (`ScanSweep.crossover`). `options` as for `scan_speedup_by_length`."""
    points = [(seq_len, batch, hidden) for batch, hidden in shapes]
    sweep = _sweep(level, "width", points, modes, **options)
    sweep.fixed = {"seq_len": seq_len}
    return sweep
