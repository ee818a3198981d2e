"""Chapter 4's experiments for `rnncourse run ch04`, in the page's order, with the page's tables."""

from __future__ import annotations

from typing import Any

from rnncourse.bench import describe_savings
from rnncourse.chapters.ch04_efficiency.batches import run_batch_size_sweep, run_variable_lengths
from rnncourse.chapters.ch04_efficiency.compilation import (
    recompilation_summary,
    recompilation_table,
    run_recompilation_count,
)
from rnncourse.chapters.ch04_efficiency.data_parallel import run_data_parallel_check
from rnncourse.chapters.ch04_efficiency.figures import (
    mixed_precision_table,
    truncated_bptt_table,
    variable_length_table,
)
from rnncourse.chapters.ch04_efficiency.mixed_precision import run_mixed_precision
from rnncourse.chapters.ch04_efficiency.speed import (
    run_fused_lstm_checks,
    run_lstm_profiles,
    run_scan_crossover,
)
from rnncourse.chapters.ch04_efficiency.speed_figures import (
    crossover_sentences,
    lstm_profile_table,
)
from rnncourse.chapters.ch04_efficiency.truncated_bptt import run_truncated_bptt
from rnncourse.chapters.runner import ChapterRun, Experiment

__all__ = ["EXPERIMENTS"]


def _common(run: ChapterRun) -> dict[str, Any]:
    return {"timer": run.settings.timer, "device": run.device, "seed": run.seed}


def batch_size(run: ChapterRun) -> tuple[Any, str]:
    sweep = run_batch_size_sweep(**run.settings.batch_size_sweep, **_common(run))
    lines = [f"B = {b}: {sweep.throughput[b]:.0f} sequences/s, final validation MSE "
             f"{sweep.validation_mse[b][-1]:.4f}" for b in sweep.batch_sizes]
    return sweep, "\n\n".join(lines)


def variable_lengths(run: ChapterRun) -> tuple[Any, str]:
    result = run_variable_lengths(**run.settings.variable_lengths, **_common(run))
    return result, (f"{variable_length_table(result)}\n\nmasked and packed losses differ by "
                    f"{result.loss_difference:.1e}, gradients by {result.gradient_difference:.1e}")


def truncated_bptt(run: ChapterRun) -> tuple[Any, str]:
    result = run_truncated_bptt(**run.settings.truncated_bptt, **_common(run))
    return result, truncated_bptt_table(result)


def fused_checks(run: ChapterRun) -> tuple[Any, str]:
    checks = run_fused_lstm_checks(seed=run.seed)
    return checks, (f"gradcheck (float64): {'passed' if checks['gradcheck_float64'] else 'FAILED'}"
                    f"; against torch.nn.LSTM: outputs within "
                    f"{checks['output_max_difference']:.1e}, gradients within "
                    f"{checks['gradient_max_difference']:.1e}")


def mixed_precision(run: ChapterRun) -> tuple[Any, str]:
    result = run_mixed_precision(**run.settings.mixed_precision, **_common(run))
    return result, mixed_precision_table(result)


def data_parallel(run: ChapterRun) -> tuple[Any, str]:
    result = run_data_parallel_check(**run.settings.data_parallel)
    return result, (f"{result['world_size']} gloo processes against one: largest weight "
                    f"difference {result['max_weight_difference']:.1e}")


def lstm_profile(run: ChapterRun) -> tuple[Any, str]:
    profiles = run_lstm_profiles(**run.settings.lstm_profile, seed=run.seed)
    parts = [f"**{name}**, on {profile.device}\n\n{lstm_profile_table(profile)}\n\n"
             + " ".join(describe_savings(profile)) for name, profile in profiles.items()]
    return profiles, "\n\n".join(parts)


def scan_crossover(run: ChapterRun) -> tuple[Any, str]:
    sweeps = run_scan_crossover(**run.settings.scan_crossover, **_common(run))
    return sweeps, "\n\n".join(crossover_sentences(*sweeps))


def static_shapes(run: ChapterRun) -> tuple[Any, str]:
    result = run_recompilation_count(**run.settings.static_shapes, timer=run.settings.timer,
                                     seed=run.seed)
    return result, f"{recompilation_table(result)}\n\n{recompilation_summary(result)}"


EXPERIMENTS = (
    Experiment("batch-size", "throughput and convergence against the batch size", batch_size),
    Experiment("variable-lengths", "padding and masking, packing, bucketing", variable_lengths),
    Experiment("truncated-bptt", "carried and detached state against reset state",
               truncated_bptt),
    Experiment("fused-checks", "the fused LSTM's backward against gradcheck and torch.nn.LSTM",
               fused_checks),
    Experiment("lstm-profile", "matrix products, element-wise work and overhead per LSTM "
               "implementation", lstm_profile),
    Experiment("mixed-precision", "float32 against autocast", mixed_precision),
    Experiment("data-parallel", "DDP in two gloo processes against one process", data_parallel),
    Experiment("scan-crossover", "the scans' speed-up against T and B·H, and the crossover",
               scan_crossover),
    Experiment("static-shapes", "compilations over variable-length batches, with and without "
               "static-shape buckets", static_shapes),
)
