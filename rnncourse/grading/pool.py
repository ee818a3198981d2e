"""Run grading jobs in a few worker processes (`rnncourse.grading.worker`), each job under a
hard time limit: a job that runs past it has its worker and the worker's kernels killed, and a
fresh worker takes the next job. Interrupting the pool (Ctrl-C) kills every worker it started.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

_STOPPED = object()


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def kill_process_tree(process: subprocess.Popen) -> None:
    """Kill a process and everything it started (kernels run in their own sessions)."""
    try:
        import psutil

        children = psutil.Process(process.pid).children(recursive=True)
    except Exception:  # psutil missing or the process already gone
        children = []
    for child in children:
        try:
            child.kill()
        except Exception:
            pass
    process.kill()
    process.wait()


class _Worker:
    """One worker process and a thread that reads its result lines."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        with log.open("ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rnncourse.grading.worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log_file, env=environment, text=True,
                start_new_session=True)
        self.results: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.results.put(line)
        self.results.put(_STOPPED)

    def ask(self, job: dict, timeout: float) -> dict | None:
        """The worker's answer to `job`, or None when it gives none within `timeout` s."""
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
            line = self.results.get(timeout=timeout)
        except (OSError, queue.Empty):
            return None
        return None if line is _STOPPED else json.loads(line)

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except Exception:
            kill_process_tree(self.process)


def run_jobs(jobs: list[dict], size: int, timeout: float, environment: dict[str, str],
             log: Path, on_result=None) -> dict[str, dict | None]:
    """Run `jobs` (each with a "student" key) on `size` workers; student -> the worker's answer,
    or None for a job that ran past `timeout` s or stopped its worker."""
    pending: queue.Queue = queue.Queue()
    for job in jobs:
        pending.put(job)
    results: dict[str, dict | None] = {}
    live: list[_Worker] = []
    lock = threading.Lock()

    def serve() -> None:
        worker = None
        while True:
            try:
                job = pending.get_nowait()
            except queue.Empty:
                break
            if worker is None:
                worker = _Worker(environment, log)
                with lock:
                    live.append(worker)
            answer = worker.ask(job, timeout)
            if answer is None:  # past the time limit, or the worker died: start afresh
                kill_process_tree(worker.process)
                worker = None
            with lock:
                results[job["student"]] = answer
            if on_result is not None:
                on_result(job["student"], answer)
        if worker is not None:
            worker.close()

    threads = [threading.Thread(target=serve, daemon=True) for _ in range(max(1, size))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)  # short waits keep Ctrl-C responsive
    except BaseException:
        while not pending.empty():
            pending.get_nowait()
        with lock:
            for worker in live:
                kill_process_tree(worker.process)
        raise
    return results
