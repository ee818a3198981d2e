"""What a page's kernel used while the page was read: CPU time, and time spent waiting for a CPU.

The build starts each page's kernel as its own child process and has shut it down by the time
the page has been read, so:

- CPU time (user + system, the kernel's own children included) is the growth of the build's
  resource usage of its exited children over the page's reading (`getrusage(RUSAGE_CHILDREN)`;
  unavailable on Windows);
- time waiting for a CPU (ready to run while other processes held every CPU) is read from Linux's
  scheduler statistics, `/proc/<pid>/task/<tid>/schedstat`, of the build's child processes,
  sampled every SAMPLE_SECONDS while the page is read (elsewhere it is unknown).

The rest of a page's wall time the kernel neither ran nor waited for a CPU: it waited for a
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


def children_cpu_waits() -> dict[tuple[int, str], float]:
    """{(pid, thread id): seconds spent waiting on a run queue} for the build's child processes."""
    import psutil

    waits = {}
    for child in psutil.Process().children(recursive=True):
        for stats in (PROC / str(child.pid) / "task").glob("*/schedstat"):
            try:
                waits[child.pid, stats.parent.name] = int(stats.read_text().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):  # the thread ended meanwhile
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
        self.waits_before: dict[tuple[int, str], float] = {}
        self.waits: dict[tuple[int, str], float] = {}
        self.stopped = threading.Event()
        self.sampler: threading.Thread | None = None

    def start(self) -> KernelWatch:
        if self.sampling:
            self.waits_before = children_cpu_waits()
            self.sampler = threading.Thread(target=self.sample, name="kernel-usage", daemon=True)
            self.sampler.start()
        return self

    def sample(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            # A thread's counter only grows: keep its latest reading, also after it has ended.
            self.waits.update(children_cpu_waits())

    def stop(self) -> KernelUsage:
        self.stopped.set()
        waiting = None
        if self.sampler is not None:
            self.sampler.join()
            waiting = sum(seconds - self.waits_before.get(task, 0.0)
                          for task, seconds in self.waits.items())
        cpu_after = children_cpu_seconds()
        cpu = None if cpu_after is None else cpu_after - self.cpu_before
        return KernelUsage(cpu=cpu, waiting_for_cpu=waiting)
