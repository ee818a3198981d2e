"""Grading throughput, serial against parallel: `python -m rnncourse.grading.benchmark`.

Makes synthetic submissions of one exercise (in turn: solved, untouched, and solved but for one
part), grades them all with one worker and then with one per core, and prints notebooks per
minute for both (the time includes preparing the exercise's gradebook, as a real run does).
Both runs must give the same grade table. Beside the wall-clock time it prints the CPU seconds
that grading used (this process and every process it started and waited for: workers, kernel
templates, kernels) and the machine's load average, so that a run on a busy machine can be
read: wall time on an idle machine is about CPU seconds / cores when parallel grading keeps
every core busy. `--kernels fresh` starts every kernel from scratch (jupyter_client's manager)
instead of forking it from a warm template (`rnncourse.grading.warm_kernels`), to compare.

    python -m rnncourse.grading.benchmark --exercise ex01-vanishing-gradients --submissions 30
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from rnncourse.grading.grader import GradeOptions, grade
from rnncourse.grading.nbgrader_cli import (
    fill_in_solutions,
    find_course_root,
    points_by_part,
    release,
)
from rnncourse.grading.pool import usable_cores

KERNEL_MANAGERS = {"forked": "rnncourse.grading.warm_kernels.ForkedKernelManager",
                   "fresh": "jupyter_client.manager.AsyncKernelManager"}


@dataclass(frozen=True)
class Throughput:
    jobs: int
    notebooks: int
    seconds: float
    cpu_seconds: float = 0.0  # this process and the processes it waited for
    load: float = 0.0  # the 1-minute load average at the end

    @property
    def per_minute(self) -> float:
        return 60 * self.notebooks / self.seconds


def _cpu_seconds() -> float:
    try:
        import resource
    except ImportError:  # Windows: this process only
        return time.process_time()
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def machine() -> str:
    """The processor, its cores (usable by this process / all) and the software that grades."""
    import torch

    from rnncourse.bench.timing import device_name

    return (f"{device_name('cpu')}, {usable_cores()} of {os.cpu_count()} cores usable; Python "
            f"{platform.python_version()}, torch {torch.__version__}, {platform.system()}")


def synthetic_submissions(source: nbformat.NotebookNode, released: nbformat.NotebookNode,
                          count: int) -> list[nbformat.NotebookNode]:
    """`count` submissions cycling through: solved, untouched, solved but for part 1, 2, ..."""
    kinds = [fill_in_solutions(released, source), released]
    kinds += [fill_in_solutions(released, source, leave_out={part})
              for part in points_by_part(source)]
    return [kinds[number % len(kinds)] for number in range(count)]


def run_benchmark(course_root: str | Path, exercise_id: str, count: int = 30,
                  jobs: int | None = None,
                  options: GradeOptions | None = None) -> tuple[Throughput, Throughput]:
    """Grade `count` synthetic submissions serially, then with `jobs` workers (default: one
    per core), in a temporary copy of the course; the two throughputs."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    jobs = jobs or usable_cores()
    options = options or GradeOptions()
    with tempfile.TemporaryDirectory(prefix="rnncourse-benchmark-") as folder:
        root = Path(folder) / "course"
        (root / "solutions").mkdir(parents=True)
        shutil.copy(Path(course_root) / "nbgrader_config.py", root)
        shutil.copytree(Path(course_root) / "solutions" / exercise_id,
                        root / "solutions" / exercise_id)
        release(root, [exercise_id])
        name = f"{exercise_id}/{exercise_id}.ipynb"
        source = nbformat.read(root / "solutions" / name, as_version=4)
        released = nbformat.read(root / "exercises" / name, as_version=4)
        submissions = root / "class"
        submissions.mkdir()
        for number, notebook in enumerate(synthetic_submissions(source, released, count)):
            nbformat.write(notebook, submissions / f"student{number:03d}.ipynb")
        results, tables = [], []
        for workers in (1, jobs):
            run_options = GradeOptions(options.cell_timeout, options.notebook_timeout, workers,
                                       options.kernel_manager)
            cpu = _cpu_seconds()
            report = grade(root, exercise_id, submissions, root / f"out-{workers}", run_options)
            results.append(Throughput(report.jobs, count, report.seconds, _cpu_seconds() - cpu,
                                      _load()))
            tables.append(report.table.read_text())
        if tables[0] != tables[1]:
            raise RuntimeError("serial and parallel grading gave different tables")
    return results[0], results[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="ex01-vanishing-gradients")
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=None, help="default: one per core")
    parser.add_argument("--root", default=None, help="course folder (default: found from here)")
    parser.add_argument("--kernels", choices=sorted(KERNEL_MANAGERS), default="forked",
                        help="forked from a warm template (default) or started afresh")
    arguments = parser.parse_args(argv)
    load = _load()
    options = GradeOptions(kernel_manager=KERNEL_MANAGERS[arguments.kernels])
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    serial, parallel = run_benchmark(find_course_root(arguments.root), arguments.exercise,
                                     arguments.submissions, arguments.jobs, options)
    print(f"{arguments.exercise}, {arguments.submissions} synthetic submissions, "
          f"{arguments.kernels} kernels, {started}")
    print(f"machine: {machine()}; load average {load:.1f} before")
    for label, result in (("serial", serial), ("parallel", parallel)):
        print(f"{label:>8} ({result.jobs} at a time): {result.seconds:6.1f} s wall, "
              f"{result.per_minute:5.1f} notebooks per minute; {result.cpu_seconds:6.1f} CPU s "
              f"({result.cpu_seconds / result.notebooks:.2f} per notebook); load average "
              f"{result.load:.1f} after")
    print(f"speed-up: {serial.seconds / parallel.seconds:.2f}x; on {parallel.jobs} idle cores "
          f"the parallel run would take about {parallel.cpu_seconds / parallel.jobs:.0f} s")


if __name__ == "__main__":
    main()
