"""Data-parallel training: two gloo processes take the step one process takes on both halves."""

from __future__ import annotations

import sys

import pytest
import torch

from rnncourse.training.distributed import (
    DataParallelConfig,
    default_backend,
    main,
    run_data_parallel,
    run_single_process,
    shard,
)


def test_shard_splits_evenly_in_rank_order() -> None:
    batch = torch.arange(12).reshape(6, 2)
    parts = [shard(batch, rank, 3) for rank in range(3)]
    assert torch.equal(torch.cat(parts), batch)
    with pytest.raises(ValueError, match="evenly"):
        shard(batch, 0, 4)
    with pytest.raises(ValueError, match="rank"):
        shard(batch, 3, 3)


def test_backend_by_device() -> None:
    assert default_backend("cpu") == "gloo"
    assert default_backend("cuda") == "nccl"


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_two_gloo_processes_update_like_one_process_on_the_combined_batch(
    start_method: str,
) -> None:
    if start_method == "fork" and sys.platform != "linux":
        pytest.skip("forked process groups are only used on Linux")
    config = DataParallelConfig(steps=2, global_batch_size=8, seq_len=6, hidden_size=5)
    parallel = run_data_parallel(config, world_size=2, start_method=start_method)
    single = run_single_process(config)
    assert parallel.world_size == 2 and parallel.backend == "gloo"
    assert parallel.per_rank_batch == 4
    assert set(parallel.state_dict) == set(single.state_dict)
    for name, weight in single.state_dict.items():
        torch.testing.assert_close(parallel.state_dict[name], weight, atol=1e-6, rtol=1e-5)
    # And the weights did move: the test is not comparing two untouched models.
    untouched = run_single_process(DataParallelConfig(steps=0, global_batch_size=8, seq_len=6,
                                                      hidden_size=5))
    moved = max(float((single.state_dict[k] - untouched.state_dict[k]).abs().max())
                for k in single.state_dict)
    assert moved > 1e-3


def test_bad_world_size_and_launch_outside_torchrun(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="divisible"):
        run_data_parallel(DataParallelConfig(global_batch_size=5), world_size=2)
    with pytest.raises(ValueError, match="world_size"):
        run_data_parallel(DataParallelConfig(), world_size=0)
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(SystemExit):
        main(["--steps", "1"])


def test_the_data_stay_on_the_cpu_whatever_the_default_device(default_device_elsewhere) -> None:
    """On a machine with a GPU, `device=None` means the GPU; the CPU processes (and the one
    process they are checked against) must still draw their batches on the CPU. A forked child
    that touched CUDA would fail there, and a CPU model cannot read GPU batches."""
    config = DataParallelConfig(steps=1, global_batch_size=4, seq_len=6, hidden_size=3)
    single = run_single_process(config)
    parallel = run_data_parallel(config, world_size=2,
                                 start_method="fork" if sys.platform == "linux" else "spawn")
    for name, weight in single.state_dict.items():
        assert weight.device.type == "cpu"
        torch.testing.assert_close(parallel.state_dict[name], weight, atol=1e-6, rtol=1e-5)
