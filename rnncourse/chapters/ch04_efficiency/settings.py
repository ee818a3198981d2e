"""Chapter 4's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch04` both pass to it (with `timer`: "cpu" times CPU seconds of this process,
which other programs on a shared machine disturb less than wall-clock seconds; on a GPU, times
are wall-clock seconds whatever it says):

    batch_size_sweep   run_batch_size_sweep      (batches.py)
    variable_lengths   run_variable_lengths      (batches.py)
    truncated_bptt     run_truncated_bptt        (truncated_bptt.py)
    mixed_precision    run_mixed_precision       (mixed_precision.py)
    data_parallel      run_data_parallel_check   (data_parallel.py)
    static_shapes      run_recompilation_count   (compilation.py)
    lstm_profile       run_lstm_profiles         (speed.py)
    scan_crossover     run_scan_crossover        (speed.py)

The paper scale profiles the benchmark's full length (T = 100) with the compiled FusedLSTM
variant too (its compilation takes minutes), sweeps the scans to T = 16384 and over widths at
T = 4096 for the whole minGRU layer, and counts compilations over 1024 sequences.
`rnncourse bench` measures the same at the benchmark's full sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnncourse.chapters.scales import Scaled, arguments
from rnncourse.training.distributed import DataParallelConfig

__all__ = ["SETTINGS", "EfficiencySettings"]


@dataclass(frozen=True)
class EfficiencySettings:
    """Keyword arguments of chapter 4's experiments, at one scale, and the clock they use."""

    timer: str
    batch_size_sweep: Mapping[str, Any]
    variable_lengths: Mapping[str, Any]
    truncated_bptt: Mapping[str, Any]
    mixed_precision: Mapping[str, Any]
    data_parallel: Mapping[str, Any]
    static_shapes: Mapping[str, Any]
    lstm_profile: Mapping[str, Any]
    scan_crossover: Mapping[str, Any]


# The profile's split per step does not depend on T: 32 steps keep the profiler's cost low.
PROFILE_SIZES = arguments(**{"B=64, I=H=256 (T=32)": (32, 64, 256, 256),
                             "narrow: B=16, I=H=32 (T=32)": (32, 16, 32, 32)})
DATA_PARALLEL = arguments(
    config=DataParallelConfig(steps=3, global_batch_size=16, seq_len=20, hidden_size=16),
    world_size=2,
)

SETTINGS = Scaled(
    cpu=EfficiencySettings(
        timer="cpu",
        batch_size_sweep=arguments(),
        variable_lengths=arguments(),
        truncated_bptt=arguments(),
        mixed_precision=arguments(),
        data_parallel=DATA_PARALLEL,
        static_shapes=arguments(),
        lstm_profile=arguments(sizes=PROFILE_SIZES),
        scan_crossover=arguments(),
    ),
    paper=EfficiencySettings(
        timer="cpu",
        batch_size_sweep=arguments(),
        variable_lengths=arguments(),
        truncated_bptt=arguments(),
        mixed_precision=arguments(),
        data_parallel=DATA_PARALLEL,
        static_shapes=arguments(num_sequences=1024, batch_size=32),
        lstm_profile=arguments(
            sizes=arguments(**{"default: T=100, B=64, I=H=256": (100, 64, 256, 256)},
                            **PROFILE_SIZES),
            variants=("loop", "fused_torch", "fused", "fused_compiled", "fused_c", "torch"),
            repeats=5),
        scan_crossover=arguments(lengths=(64, 256, 1024, 4096, 16384), width_seq_len=4096,
                                 level="layer", repeats=3),
    ),
)
