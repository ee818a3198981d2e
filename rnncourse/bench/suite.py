"""The whole benchmark run: both sections on every device, with the report's provenance."""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence

import torch

from rnncourse.bench.lstm import LSTM_VARIANTS, bench_lstm
from rnncourse.bench.report import BenchReport, BenchRow
from rnncourse.bench.scan import bench_min_gru, bench_recurrence
from rnncourse.bench.timing import device_name, float32_arithmetic
from rnncourse.runtime import resolve_device

__all__ = ["ENVIRONMENT_VARIABLES", "run_benchmarks"]

# Settings that change which CPU kernels run; the report records those that are set.
ENVIRONMENT_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS",
                         "MKL_NUM_THREADS", "MKL_ENABLE_INSTRUCTIONS")


def run_benchmarks(
    devices: Sequence[str] | None = None,
    *,
    lstm: dict | None = None,
    recurrence: dict | None = None,
    min_gru: dict | None = None,
    threads: int | None = None,
    timer: str = "wall",
) -> BenchReport:
    """Every section on every device (default: the CPU, and CUDA when present).

    `lstm` and `min_gru` are keyword arguments for `bench_lstm` and `bench_min_gru`;
    `recurrence` for `bench_recurrence`, with `shapes`, a list of (B, H), in place of its batch
    and hidden sizes (default: none, the section is skipped). Pass `lstm={"variants": ()}` or
    `min_gru={"lengths": ()}` to skip a section. `threads` sets torch's CPU threads; `timer`
    ("wall" or "cpu") picks the best run and the ratios on CPUs. The report records the GEMM
    rates the LSTM rows' percentages refer to, and the settings that change the CPU kernels.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    if devices is None:
        devices = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    rows: list[BenchRow] = []
    names, gemm, float32 = {}, {}, {}
    for device in devices:
        resolved = resolve_device(device)
        names[str(resolved)] = device_name(resolved)
        if arithmetic := float32_arithmetic(resolved):
            float32[str(resolved)] = arithmetic
        lstm_arguments, min_gru_arguments = dict(lstm or {}), dict(min_gru or {})
        recurrence_arguments = dict(recurrence or {})
        if lstm_arguments.get("variants", LSTM_VARIANTS):  # an empty list skips the section
            gemm[str(resolved)] = {}  # measured by bench_lstm, in the rounds of the LSTMs
            rows += bench_lstm(device=resolved, timer=timer, gemm=gemm[str(resolved)],
                               **lstm_arguments)
        shapes = recurrence_arguments.pop("shapes", [])
        if recurrence_arguments.get("lengths", (256,)):
            for batch_size, hidden_size in shapes:
                rows += bench_recurrence(batch_size=batch_size, hidden_size=hidden_size,
                                         device=resolved, timer=timer, **recurrence_arguments)
        if min_gru_arguments.get("lengths", (256,)):
            rows += bench_min_gru(device=resolved, timer=timer, **min_gru_arguments)
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    environment = {name: os.environ[name] for name in ENVIRONMENT_VARIABLES if name in os.environ}
    return BenchReport(rows, names, torch.__version__, torch.get_num_threads(), date, timer,
                       gemm=gemm, environment=environment, float32=float32)
