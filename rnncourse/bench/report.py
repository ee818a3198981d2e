"""What a benchmark run records, and how it prints: rows, provenance, markdown and CSV."""

from __future__ import annotations

import csv
import io
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["BenchReport", "BenchRow", "format_csv", "format_markdown", "write_report"]


@dataclass
class BenchRow:
    """One measured configuration. `ratio`: the LSTM's time over torch.nn.LSTM's; the scans'
    speed-up, the loop's time over theirs. `gflops`: the LSTM's 24·T·B·H·(I+H) operations over
    its time; `gemm_percent`: that rate as a percentage of the fastest measured GEMM rate.
    `path`: the kernels that ran (e.g. "oneDNN products, compiled element-wise")."""

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
    gflops: float | None = None
    gemm_percent: float | None = None
    path: str = ""


@dataclass
class BenchReport:
    """Rows and where they were measured. `gemm`: per device, the GEMM rates (GFLOP/s) by kernel
    ("torch", "onednn") at the LSTM's input-projection shape, the reference of `gemm_percent`.
    `float32`: per GPU, whether its float32 products ran in TF32 (`float32_arithmetic`)."""

    rows: list[BenchRow]
    devices: dict[str, str]
    torch_version: str
    threads: int
    date: str
    timer: str = "wall"
    python: str = field(default_factory=platform.python_version)
    gemm: dict[str, dict[str, float]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    float32: dict[str, str] = field(default_factory=dict)  # per GPU, `float32_arithmetic`

    def to_dicts(self) -> list[dict]:
        return [asdict(row) for row in self.rows]


def _number(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


_GEMM_NAMES = {"torch": "torch.matmul", "onednn": "oneDNN, packed weight"}


def _provenance(report: BenchReport) -> list[str]:
    devices = "; ".join(f"{key}: {name}" for key, name in report.devices.items())
    lines = [
        f"Measured {report.date} with torch {report.torch_version}, Python {report.python}, "
        f"{report.threads} CPU threads. Devices: {devices}.",
    ]
    if report.environment:
        lines.append("Environment: " + ", ".join(f"{key}={value}"
                                                 for key, value in report.environment.items())
                     + ".")
    lines.append(
        f"Times: the fastest of several forward + backward runs by {report.timer} time, the "
        "variants timed in turn round after round (wall-clock and CPU milliseconds of that run); "
        "ratios by the same time on CPUs, by wall-clock time on GPUs."
    )
    for device, arithmetic in report.float32.items():
        lines.append(f"Float32 on {device}: {arithmetic}.")
    for device, rates in report.gemm.items():
        named = ", ".join(f"{_GEMM_NAMES.get(kernel, kernel)} {rate:.0f} GFLOP/s"
                          for kernel, rate in rates.items())
        lines.append(f"GEMM rate on {device} at the LSTM's input-projection shape (the higher of "
                     f"a run on its own and one among the LSTMs): {named}; '% of GEMM' is of the "
                     "fastest.")
    return [*lines, ""]


def format_markdown(report: BenchReport) -> str:
    """The report as markdown: a provenance paragraph, then one table per section."""
    lines = _provenance(report)
    lstm_rows = [row for row in report.rows if row.section == "lstm"]
    if lstm_rows:
        lines += ["**LSTM, one layer, forward + backward**", "",
                  "| device | implementation | T | B | I | H | wall ms | CPU ms | × torch.nn.LSTM "
                  "| GFLOP/s | % of GEMM | kernels | note |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in lstm_rows:
            lines.append(
                f"| {row.device} | {row.name} | {row.seq_len} | {row.batch_size} | "
                f"{row.input_size} | {row.hidden_size} | {_number(row.wall_ms)} | "
                f"{_number(row.cpu_ms)} | {_number(row.ratio, 2)} | {_number(row.gflops)} | "
                f"{_number(row.gemm_percent, 0)} | {row.path} | {row.note} |"
            )
        lines.append("")
    titles = {"recurrence": "h_t = a_t ⊙ h_{t-1} + b_t alone (a, b given), scans against the "
                            "loop, forward + backward",
              "min_gru": "minGRU layer (projection, gates and recurrence), scans against the "
                         "loop, forward + backward"}
    for section, title in titles.items():
        scan_rows = [row for row in report.rows if row.section == section]
        if not scan_rows:
            continue
        lines += [f"**{title}**", "",
                  "| device | implementation | T | B | I | H | wall ms | CPU ms | "
                  "speed-up over the loop | note |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for row in scan_rows:
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
