"""What a page's kernel used while the page was read: CPU time, and time spent waiting for a CPU.

The build starts each page's kernel as its own child process and has shut it down by the time
the page has been read, so:

- CPU time (user + system, all the kernel's threads and its own children included) is the growth
  of the build's resource usage of its exited children over the page's reading
  (`getrusage(RUSAGE_CHILDREN)`; unavailable on Windows);
- time waiting for a CPU is how long the kernel's main thread, the one that runs the cells, was
  ready to run while other processes held every CPU: Linux's scheduler statistics for it,
  `/proc/<pid>/task/<pid>/schedstat`, sampled every SAMPLE_SECONDS while the page is read
  (elsewhere it is unknown). Only that thread counts: threads wait side by side, so their waits
  would add up to more than the time that passed.

Whatever else of a page's wall time the kernel neither ran nor waited for a CPU, it waited for a
request, a message or a file.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

try:  # not on Windows
    import resource
except ImportError:  # pragma: no cover
    resource = None

SAMPLE_SECONDS = 0.25
PROC = Path("/proc")


@dataclass(frozen=True)
class KernelUsage:
    """Seconds a page's kernel ran on a CPU and waited for one; None where unknown."""

    cpu: float | None
    waiting_for_cpu: float | None


def children_cpu_seconds() -> float | None:
    """User + system CPU time of the build's exited (and reaped) child processes."""
    if resource is None:
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def kernel_cpu_waits() -> dict[int, float]:
    """{pid: seconds its main thread waited on a run queue} for the build's child processes."""
    import psutil

    waits = {}
    for child in psutil.Process().children():
        try:
            stats = (PROC / str(child.pid) / "task" / str(child.pid) / "schedstat").read_text()
            waits[child.pid] = int(stats.split()[1]) / 1e9
        except (OSError, IndexError, ValueError):  # the process ended meanwhile
            continue
    return waits


def run_queue_statistics_available() -> bool:
    try:
        import psutil  # noqa: F401
    except ImportError:
        return False
    return (PROC / "self" / "schedstat").is_file()


class KernelWatch:
    """Measures what the build's child processes use from `start()` to `stop()`."""

    def __init__(self) -> None:
        self.cpu_before = children_cpu_seconds()
        self.sampling = run_queue_statistics_available()
        self.waits_before: dict[int, float] = {}
        self.waits: dict[int, float] = {}
        self.stopped = threading.Event()
        self.sampler: threading.Thread | None = None

    def start(self) -> KernelWatch:
        if self.sampling:
            self.waits_before = kernel_cpu_waits()
            self.sampler = threading.Thread(target=self.sample, name="kernel-usage", daemon=True)
            self.sampler.start()
        return self

    def sample(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            # The counter only grows: keep the latest reading, also after the process ended.
            self.waits.update(kernel_cpu_waits())

    def stop(self) -> KernelUsage:
        self.stopped.set()
        waiting = None
        if self.sampler is not None:
            self.sampler.join()
            waiting = sum(seconds - self.waits_before.get(pid, 0.0)
                          for pid, seconds in self.waits.items())
        cpu_after = children_cpu_seconds()
        cpu = None if cpu_after is None else cpu_after - self.cpu_before
        return KernelUsage(cpu=cpu, waiting_for_cpu=waiting)
