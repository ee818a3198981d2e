"""Where an LSTM's time goes: matrix products, element-wise work and framework overhead.

`profile_lstm` runs one forward + backward pass of each variant and splits its CPU time three
ways (four for torch.nn.LSTM, whose oneDNN primitive does products and element-wise work in one
call that cannot be split):

* **matrix products**: the time inside mm, addmm, bmm, oneDNN's linear product and its weight
  packing; their rate, `matmul_gflops`, is the LSTM's 24·T·B·H·(I+H) operations over it;
* **element-wise**: the time inside every other operation that touches data (activations,
  products of elements, sums, copies), and inside each call of a compiled element-wise kernel;
* **framework overhead**: the rest of a clean run's time, spent outside the operations: Python,
  the dispatcher, autograd's bookkeeping, views and allocation.

How: the total is the best of `repeats` clean runs (the variants in turn, round after round);
the time inside each operation is measured in further runs under a dispatch mode that reads the
process's CPU clock around every operation (`time.process_time_ns`), and the least of those
runs is kept for each category. The CPU clock counts only this process's work, so the breakdown
holds on a machine shared with other work. The mode's own cost falls outside the operations it
times, and the clean total does not include it. A compiled kernel's call is timed whole,
including its few microseconds of Python wrapper.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode, _disable_current_modes

from rnncourse.bench.lstm import gemm_rates, lstm_flops
from rnncourse.bench.timing import device_name, seeded_module, time_interleaved
from rnncourse.models.fused_lstm import FusedLSTM
from rnncourse.models.kernels import ElementwiseKernel
from rnncourse.models.sequence import LSTM
from rnncourse.runtime import resolve_device

__all__ = ["PROFILE_VARIANTS", "LSTMProfile", "TimeBreakdown", "describe_savings",
           "profile_lstm"]

# In the order of chapter 4's story: each differs from the one before by one change.
PROFILE_VARIANTS = ("loop", "fused_torch", "fused", "fused_compiled", "torch")
CHANGES = {
    "fused_torch": "one autograd node per layer, hand-written BPTT, products over all T·B rows",
    "fused": "products by oneDNN with weights packed once per pass",
    "fused_compiled": "each step's element-wise work compiled into one kernel",
}
MATMUL_OPERATIONS = frozenset({"mm", "addmm", "bmm", "baddbmm", "addbmm", "mv", "addmv", "dot",
                               "_linear_pointwise", "_reorder_linear_weight"})
FUSED_OPERATIONS = frozenset({"mkldnn_rnn_layer", "mkldnn_rnn_layer_backward", "_cudnn_rnn",
                              "_cudnn_rnn_backward", "lstm", "_thnn_fused_lstm_cell"})
# Operations that only describe or allocate memory: their time counts as overhead.
NO_ARITHMETIC = frozenset({
    "view", "_unsafe_view", "reshape", "_reshape_alias", "t", "transpose", "permute", "select",
    "slice", "unbind", "split", "split_with_sizes", "chunk", "unsqueeze", "squeeze", "expand",
    "as_strided", "alias", "detach", "empty", "empty_like", "empty_strided", "new_empty",
    "new_empty_strided", "lift_fresh", "_has_compatible_shallow_copy_type",
})


@dataclass
class TimeBreakdown:
    """One variant's forward + backward time, split (milliseconds of CPU time)."""

    variant: str
    name: str
    total_ms: float
    matmul_ms: float
    elementwise_ms: float
    overhead_ms: float
    fused_ms: float = 0.0
    operations: int = 0
    flops: float = 0.0

    @property
    def gflops(self) -> float:
        """The whole pass's rate: its floating-point operations over its total time."""
        return self.flops / (self.total_ms * 1e-3) / 1e9

    @property
    def matmul_gflops(self) -> float | None:
        """The rate of its matrix products alone (None where they are not separable)."""
        return self.flops / (self.matmul_ms * 1e-3) / 1e9 if self.matmul_ms > 0 else None


@dataclass
class LSTMProfile:
    """The breakdowns of every variant at one size, with the machine's GEMM rates."""

    seq_len: int
    batch_size: int
    input_size: int
    hidden_size: int
    rows: list[TimeBreakdown]
    gemm_gflops: dict[str, float]
    device: str
    torch_version: str = field(default_factory=lambda: torch.__version__)
    threads: int = field(default_factory=torch.get_num_threads)
    date: str = ""

    def row(self, variant: str) -> TimeBreakdown:
        """The breakdown of `variant` (a KeyError naming the variants measured otherwise)."""
        for row in self.rows:
            if row.variant == variant:
                return row
        raise KeyError(f"{variant!r} was not profiled; profiled: {[r.variant for r in self.rows]}")


class _OperationClock(TorchDispatchMode):
    """CPU time inside each operation, by category; compiled kernels are timed whole."""

    def __init__(self) -> None:
        super().__init__()
        self.nanoseconds = {"matmul": 0, "elementwise": 0, "fused": 0, "none": 0}
        self.operations = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name.split("::")[-1]
        start = time.process_time_ns()
        result = func(*args, **(kwargs or {}))
        elapsed = time.process_time_ns() - start
        category = ("matmul" if name in MATMUL_OPERATIONS else "fused" if name in FUSED_OPERATIONS
                    else "none" if name in NO_ARITHMETIC else "elementwise")
        self.nanoseconds[category] += elapsed
        self.operations += 1
        return result

    def observe_compiled(self, kernel: ElementwiseKernel, run: Callable) -> object:
        with _disable_current_modes():
            start = time.process_time_ns()
            result = run()
            self.nanoseconds["elementwise"] += time.process_time_ns() - start
        self.operations += 1
        return result


def _variants(reference: nn.LSTM, variants: Sequence[str]) -> dict[str, tuple[nn.Module, str]]:
    modules = {}
    for variant in variants:
        if variant == "torch":
            modules[variant] = (reference, "torch.nn.LSTM (one oneDNN LSTM call per pass)")
            continue
        if variant == "loop":
            module = LSTM(reference.input_size, reference.hidden_size)
        else:
            module = FusedLSTM(reference.input_size, reference.hidden_size,
                               matmul="torch" if variant == "fused_torch" else "auto",
                               elementwise="compiled" if variant == "fused_compiled" else "eager")
        module.to(reference.weight_ih_l0.device).load_state_dict(reference.state_dict())
        name = ("plain loop (autograd, operations per step)" if variant == "loop"
                else f"FusedLSTM: {module.kernels().describe()}")
        modules[variant] = (module, name)
    return modules


def profile_lstm(
    seq_len: int = 100,
    batch_size: int = 64,
    input_size: int = 256,
    hidden_size: int = 256,
    *,
    variants: Sequence[str] = PROFILE_VARIANTS,
    repeats: int = 5,
    device: torch.device | str | None = None,
    seed: int = 0,
) -> LSTMProfile:
    """Forward + backward of one LSTM layer in each variant, its CPU time split into matrix
    products, element-wise work and framework overhead (see the module docstring). CPU only:
    on a GPU the work runs asynchronously, where `torch.profiler` measures kernels instead."""
    device = resolve_device(device)
    if device.type != "cpu":
        raise ValueError(f"profile_lstm measures CPU time and runs on the CPU; got device={device}")
    unknown = [variant for variant in variants if variant not in PROFILE_VARIANTS]
    if unknown:
        raise ValueError(f"variants must be among {', '.join(PROFILE_VARIANTS)}; got {unknown}")
    reference = seeded_module(lambda: nn.LSTM(input_size, hidden_size), seed, device)
    inputs = torch.randn(seq_len, batch_size, input_size,
                         generator=torch.Generator().manual_seed(seed)).requires_grad_()
    modules = _variants(reference, variants)
    runs = {variant: (lambda module=module: module(inputs)[0].sum().backward())
            for variant, (module, _) in modules.items()}
    totals = time_interleaved(runs, repeats=repeats, warmup=1, timer="cpu")
    flops = lstm_flops(seq_len, batch_size, input_size, hidden_size)
    rows = []
    for variant, run in runs.items():
        clocks = []
        for _ in range(max(1, repeats // 2)):
            clock = _OperationClock()
            ElementwiseKernel.observer = clock.observe_compiled
            try:
                with clock:
                    run()
            finally:
                ElementwiseKernel.observer = None
            clocks.append(clock)
        least = {key: min(clock.nanoseconds[key] for clock in clocks) / 1e6
                 for key in clocks[0].nanoseconds}
        total = totals[variant].cpu_ms
        inside = least["matmul"] + least["elementwise"] + least["fused"]
        rows.append(TimeBreakdown(
            variant, modules[variant][1], total, least["matmul"], least["elementwise"],
            max(0.0, total - inside), least["fused"], clocks[0].operations, flops,
        ))
    gemm = gemm_rates(seq_len, batch_size, input_size, hidden_size, device=device, timer="cpu")
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return LSTMProfile(seq_len, batch_size, input_size, hidden_size, rows, gemm,
                       device_name(device), date=date)


def _difference(label: str, before_ms: float, after_ms: float) -> str:
    change = after_ms - before_ms
    return f"{label} {'−' if change < 0 else '+'}{abs(change):.0f} ms"


def describe_savings(profile: LSTMProfile) -> list[str]:
    """Sentences, computed from `profile`, on what each change saved (each variant against the
    one before it in `PROFILE_VARIANTS`), and where the fastest stands against torch.nn.LSTM."""
    sentences = []
    order = [row for row in profile.rows if row.variant != "torch"]
    for before, after in zip(order, order[1:], strict=False):
        saved = before.total_ms - after.total_ms
        change = CHANGES.get(after.variant, after.name)
        parts = [_difference(label, getattr(before, key), getattr(after, key))
                 for label, key in (("matrix products", "matmul_ms"),
                                    ("element-wise", "elementwise_ms"),
                                    ("overhead", "overhead_ms"))]
        verb = "saved" if saved >= 0 else "cost"
        sentences.append(
            f"{change[0].upper()}{change[1:]} {verb} {abs(saved):.0f} ms "
            f"({abs(saved) / before.total_ms:.0%} of {before.total_ms:.0f} ms): "
            f"{', '.join(parts)}; operations {before.operations} → {after.operations}."
        )
    best_gemm = max(profile.gemm_gflops.values())
    if order:
        fastest = min(order, key=lambda row: row.total_ms)
        sentence = (f"The fastest, {fastest.name}, runs at {fastest.gflops:.0f} GFLOP/s, "
                    f"{fastest.gflops / best_gemm:.0%} of the fastest GEMM rate measured "
                    f"({best_gemm:.0f} GFLOP/s)")
        if any(row.variant == "torch" for row in profile.rows):
            torch_row = profile.row("torch")
            sentence += (f", and takes {fastest.total_ms / torch_row.total_ms:.2f} × the time of "
                         f"torch.nn.LSTM ({torch_row.total_ms:.0f} ms)")
        sentences.append(sentence + ".")
    return sentences
