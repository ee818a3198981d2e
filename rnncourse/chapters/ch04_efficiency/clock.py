"""The clock chapter 4 times its experiments with: CPU seconds of this process, or wall-clock
seconds after synchronising the GPU.

Times on a CPU are CPU seconds of this process by default (`timer="cpu"`): on a machine shared
with other work they move much less than wall-clock seconds, and with one thread they are the
wall-clock time of an undisturbed run. On a GPU (CUDA, MPS) they are wall-clock seconds.
"""

from __future__ import annotations

import time

import torch

from rnncourse.bench import resolve_timer
from rnncourse.runtime import synchronize

__all__ = ["Clock"]


class Clock:
    """Seconds by `timer`: CPU time of this process, or wall-clock time after a GPU sync."""

    def __init__(self, timer: str, device: torch.device) -> None:
        self.timer, self.device = resolve_timer(timer, device), device

    def __call__(self) -> float:
        synchronize(self.device)  # a GPU's queued work is done before the clock is read
        return time.process_time() if self.timer == "cpu" else time.perf_counter()

