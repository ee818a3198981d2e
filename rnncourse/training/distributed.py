"""Data-parallel training with `torch.distributed`: several processes, one model, one update.

Each of W processes (ranks) holds a full copy of the model and takes its own 1/W share of every
global batch. After `loss.backward()`, `DistributedDataParallel` (DDP; Li et al. 2020) averages
the gradients over the ranks with an all-reduce, overlapped with the backward pass, so every rank
applies the same update:

    g = (1/W) Σ_r ∇θ L_r,   L_r = the mean loss over rank r's share of the batch.

With equal shares this is exactly the gradient of the mean loss over the whole global batch, so
W processes on B/W examples each take the very step one process would take on all B (the test
`tests/unit/test_distributed.py` checks this with two CPU processes).

Launching. `torchrun --nproc-per-node=W -m rnncourse.training.distributed` starts W processes and
gives each its RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; across machines add
`--nnodes`, `--node-rank` and a rendezvous address. The backend is NCCL between GPUs and gloo on
CPUs. `run_data_parallel` does the same from Python, on one machine, with gloo processes.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from rnncourse.data.synthetic import adding_problem
from rnncourse.models.recurrent_model import RecurrentModel

__all__ = [
    "DataParallelConfig",
    "DataParallelResult",
    "default_backend",
    "main",
    "run_data_parallel",
    "run_single_process",
    "shard",
    "train_data_parallel",
]


@dataclass
class DataParallelConfig:
    """A small training run on the adding problem, the same in every process.

    `global_batch_size` examples per step in all, split evenly over the ranks; plain SGD, so that
    the update is a simple function of the averaged gradient.
    """

    steps: int = 3
    global_batch_size: int = 16
    seq_len: int = 20
    hidden_size: int = 16
    lr: float = 0.1
    seed: int = 0


@dataclass
class DataParallelResult:
    """The final weights (on the CPU), the loss of every step as rank 0 saw it, and timing."""

    state_dict: dict[str, torch.Tensor]
    losses: list[float]
    world_size: int
    seconds: float
    backend: str = "none"
    per_rank_batch: int = 0
    extra: dict = field(default_factory=dict)


def default_backend(device: torch.device | str) -> str:
    """NCCL between CUDA GPUs, gloo between CPU processes."""
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def shard(tensor: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rank `rank`'s share of a global batch: rows [rank·B/W, (rank+1)·B/W) of `tensor`."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"need 0 ≤ rank < world_size, got rank={rank}, world_size={world_size}")
    if tensor.shape[0] % world_size:
        raise ValueError(
            f"a global batch of {tensor.shape[0]} does not split evenly over {world_size} ranks; "
            "with unequal shares the averaged gradient would weigh examples unequally"
        )
    size = tensor.shape[0] // world_size
    return tensor[rank * size : (rank + 1) * size]


def _build_model(config: DataParallelConfig, device: torch.device) -> RecurrentModel:
    # The same seed in every process: all replicas start equal (DDP also broadcasts rank 0's).
    return RecurrentModel("lstm", input_size=2, hidden_size=config.hidden_size, output_size=1,
                          backend="torch", device=device, seed=config.seed)


def _global_batch(config: DataParallelConfig, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    # Every rank draws the same global batch and keeps its own share of it. On the CPU, not the
    # default device: the gloo processes and the single process compute there, and a forked
    # process cannot start CUDA.
    return adding_problem(config.global_batch_size, config.seq_len,
                          seed=config.seed * 1000 + step, device="cpu")


def train_data_parallel(
    config: DataParallelConfig, rank: int, world_size: int, device: torch.device | str = "cpu"
) -> DataParallelResult:
    """Train with DDP in an initialised process group; every rank returns the same weights."""
    device = torch.device(device)
    model = _build_model(config, device)
    replica = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                      else None)
    optimizer = torch.optim.SGD(replica.parameters(), lr=config.lr)
    losses = []
    start = time.perf_counter()
    for step in range(config.steps):
        inputs, targets = _global_batch(config, step)
        inputs, targets = shard(inputs, rank, world_size), shard(targets, rank, world_size)
        loss = torch.nn.functional.mse_loss(replica(inputs.to(device)), targets.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # DDP all-reduces (averages) the gradients here, bucket by bucket
        optimizer.step()
        losses.append(float(loss.detach()))
    seconds = time.perf_counter() - start
    state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    return DataParallelResult(state, losses, world_size, seconds, dist.get_backend(),
                              config.global_batch_size // world_size)


def run_single_process(config: DataParallelConfig) -> DataParallelResult:
    """The same training in one process on the whole global batch: what DDP must reproduce."""
    model = _build_model(config, torch.device("cpu"))
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    losses = []
    start = time.perf_counter()
    for step in range(config.steps):
        inputs, targets = _global_batch(config, step)
        loss = torch.nn.functional.mse_loss(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    seconds = time.perf_counter() - start
    return DataParallelResult({k: v.detach().clone() for k, v in model.state_dict().items()},
                              losses, 1, seconds, "none", config.global_batch_size)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _spawned_worker(rank: int, world_size: int, port: int, config: DataParallelConfig,
                    result_path: str) -> None:
    """One gloo process of `run_data_parallel` (module level, so that spawn can import it)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)  # W processes share the machine's cores
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        result = train_data_parallel(config, rank, world_size, "cpu")
        if rank == 0:
            torch.save(result.__dict__, result_path)
    finally:
        dist.destroy_process_group()


def _default_start_method() -> str:
    # fork starts in a fraction of a second (the children inherit the imported torch); spawn
    # starts a fresh interpreter, the safe choice where fork is not (macOS, Windows, or once
    # CUDA is initialised, which does not survive a fork).
    if sys.platform == "linux" and not torch.cuda.is_initialized():
        return "fork"
    return "spawn"


def run_data_parallel(config: DataParallelConfig | None = None, world_size: int = 2,
                      start_method: str | None = None) -> DataParallelResult:
    """Train `config` with DDP in `world_size` gloo processes on this machine (CPU).

    The processes are started by `torch.multiprocessing` (as torchrun does for one machine),
    forked on Linux and spawned elsewhere unless `start_method` says otherwise; rank 0's result
    comes back through a temporary file.
    """
    config = config or DataParallelConfig()
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size must be a positive int, got {world_size!r}")
    if config.global_batch_size % world_size:
        raise ValueError(
            f"global_batch_size={config.global_batch_size} must be divisible by "
            f"world_size={world_size}"
        )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result_path = str(Path(folder) / "rank0.pt")
        torch.multiprocessing.start_processes(
            _spawned_worker, nprocs=world_size, join=True,
            args=(world_size, _free_port(), config, result_path),
            start_method=start_method or _default_start_method())
        fields = torch.load(result_path, weights_only=False)
    result = DataParallelResult(**fields)
    result.extra["launch_seconds"] = time.perf_counter() - start  # process start-up included
    return result


def main(argv: list[str] | None = None) -> int:
    """Entry point for torchrun: `torchrun --nproc-per-node=2 -m rnncourse.training.distributed`."""
    parser = argparse.ArgumentParser(prog="torchrun ... -m rnncourse.training.distributed",
                                     description="DDP training of a small LSTM on the adding "
                                                 "problem; rank 0 prints the losses.")
    defaults = DataParallelConfig()
    for name in ("steps", "global_batch_size", "seq_len", "hidden_size", "seed"):
        option = f"--{name.replace('_', '-')}"
        parser.add_argument(option, type=int, default=getattr(defaults, name))
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--backend", default=None, help="gloo or nccl (default: by device)")
    arguments = parser.parse_args(argv)
    config = DataParallelConfig(**{name: getattr(arguments, name) for name in
                                   ("steps", "global_batch_size", "seq_len", "hidden_size",
                                    "lr", "seed")})
    if "RANK" not in os.environ:
        parser.error("run under torchrun, which sets RANK and WORLD_SIZE for every process")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(arguments.backend or default_backend(device))
    try:
        rank, world_size = dist.get_rank(), dist.get_world_size()
        result = train_data_parallel(config, rank, world_size, device)
        if rank == 0:
            print(f"{world_size} processes ({result.backend}), {result.per_rank_batch} examples "
                  f"each per step; losses: {', '.join(f'{loss:.4f}' for loss in result.losses)}")
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
