"""What the training commands (`rnncourse train`, `rnncourse pretrain`) share: the device,
seed, thread and progress-bar options, and running the training with bad input reported in one
line (`rnncourse train: error: ...`, exit status 2) instead of a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable


def add_runtime_options(parser: argparse.ArgumentParser) -> None:
    """--device, --seed, --threads and --progress / --no-progress."""
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA "
                        "when present)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for torch (default 1: small recurrent models run "
                             "fastest on one, with no synchronisation at every time step)")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="always show the progress bar")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="never show it (default: only in a terminal)")


def run_training(
    command: str, arguments: argparse.Namespace, train: Callable[[argparse.Namespace], int]
) -> int:
    """`train(arguments)` with torch set to `--threads` threads; a ValueError (a bad size or
    name) becomes one line on stderr and exit status 2."""
    import torch

    if arguments.threads < 1:
        print(f"rnncourse {command}: error: --threads must be at least 1", file=sys.stderr)
        return 2
    torch.set_num_threads(arguments.threads)
    try:
        return train(arguments)
    except ValueError as error:
        print(f"rnncourse {command}: error: {error}", file=sys.stderr)
        return 2
