"""Chapter 4, data parallelism: DistributedDataParallel in several gloo processes computes the
same update as one process on the whole batch (`rnncourse.training.distributed`)."""

from __future__ import annotations

from rnncourse.training.distributed import (
    DataParallelConfig,
    run_data_parallel,
    run_single_process,
)

__all__ = ["run_data_parallel_check"]


def run_data_parallel_check(
    config: DataParallelConfig | None = None, world_size: int = 2
) -> dict[str, float | list[float]]:
    """DDP in `world_size` gloo processes against one process on the combined batches: the
    largest difference between their final weights, and the time both took."""
    config = config or DataParallelConfig()
    parallel = run_data_parallel(config, world_size)
    single = run_single_process(config)
    difference = max(float((parallel.state_dict[name] - weight).abs().max())
                     for name, weight in single.state_dict.items())
    return {"world_size": world_size, "max_weight_difference": difference,
            "parallel_training_seconds": parallel.seconds,
            "launch_seconds": parallel.extra["launch_seconds"],
            "single_training_seconds": single.seconds, "losses_rank0": parallel.losses,
            "losses_single": single.losses}
