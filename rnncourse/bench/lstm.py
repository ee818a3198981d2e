"""The LSTM section: torch.nn.LSTM against the course's plain loop, fused and compiled LSTMs.

Every variant runs one layer forward and backward with the same weights and input. Beside its
time, each row gives the arithmetic rate it achieved (`lstm_flops` over the time) and that rate
as a share of the fastest GEMM rate measured on the same machine at the LSTM's largest product
shape (`gemm_products`, timed on their own and in the same rounds as the variants, the higher
rate kept): how close the recurrence comes to the machine's limit for this work.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence

import torch
from torch import nn

from rnncourse.bench.report import BenchRow
from rnncourse.bench.timing import (
    Timing,
    gemm_product,
    resolve_timer,
    seeded_module,
    time_interleaved,
)
from rnncourse.models.cells import lstm_step_projected
from rnncourse.models.fused_lstm import FusedLSTM
from rnncourse.models.kernels import align_compiler_with_cpu_kernels, onednn_matmul_available
from rnncourse.models.sequence import LSTM
from rnncourse.runtime import resolve_device, synchronize

__all__ = ["LSTM_LABELS", "LSTM_SIZES", "LSTM_VARIANTS", "bench_lstm", "gemm_product_flops",
           "gemm_products", "gemm_rates", "lstm_flops", "time_with_gemm_reference"]

# The benchmark's default size (T, B, I, H): large enough that the matrix products dominate.
LSTM_SIZES = {"seq_len": 100, "batch_size": 64, "input_size": 256, "hidden_size": 256}

LSTM_VARIANTS = ("torch", "loop", "fused", "fused_compiled", "fused_c", "compiled")
LSTM_LABELS = {
    "torch": "torch.nn.LSTM",
    "loop": "rnncourse LSTM (plain loop)",
    "fused": "rnncourse FusedLSTM",
    "fused_compiled": "rnncourse FusedLSTM, compiled element-wise",
    "fused_c": "rnncourse FusedLSTM, C element-wise",
    "compiled": "plain loop, torch.compile'd step",
}

# The fused variants by the element-wise path of their FusedLSTM.
FUSED_ELEMENTWISE = {"fused": "eager", "fused_compiled": "compiled", "fused_c": "c"}


def lstm_flops(seq_len: int, batch_size: int, input_size: int, hidden_size: int) -> float:
    """Floating-point operations of one LSTM layer's forward + backward pass, products only:

        forward 2·T·B·(I + H)·4H = 8·T·B·H·(I + H); backward twice that (the gradients with
        respect to the inputs and to the weights), so 24·T·B·H·(I + H) in all.
    """
    return 24.0 * seq_len * batch_size * hidden_size * (input_size + hidden_size)


def gemm_products(seq_len: int, batch_size: int, input_size: int, hidden_size: int, *,
                  device: torch.device | str = "cpu") -> dict[str, Callable[[], object]]:
    """The LSTM's input projection, (T·B × I) by (I × 4H), by kernel: `torch.matmul` and, where
    available, oneDNN with a packed weight (the kernel the fused LSTM uses)."""
    shape = (seq_len * batch_size, input_size, 4 * hidden_size)
    kernels = ["torch", *(["onednn"] if onednn_matmul_available(torch.empty(0, device=device))
                          else [])]
    return {kernel: gemm_product(*shape, device=device, kernel=kernel) for kernel in kernels}


def gemm_product_flops(seq_len: int, batch_size: int, input_size: int, hidden_size: int) -> float:
    """Floating-point operations of one of `gemm_products`: 2·T·B·I·4H."""
    return 2.0 * seq_len * batch_size * input_size * 4 * hidden_size


def gemm_rates(seq_len: int, batch_size: int, input_size: int, hidden_size: int, *,
               device: torch.device | str = "cpu", repeats: int = 5,
               timer: str = "wall") -> dict[str, float]:
    """GFLOP/s of each of `gemm_products`, timed on their own."""
    products = gemm_products(seq_len, batch_size, input_size, hidden_size, device=device)
    timings = time_interleaved(products, device=device, repeats=repeats, timer=timer)
    flops = gemm_product_flops(seq_len, batch_size, input_size, hidden_size)
    return {kernel: flops / (timing.ms * 1e-3) / 1e9 for kernel, timing in timings.items()}


def time_with_gemm_reference(
    runs: dict[str, Callable[[], object]], sizes: dict[str, int], *,
    device: torch.device | str = "cpu", repeats: int = 5, warmup: int = 1, timer: str = "wall",
) -> tuple[dict[str, Timing], dict[str, float]]:
    """`time_interleaved(runs)`, and the GEMM rates (`gemm_products`) that the LSTMs' rates are
    shares of, each the higher of two measurements: on its own just before, and in the same
    rounds as `runs`. A shared machine's speed drifts, and a product timed among the LSTMs can
    also pay for memory they gave back; the higher reference is the harder one to come close to.
    """
    alone = gemm_rates(**sizes, device=device, repeats=repeats, timer=timer)
    products = gemm_products(**sizes, device=device)
    timings = time_interleaved({**runs, **{f"GEMM {kernel}": product
                                           for kernel, product in products.items()}},
                               device=device, repeats=repeats, warmup=warmup, timer=timer)
    flops = gemm_product_flops(**sizes)
    gemm = {kernel: max(alone[kernel], flops / (timings.pop(f"GEMM {kernel}").ms * 1e-3) / 1e9)
            for kernel in products}
    return timings, gemm


def _compiled_loop(reference: LSTM, compile_mode: str) -> Callable:
    """The plain loop of `reference` (one layer) with its cell step compiled by torch.compile."""
    align_compiler_with_cpu_kernels()
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


def _torch_kernel(device: torch.device) -> str:
    if device.type == "cuda":  # torch.nn.LSTM runs cuDNN's LSTM where cuDNN is on
        cudnn = torch.backends.cudnn
        return "cuDNN" if cudnn.is_available() and cudnn.enabled else "ATen (cuDNN off)"
    uses_onednn = torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled
    return "oneDNN" if uses_onednn else "ATen"


def _lstm_variant(variant: str, reference: nn.LSTM, compile_mode: str) -> tuple[Callable, str]:
    """(inputs (T, B, I) -> outputs (T, B, H), kernels) for one variant, same weights."""
    device = reference.weight_ih_l0.device
    if variant == "torch":
        return (lambda inputs: reference(inputs)[0]), _torch_kernel(device)
    if variant in FUSED_ELEMENTWISE:
        elementwise = FUSED_ELEMENTWISE[variant]
        module = FusedLSTM(reference.input_size, reference.hidden_size, elementwise=elementwise)
    elif variant in ("loop", "compiled"):
        module = LSTM(reference.input_size, reference.hidden_size)
    else:
        raise ValueError(f"variant must be one of {', '.join(LSTM_VARIANTS)}; got {variant!r}")
    module.to(device).load_state_dict(reference.state_dict())
    if variant == "compiled":
        return _compiled_loop(module, compile_mode), "torch.compile'd step, autograd"
    if variant == "loop":
        return (lambda inputs: module(inputs)[0]), "autograd, operations per step"
    return (lambda inputs: module(inputs)[0]), module


def _failure(error: BaseException) -> str:
    message = str(error).strip().splitlines()[0][:120] if str(error).strip() else ""
    return f"failed: {type(error).__name__}: {message}"


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
    gemm: dict[str, float] | None = None,
) -> list[BenchRow]:
    """Forward + backward of one LSTM layer in each variant, with the same weights and input.

    Ratios (by `timer`, see `Timing`) are against torch.nn.LSTM, measured whether asked for or
    not. The variants are timed in turn, round after round. A variant that fails (torch.compile
    without a working compiler, say) gives a row with the error as its note; a compiled variant's
    first call (its compilation) is timed apart, in the note. `gemm`: the GEMM rates the
    percentages refer to. None or empty: they are measured here (`time_with_gemm_reference`),
    and an empty dict given receives them.
    """
    device = resolve_device(device)
    timer = resolve_timer(timer, device)
    unknown = [variant for variant in variants if variant not in LSTM_VARIANTS]
    if unknown:
        raise ValueError(f"variants must be among {', '.join(LSTM_VARIANTS)}; got {unknown}")
    reference = seeded_module(lambda: nn.LSTM(input_size, hidden_size), seed, device)
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(seq_len, batch_size, input_size, generator=generator).to(device)
    inputs.requires_grad_(True)
    sizes = {"seq_len": seq_len, "batch_size": batch_size, "input_size": input_size,
             "hidden_size": hidden_size}
    flops = lstm_flops(**sizes)

    steps, kernels, notes, failures = {}, {}, {}, {}
    for variant in ["torch", *[v for v in variants if v != "torch"]]:
        try:
            forward, kernels[variant] = _lstm_variant(variant, reference, compile_mode)

            def step(forward: Callable = forward) -> None:
                forward(inputs).sum().backward()

            if variant in ("compiled", "fused_compiled", "fused_c"):  # the first call compiles
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    step()
                    synchronize(device)
                notes[variant] = f"compile + first call {time.perf_counter() - start:.1f} s"
            steps[variant] = step
        except Exception as error:  # a variant that cannot run here is reported, not fatal
            failures[variant] = _failure(error)
    if "torch" not in steps:
        raise RuntimeError(f"torch.nn.LSTM could not run on {device}: {failures['torch']}")
    if gemm:
        timings = time_interleaved(steps, device=device, repeats=repeats, warmup=warmup,
                                   timer=timer)
    else:
        timings, measured = time_with_gemm_reference(steps, sizes, device=device,
                                                     repeats=repeats, warmup=warmup, timer=timer)
        gemm = measured if gemm is None else gemm
        gemm.update(measured)
    reference_ms = timings["torch"].ms
    best_gemm = max(gemm.values()) if gemm else None
    rows = []
    for variant in variants:
        if variant in failures:
            rows.append(BenchRow("lstm", LSTM_LABELS[variant], str(device), **sizes, wall_ms=None,
                                 cpu_ms=None, note=failures[variant]))
            continue
        timing = timings[variant]
        rate = flops / (timing.ms * 1e-3) / 1e9
        path = kernels[variant]
        if isinstance(path, nn.Module):  # a FusedLSTM: which kernels ran, asked after the runs
            path = path.kernels().describe()
        rows.append(BenchRow(
            "lstm", LSTM_LABELS[variant], str(device), **sizes, wall_ms=timing.wall_ms,
            cpu_ms=timing.cpu_ms, ratio=timing.ms / reference_ms, note=notes.get(variant, ""),
            gflops=rate, gemm_percent=None if best_gemm is None else 100 * rate / best_gemm,
            path=path,
        ))
    return rows
