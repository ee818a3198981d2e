"""`rnncourse bench`: how fast are the recurrences of this course, side by side, on this machine?

    timing.py   best-of-N timings (wall-clock or CPU time), interleaved between variants; GEMM rates
    lstm.py     torch.nn.LSTM against the plain-loop, fused and compiled LSTMs, with GFLOP/s and
                the share of the machine's GEMM rate
    scan.py     minGRU's loop against its scans: the recurrence alone and the whole layer, and the
                speed-up against T and against the width B·H (the crossover)
    lstm_profile.py  where the LSTM's time goes: matrix products, element-wise work, overhead
    report.py   rows, provenance (device, torch version, date), markdown and CSV
    suite.py    the whole run, every section on every device
    __main__.py `python -m rnncourse.bench`: the command line

Every time is the best of `repeats` runs after `warmup` runs (the least disturbed by other work
on the machine), as wall-clock milliseconds with the CPU time of that run beside it; the variants
compared are timed in turn, round after round. The command line is `rnncourse bench`
(`rnncourse/commands/bench.py`; also `python -m rnncourse.bench`).
"""

from rnncourse.bench.lstm import LSTM_LABELS, LSTM_VARIANTS, bench_lstm, gemm_rates, lstm_flops
from rnncourse.bench.lstm_profile import (
    PROFILE_VARIANTS,
    LSTMProfile,
    TimeBreakdown,
    describe_savings,
    profile_lstm,
)
from rnncourse.bench.report import (
    BenchReport,
    BenchRow,
    format_csv,
    format_markdown,
    write_report,
)
from rnncourse.bench.scan import (
    EAGER_SCAN_MODES,
    MEMORY_FLOOR_LABEL,
    SCAN_LABELS,
    SCAN_MODES,
    ScanSweep,
    bench_min_gru,
    bench_recurrence,
    floor_outputs,
    memory_floor_pass,
    scan_speedup_by_length,
    scan_speedup_by_width,
)
from rnncourse.bench.suite import run_benchmarks
from rnncourse.bench.timing import (
    GEMM_KERNELS,
    TIMERS,
    Timing,
    device_name,
    float32_arithmetic,
    matmul_gflops,
    resolve_timer,
    time_call,
    time_interleaved,
)

__all__ = [
    "EAGER_SCAN_MODES",
    "GEMM_KERNELS",
    "LSTM_LABELS",
    "LSTM_VARIANTS",
    "MEMORY_FLOOR_LABEL",
    "PROFILE_VARIANTS",
    "SCAN_LABELS",
    "SCAN_MODES",
    "TIMERS",
    "BenchReport",
    "BenchRow",
    "LSTMProfile",
    "ScanSweep",
    "TimeBreakdown",
    "Timing",
    "bench_lstm",
    "bench_min_gru",
    "bench_recurrence",
    "describe_savings",
    "device_name",
    "float32_arithmetic",
    "format_csv",
    "format_markdown",
    "gemm_rates",
    "lstm_flops",
    "matmul_gflops",
    "floor_outputs",
    "memory_floor_pass",
    "profile_lstm",
    "resolve_timer",
    "run_benchmarks",
    "scan_speedup_by_length",
    "scan_speedup_by_width",
    "time_call",
    "time_interleaved",
    "write_report",
]
