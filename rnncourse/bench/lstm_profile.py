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

How: the total is the best of `repeats` clean runs by CPU time (the variants in turn, round after
round, with the GEMM reference products among them; see `time_with_gemm_reference`). The time
inside each operation comes from further runs under `torch.profiler` (each operation's own time,
without the operations it calls), scaled by the run's CPU time over its wall time, so that time
the process spent waiting for the processor on a machine shared with other work is not counted;
the least of those runs is kept for each category. A compiled kernel's call, and a C step's
call, is one profiler range of element-wise work (the ranges inside it for torch.compile's
wrapper and guard checks count as overhead). The profiler adds about a microsecond to every
operation, which falls mostly on the small element-wise ones.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode, _disable_current_modes

from rnncourse.bench.lstm import FUSED_ELEMENTWISE, lstm_flops, time_with_gemm_reference
from rnncourse.bench.timing import device_name, seeded_module
from rnncourse.models.fused_lstm import FusedLSTM
from rnncourse.models.kernels import ElementwiseKernel
from rnncourse.models.sequence import LSTM
from rnncourse.runtime import resolve_device

__all__ = ["PROFILE_VARIANTS", "LSTMProfile", "TimeBreakdown", "describe_savings",
           "profile_lstm"]

# In the order of chapter 4's story: each differs from the one before by one change.
PROFILE_VARIANTS = ("loop", "fused_torch", "fused", "fused_compiled", "fused_c", "torch")
CHANGES = {
    "fused_torch": "one autograd node per layer, hand-written BPTT, products over all T·B rows",
    "fused": "products by oneDNN with weights packed once per pass",
    "fused_compiled": "each step's element-wise work compiled into one kernel by torch.compile",
    "fused_c": ("each step's element-wise work as one C function instead, the biases' "
                "gradient summed in it"),
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
    """One variant's forward + backward time, split (milliseconds of CPU time). `operations`:
    the operations that compute or move data (kernels run), per forward + backward pass."""

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
    """The breakdowns of every variant at one size, with the machine's GEMM rates.

    `cpu_share`: the least share of the processor the profiled runs had (CPU time over wall
    time). Near 1 the split is reliable; well below (a machine busy with other work), the
    profiler's wall-clock times are scaled by a share that was not even over the run.
    """

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
    cpu_share: float = 1.0

    def row(self, variant: str) -> TimeBreakdown:
        """The breakdown of `variant` (a KeyError naming the variants measured otherwise)."""
        for row in self.rows:
            if row.variant == variant:
                return row
        raise KeyError(f"{variant!r} was not profiled; profiled: {[r.variant for r in self.rows]}")


COMPILED_RANGE = "rnncourse: compiled element-wise kernel"
# Profiler ranges around a compiled call that are its wrapper, not its work.
COMPILED_WRAPPERS = ("Torch-Compiled Region", "TorchDynamo Cache Lookup")


def _category(key: str) -> str:
    """The category of a profiler event: matmul, fused, elementwise or overhead."""
    if key == COMPILED_RANGE or key.startswith("## Call CompiledFxGraph"):
        return "elementwise"
    if key.startswith(COMPILED_WRAPPERS) or "::" not in key:
        return "overhead"  # Python-level ranges: autograd Functions, wrappers
    name = key.split("::")[-1]
    if name in MATMUL_OPERATIONS:
        return "matmul"
    if name in FUSED_OPERATIONS:
        return "fused"
    return "overhead" if name in NO_ARITHMETIC else "elementwise"


def _observe_compiled(kernel: ElementwiseKernel, run: Callable) -> object:
    with torch.profiler.record_function(COMPILED_RANGE):
        return run()


class _OperationCounter(TorchDispatchMode):
    """Counts the operations that compute or move data, as dispatched (after autograd and
    decompositions, so each is one kernel), and compiled kernel calls."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += func._schema.name.split("::")[-1] not in NO_ARITHMETIC
        return func(*args, **(kwargs or {}))

    def observe_compiled(self, kernel: ElementwiseKernel, run: Callable) -> object:
        self.count += 1
        with _disable_current_modes():
            return run()


def _count_operations(run: Callable[[], object]) -> int:
    counter = _OperationCounter()
    ElementwiseKernel.observer = counter.observe_compiled
    try:
        with counter:
            run()
    finally:
        ElementwiseKernel.observer = None
    return counter.count


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """The process's stderr (file descriptor 2) sent to /dev/null: the profiler's C++ library
    writes a line there when it starts and when it stops."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _time_inside_operations(run: Callable[[], object]) -> tuple[dict[str, float], float]:
    """(CPU-time milliseconds inside the operations of `run()` by category, the run's CPU
    time over its wall time)."""
    ElementwiseKernel.observer = _observe_compiled
    try:
        with _quiet_stderr(), torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU]
        ) as prof:
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            share = min(1.0, (time.process_time() - cpu) / (time.perf_counter() - wall))
    finally:
        ElementwiseKernel.observer = None
    milliseconds = {"matmul": 0.0, "elementwise": 0.0, "fused": 0.0, "overhead": 0.0}
    for event in prof.key_averages():
        milliseconds[_category(event.key)] += event.self_cpu_time_total / 1e3 * share
    return milliseconds, share


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
                               elementwise=FUSED_ELEMENTWISE.get(variant, "eager"))
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
    threads: int | None = 1,
    device: torch.device | str | None = "cpu",
    seed: int = 0,
) -> LSTMProfile:
    """Forward + backward of one LSTM layer in each variant, its CPU time split into matrix
    products, element-wise work and framework overhead (see the module docstring). CPU only
    (`device` "cpu" or None, the CPU here too even where a GPU is the default device): on a GPU
    the work runs asynchronously, where `torch.profiler` measures kernels instead.
    `threads`: torch's CPU threads while profiling (restored afterwards; None leaves them): with
    one, CPU time is the time of the work, not the sum over threads waiting for each other."""
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _profile(seq_len, batch_size, input_size, hidden_size, variants, repeats, device,
                        seed)
    finally:
        torch.set_num_threads(previous_threads)


def _profile(seq_len: int, batch_size: int, input_size: int, hidden_size: int,
             variants: Sequence[str], repeats: int, device: torch.device | str | None,
             seed: int) -> LSTMProfile:
    device = torch.device("cpu") if device is None else resolve_device(device)
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
    sizes = {"seq_len": seq_len, "batch_size": batch_size, "input_size": input_size,
             "hidden_size": hidden_size}
    totals, gemm = time_with_gemm_reference(runs, sizes, device=device, repeats=repeats,
                                            timer="cpu")
    flops = lstm_flops(**sizes)
    rows, shares = [], []
    for variant, run in runs.items():
        measured = [_time_inside_operations(run) for _ in range(max(2, repeats // 2))]
        least = {key: min(times[key] for times, _ in measured) for key in measured[0][0]}
        shares += [share for _, share in measured]
        total = totals[variant].cpu_ms
        inside = least["matmul"] + least["elementwise"] + least["fused"]
        rows.append(TimeBreakdown(
            variant, modules[variant][1], total, least["matmul"], least["elementwise"],
            max(0.0, total - inside), least["fused"], _count_operations(run), flops,
        ))
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return LSTMProfile(seq_len, batch_size, input_size, hidden_size, rows, gemm,
                       device_name(device), date=date, cpu_share=min(shares))


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
    if profile.cpu_share < 0.8:
        sentences.append(f"The machine was busy: the profiled runs had as little as "
                         f"{profile.cpu_share:.0%} of a processor, so the split is approximate.")
    return sentences
