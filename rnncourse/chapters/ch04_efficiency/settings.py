"""Chapter 4's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch04` both pass to it (with `timer`: "cpu" times CPU seconds of this process,
which other programs on a shared machine disturb less than wall-clock seconds; on a GPU, times
are wall-clock seconds whatever it says):

    batch_size_sweep   run_batch_size_sweep      (batches.py)
    variable_lengths   run_variable_lengths      (batches.py)
    truncated_bptt     run_truncated_bptt        (truncated_bptt.py)
    lstm_speed         run_lstm_speeds           (speed.py)
    mixed_precision    run_mixed_precision       (mixed_precision.py)
    data_parallel      run_data_parallel_check   (data_parallel.py)
    scan_speed         run_scan_speed            (speed.py)
    static_shapes      run_recompilation_count   (compilation.py)

The paper scale adds the size of PyTorch's fastrnns benchmark (T = 100, B = 64, I = H = 512),
the `torch.compile` variant (its compilation takes minutes) and a wide minGRU step (64 x 256).
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
    lstm_speed: Mapping[str, Any]
    mixed_precision: Mapping[str, Any]
    data_parallel: Mapping[str, Any]
    scan_speed: Mapping[str, Any]
    static_shapes: Mapping[str, Any]


BOOK_SIZES = arguments(**{"default: T=100, B=64, I=H=256": (100, 64, 256, 256),
                          "narrow: T=100, B=16, I=H=32": (100, 16, 32, 32)})
# PyTorch's fastrnns benchmark (benchmarks/fastrnns): the published speed ratios' size.
FASTRNNS_SIZE = {"fastrnns: T=100, B=64, I=H=512": (100, 64, 512, 512)}
SCAN_LENGTHS = (256, 512, 1024, 2048, 4096)
SCAN_SHAPES = ((1, 32), (8, 16), (8, 64))
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
        lstm_speed=arguments(sizes=BOOK_SIZES, variants=("torch", "loop", "fused")),
        mixed_precision=arguments(),
        data_parallel=DATA_PARALLEL,
        scan_speed=arguments(lengths=SCAN_LENGTHS, shapes=SCAN_SHAPES, repeats=2),
        static_shapes=arguments(),
    ),
    paper=EfficiencySettings(
        timer="cpu",
        batch_size_sweep=arguments(),
        variable_lengths=arguments(),
        truncated_bptt=arguments(),
        lstm_speed=arguments(
            sizes=arguments(**BOOK_SIZES, **FASTRNNS_SIZE),
            variants=("torch", "loop", "fused", "compiled"),
        ),
        mixed_precision=arguments(),
        data_parallel=DATA_PARALLEL,
        scan_speed=arguments(lengths=SCAN_LENGTHS, shapes=SCAN_SHAPES + ((64, 256),),
                             repeats=2),
        static_shapes=arguments(num_sequences=1024, batch_size=32),
    ),
)
