"""`rnncourse bench`: how fast are the recurrences of this course, side by side, on this machine?

Two sections, timed forward + backward (one training step without the optimiser):

* LSTM, one layer, T=100, B=64, I=H=256 by default: torch.nn.LSTM (cuDNN on a GPU, oneDNN on a
  CPU) against rnncourse's plain-loop `LSTM`, the `FusedLSTM` with its hand-written backward, and
  a compiled variant (the plain loop with its cell step compiled by `torch.compile`; its compile
  time is reported apart, and a failure to compile becomes a row, not a crash);
* minGRU over T = 256 .. 4096: the sequential loop against the log-space scan and the blocked
  (two-level) scan.

Every time is the best of `repeats` runs after `warmup` runs (the least disturbed by other work
on the machine), as wall-clock milliseconds, with the CPU time of that run beside it. Ratios are
against the section's reference (torch.nn.LSTM; the minGRU loop). The report names the device,
torch version, thread count and date; it prints as markdown and saves as .md or .csv.

    rnncourse bench                      # CPU, and CUDA when present
    python -m rnncourse.bench --device cpu --seq-len 50 --output bench.csv
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import platform
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from rnncourse.models.cells import lstm_step_projected
from rnncourse.models.fused_lstm import FusedLSTM
from rnncourse.models.minimal import MinGRU
from rnncourse.models.sequence import LSTM
from rnncourse.runtime import resolve_device

__all__ = [
    "LSTM_VARIANTS",
    "SCAN_MODES",
    "BenchReport",
    "BenchRow",
    "TIMERS",
    "Timing",
    "bench_lstm",
    "bench_min_gru",
    "device_name",
    "format_markdown",
    "format_csv",
    "lstm_flops",
    "main",
    "matmul_gflops",
    "resolve_timer",
    "run_benchmarks",
    "time_call",
    "write_report",
]

LSTM_VARIANTS = ("torch", "loop", "fused", "compiled")
SCAN_MODES = ("sequential", "log_scan", "blocked_scan")
LSTM_LABELS = {
    "torch": "torch.nn.LSTM",
    "loop": "rnncourse LSTM (plain loop)",
    "fused": "rnncourse FusedLSTM",
    "compiled": "plain loop, torch.compile'd step",
}
SCAN_LABELS = {
    "sequential": "minGRU loop",
    "log_scan": "minGRU log-space scan",
    "blocked_scan": "minGRU blocked scan",
}


TIMERS = ("wall", "cpu")


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


@dataclass
class BenchRow:
    """One measured configuration. `ratio` = wall time / the section reference's wall time."""

    section: str
    name: str
    device: str
    seq_len: int
    batch_size: int
    input_size: int
    hidden_size: int
    wall_ms: float | None
    cpu_ms: float | None
    ratio: float | None = None
    note: str = ""


@dataclass
class BenchReport:
    """Rows and where they were measured."""

    rows: list[BenchRow]
    devices: dict[str, str]
    torch_version: str
    threads: int
    date: str
    timer: str = "wall"
    python: str = field(default_factory=platform.python_version)

    def to_dicts(self) -> list[dict]:
        return [asdict(row) for row in self.rows]


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


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def resolve_timer(timer: str, device: torch.device | str) -> str:
    """`timer` checked, and "wall" on CUDA whatever was asked (CPU time misses GPU work)."""
    if timer not in TIMERS:
        raise ValueError(f"timer must be one of {', '.join(TIMERS)}; got {timer!r}")
    return "wall" if torch.device(device).type == "cuda" else timer


def time_call(
    run: Callable[[], object], *, device: torch.device | str = "cpu", repeats: int = 5,
    warmup: int = 1, timer: str = "wall",
) -> Timing:
    """Time `run()` `repeats` times after `warmup` untimed calls; CUDA is synchronised around it.

    Returns the fastest run by `timer` ("wall" or "cpu"), and the median by the same timer.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats ≥ 1 and warmup ≥ 0, got repeats={repeats}, warmup={warmup}")
    device = torch.device(device)
    timer = resolve_timer(timer, device)
    for _ in range(warmup):
        run()
    _synchronize(device)
    runs = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        _synchronize(device)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    runs.sort(key=lambda times: times[1] if timer == "cpu" else times[0])
    best_wall, best_cpu = runs[0]
    median = runs[len(runs) // 2][1 if timer == "cpu" else 0]
    return Timing(best_wall * 1e3, best_cpu * 1e3, median * 1e3, repeats, timer)


def _seeded_module(build: Callable[[], nn.Module], seed: int, device: torch.device) -> nn.Module:
    """`build()` on `device`, its weights drawn from torch's generator seeded with `seed`.

    The global random state is restored afterwards, so a benchmark leaves it as it found it.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build().to(device)


# ----------------------------------------------------------------------------------------------
# LSTM implementations


def _compiled_loop(reference: LSTM, compile_mode: str) -> Callable:
    """The plain loop of `reference` (one layer) with its cell step compiled by torch.compile."""
    step = torch.compile(lstm_step_projected, mode=compile_mode, dynamic=False)
    weight_ih, weight_hh, bias_ih, bias_hh = reference.layer_parameters(0)

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        projection = nn.functional.linear(inputs, weight_ih, bias_ih)  # hoisted, all t at once
        state = (inputs.new_zeros(inputs.shape[1], reference.hidden_size),) * 2
        outputs = []
        for projection_t in projection.unbind(0):
            state = step(projection_t, state, weight_hh, bias_hh)
            outputs.append(state[0])
        return torch.stack(outputs)

    return forward


def _lstm_forward(variant: str, reference: nn.LSTM, compile_mode: str) -> Callable:
    """A function inputs (T, B, I) -> outputs (T, B, H) for one LSTM variant, same weights."""
    if variant == "torch":
        return lambda inputs: reference(inputs)[0]
    if variant in ("loop", "fused", "compiled"):
        module = (FusedLSTM if variant == "fused" else LSTM)(
            reference.input_size, reference.hidden_size
        ).to(reference.weight_ih_l0.device)
        module.load_state_dict(reference.state_dict())
        if variant == "compiled":
            return _compiled_loop(module, compile_mode)
        return lambda inputs: module(inputs)[0]
    raise ValueError(f"variant must be one of {', '.join(LSTM_VARIANTS)}; got {variant!r}")


def bench_lstm(
    seq_len: int = 100,
    batch_size: int = 64,
    input_size: int = 256,
    hidden_size: int = 256,
    *,
    device: torch.device | str | None = None,
    variants: Sequence[str] = LSTM_VARIANTS,
    repeats: int = 5,
    warmup: int = 1,
    compile_mode: str = "default",
    timer: str = "wall",
    seed: int = 0,
) -> list[BenchRow]:
    """Forward + backward of one LSTM layer in each variant, with the same weights and input.

    Ratios (by `timer`, see `Timing`) are against torch.nn.LSTM, measured first whether asked
    for or not. A variant that fails (torch.compile without a working compiler, say) gives a row
    with the error as its note.
    """
    device = resolve_device(device)
    timer = resolve_timer(timer, device)
    reference = _seeded_module(lambda: nn.LSTM(input_size, hidden_size), seed, device)
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(seq_len, batch_size, input_size, generator=generator).to(device)
    inputs.requires_grad_(True)
    sizes = {"seq_len": seq_len, "batch_size": batch_size, "input_size": input_size,
             "hidden_size": hidden_size}
    rows, reference_ms = [], None
    for variant in ["torch", *[v for v in variants if v != "torch"]]:
        note = ""
        try:
            forward = _lstm_forward(variant, reference, compile_mode)

            def step(forward: Callable = forward) -> None:
                forward(inputs).sum().backward()

            if variant == "compiled":  # the first call compiles: time it on its own
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    compile_timing = time_call(step, device=device, repeats=1, warmup=0)
                note = f"compile + first call {compile_timing.wall_ms / 1e3:.1f} s"
            timing = time_call(step, device=device, repeats=repeats, warmup=warmup, timer=timer)
        except Exception as error:  # a variant that cannot run here is reported, not fatal
            message = str(error).strip().splitlines()[0][:120] if str(error).strip() else ""
            rows.append(BenchRow("lstm", LSTM_LABELS[variant], str(device), **sizes, wall_ms=None,
                                 cpu_ms=None, note=f"failed: {type(error).__name__}: {message}"))
            continue
        if variant == "torch":
            reference_ms = timing.ms
            note = "cuDNN" if device.type == "cuda" else "oneDNN" if _uses_onednn() else "ATen"
        if variant == "torch" and "torch" not in variants:
            continue
        rows.append(BenchRow("lstm", LSTM_LABELS[variant], str(device), **sizes,
                             wall_ms=timing.wall_ms, cpu_ms=timing.cpu_ms,
                             ratio=timing.ms / reference_ms, note=note))
    return rows


def lstm_flops(seq_len: int, batch_size: int, input_size: int, hidden_size: int) -> float:
    """Floating-point operations of one LSTM layer's forward + backward pass, products only:

        forward 2·T·B·(I + H)·4H = 8·T·B·H·(I + H); backward about twice that (the gradients
        with respect to the inputs and to the weights), so 24·T·B·H·(I + H) in all.
    """
    return 24.0 * seq_len * batch_size * hidden_size * (input_size + hidden_size)


def matmul_gflops(rows: int, inner: int, columns: int, *, device: torch.device | str = "cpu",
                  repeats: int = 5, timer: str = "wall") -> float:
    """GFLOP/s of one `torch.matmul` of a (rows × inner) by an (inner × columns) matrix."""
    device = torch.device(device)
    generator = torch.Generator().manual_seed(0)
    left = torch.randn(rows, inner, generator=generator).to(device)
    right = torch.randn(inner, columns, generator=generator).to(device)
    timing = time_call(lambda: left @ right, device=device, repeats=repeats, timer=timer)
    return 2.0 * rows * inner * columns / (timing.ms * 1e-3) / 1e9


def _uses_onednn() -> bool:
    """Whether torch.nn.LSTM on the CPU runs oneDNN's fused kernel (float32, oneDNN enabled)."""
    return torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled


# ----------------------------------------------------------------------------------------------
# minGRU: scan against loop


def bench_min_gru(
    lengths: Sequence[int] = (256, 512, 1024, 2048, 4096),
    batch_size: int = 8,
    hidden_size: int = 64,
    *,
    device: torch.device | str | None = None,
    modes: Sequence[str] = SCAN_MODES,
    repeats: int = 3,
    warmup: int = 1,
    timer: str = "wall",
    seed: int = 0,
) -> list[BenchRow]:
    """Forward + backward of a minGRU layer (I = H) in each mode, for every sequence length.

    Ratios are the loop's time over each mode's time at the same length (the speed-up), by
    `timer` (see `Timing`).
    """
    device = resolve_device(device)
    timer = resolve_timer(timer, device)
    unknown = [mode for mode in modes if mode not in SCAN_MODES]
    if unknown:
        raise ValueError(f"modes must be among {', '.join(SCAN_MODES)}; got {unknown}")
    model = _seeded_module(lambda: MinGRU(hidden_size, hidden_size), seed, device)
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for seq_len in lengths:
        inputs = torch.randn(seq_len, batch_size, hidden_size, generator=generator).to(device)
        timings = {}
        for mode in ["sequential", *[m for m in modes if m != "sequential"]]:

            def step(mode: str = mode, inputs: torch.Tensor = inputs) -> None:
                model(inputs, mode=mode)[0].sum().backward()

            timings[mode] = time_call(step, device=device, repeats=repeats, warmup=warmup,
                                      timer=timer)
        loop_ms = timings["sequential"].ms
        for mode in modes:
            timing = timings[mode]
            rows.append(BenchRow("min_gru", SCAN_LABELS[mode], str(device), seq_len, batch_size,
                                 hidden_size, hidden_size, timing.wall_ms, timing.cpu_ms,
                                 ratio=loop_ms / timing.ms))
    return rows


# ----------------------------------------------------------------------------------------------
# The whole run, and its report


def run_benchmarks(
    devices: Sequence[str] | None = None,
    *,
    lstm: dict | None = None,
    min_gru: dict | None = None,
    threads: int | None = None,
    timer: str = "wall",
) -> BenchReport:
    """Both sections on every device (default: the CPU, and CUDA when present).

    `lstm` and `min_gru` are keyword arguments for `bench_lstm` and `bench_min_gru`; pass
    `lstm={"variants": ()}` or `min_gru={"lengths": ()}` to skip a section. `threads` sets
    torch's CPU threads; `timer` ("wall" or "cpu") picks the best run and the ratios on CPUs.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    if devices is None:
        devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    rows: list[BenchRow] = []
    names = {}
    for device in devices:
        resolved = resolve_device(device)
        names[str(resolved)] = device_name(resolved)
        lstm_arguments, min_gru_arguments = dict(lstm or {}), dict(min_gru or {})
        if lstm_arguments.get("variants", LSTM_VARIANTS):  # an empty list skips the section
            rows += bench_lstm(device=resolved, timer=timer, **lstm_arguments)
        if min_gru_arguments.get("lengths", (256,)):
            rows += bench_min_gru(device=resolved, timer=timer, **min_gru_arguments)
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return BenchReport(rows, names, torch.__version__, torch.get_num_threads(), date, timer)


def _number(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def format_markdown(report: BenchReport) -> str:
    """The report as markdown: a provenance line, then one table per section."""
    devices = "; ".join(f"{key}: {name}" for key, name in report.devices.items())
    lines = [
        f"Measured {report.date} with torch {report.torch_version}, Python {report.python}, "
        f"{report.threads} CPU threads. Devices: {devices}.",
        f"Times: the fastest of several forward + backward runs by {report.timer} time "
        "(wall-clock and CPU milliseconds of that run); ratios by the same time on CPUs, by "
        "wall-clock time on GPUs.",
        "",
    ]
    sections = {
        "lstm": ("LSTM, one layer", "× torch.nn.LSTM"),
        "min_gru": ("minGRU, scans against the loop", "speed-up over the loop"),
    }
    for section, (title, ratio_name) in sections.items():
        rows = [row for row in report.rows if row.section == section]
        if not rows:
            continue
        lines += [f"**{title}**", "",
                  f"| device | implementation | T | B | I | H | wall ms | CPU ms | {ratio_name} "
                  "| note |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for row in rows:
            lines.append(
                f"| {row.device} | {row.name} | {row.seq_len} | {row.batch_size} | "
                f"{row.input_size} | {row.hidden_size} | {_number(row.wall_ms)} | "
                f"{_number(row.cpu_ms)} | {_number(row.ratio, 2)} | {row.note} |"
            )
        lines.append("")
    return "\n".join(lines)


def format_csv(report: BenchReport) -> str:
    """The rows as CSV, each with the provenance columns (torch version, date, device name)."""
    buffer = io.StringIO()
    columns = [*BenchRow.__dataclass_fields__, "device_name", "torch_version", "threads", "timer",
               "date"]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        writer.writerow({**asdict(row), "device_name": report.devices.get(row.device, row.device),
                         "torch_version": report.torch_version, "threads": report.threads,
                         "timer": report.timer, "date": report.date})
    return buffer.getvalue()


def write_report(report: BenchReport, path: str | Path) -> Path:
    """Save as CSV (a .csv path) or markdown (anything else)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = format_csv(report) if path.suffix.lower() == ".csv" else format_markdown(report)
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------------------------
# Command line: the options are defined in rnncourse.commands.bench (which imports no torch, so
# `rnncourse --help` stays fast); `python -m rnncourse.bench` takes the same ones.


def main(argv: list[str] | None = None) -> int:
    from rnncourse.commands.bench import HELP, add_arguments, run

    parser = argparse.ArgumentParser(prog="python -m rnncourse.bench", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
