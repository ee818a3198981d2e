"""Print, at the end of every website build, each page's execution time beside its kernel's CPU
time, and point out a page that waited much longer than it computed.

- Wall time: myst-nb's record of the page's run, from starting its kernel to shutting it down.
- CPU time: what the page's kernel used in that run (user and system time, its own child processes
  included). The kernel is a child process of the build, and it has exited by the time the page
  has been read, so the build's resource usage of its children, taken before and after the page is
  read, counts exactly the kernel (`resource.getrusage(RUSAGE_CHILDREN)`; on Windows, which lacks
  it, the CPU column reads n/a).

Each row also says where the outputs came from:

- `executed`: the page ran in this build;
- `cached`: the page was read again, but its code was unchanged, so its outputs came from the
  execution cache (`_build/.jupyter_cache`); the time is that of the run that filled the cache;
- `unchanged`: Sphinx did not read the page again (nothing changed); the times are from before.

A page executed in this build whose wall time exceeds its kernel's CPU time by more than
`WAIT_WARNING_SECONDS` gets a line starting with `!` under the table. The kernel waited, either for
a CPU (other processes kept the machine busy: the line gives the share of the machine's CPU time
that stood idle meanwhile) or for a message (an idle machine: see kernel_replies.py for the stall
that once cost such pages 300 s). The line is printed with the table rather than logged as a
Sphinx warning, because the build runs with `--warningiserror` and a slow page is not an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

try:  # not on Windows
    import resource
except ImportError:  # pragma: no cover
    resource = None

BUILD_STARTED = "rnncourse_build_started"
READ_THIS_BUILD = "rnncourse_read_this_build"
READ_STARTED = "rnncourse_read_started"
# Stored with myst-nb's data for each page (it keeps it across builds and merges parallel reads).
RESOURCES_KEY = "rnncourse_execution_resources"
HEADER = "Page execution times (wall: the page's run; CPU: its kernel's CPU time):"
WAIT_WARNING_SECONDS = 20.0


@dataclass(frozen=True)
class Usage:
    """CPU time used so far by the build's exited children, and by the whole machine."""

    children_cpu: float | None  # seconds, user + system
    machine_idle: float | None  # seconds, summed over the machine's CPUs
    machine_total: float | None

    @classmethod
    def now(cls) -> Usage:
        children = None
        if resource is not None:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            children = usage.ru_utime + usage.ru_stime
        try:
            import psutil

            machine = psutil.cpu_times()
            idle, total = machine.idle + getattr(machine, "iowait", 0.0), sum(machine)
        except (ImportError, OSError):
            idle = total = None
        return cls(children, idle, total)

    def since(self, before: Usage) -> dict[str, float | None]:
        """{"kernel_cpu": seconds, "idle_share": fraction of the machine's CPU time left idle}."""
        cpu = idle_share = None
        if self.children_cpu is not None and before.children_cpu is not None:
            cpu = self.children_cpu - before.children_cpu
        if self.machine_total is not None and before.machine_total is not None:
            total = self.machine_total - before.machine_total
            if total > 0:
                idle_share = (self.machine_idle - before.machine_idle) / total
        return {"kernel_cpu": cpu, "idle_share": idle_share}


def remember_build_start(app: Sphinx) -> None:
    setattr(app, BUILD_STARTED, time.time())
    setattr(app, READ_THIS_BUILD, set())
    setattr(app, READ_STARTED, {})


def remember_pages_read(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    getattr(app, READ_THIS_BUILD).update(docnames)


def before_reading(app: Sphinx, docname: str, source: list[str]) -> None:
    """Take the usage counters before a page is parsed (myst-nb executes it while parsing)."""
    getattr(app, READ_STARTED, {})[docname] = Usage.now()


def after_reading(app: Sphinx, doctree: object) -> None:
    """Store what the page's kernel used, with myst-nb's record of the page's execution."""
    from myst_nb.sphinx_ import NbMetadataCollector

    docname = app.env.docname
    before = getattr(app, READ_STARTED, {}).pop(docname, None)
    if before is not None and NbMetadataCollector.get_exec_data(app.env, docname):
        NbMetadataCollector.set_doc_data(app.env, docname, RESOURCES_KEY,
                                         Usage.now().since(before))


def execution_source(app: Sphinx, docname: str, data: dict) -> str:
    """`executed`, `cached` or `unchanged`: where this build got the page's outputs from."""
    if docname not in getattr(app, READ_THIS_BUILD, set()):
        return "unchanged"
    # myst-nb stamps a fresh run with the current time, a cache hit with the cache entry's time.
    executed_now = (data.get("mtime") or 0) >= getattr(app, BUILD_STARTED, float("inf"))
    return "executed" if executed_now or data.get("method") != "cache" else "cached"


def seconds(value: float | None) -> str:
    return "    n/a  " if value is None else f"{value:7.1f} s"


def wait_warning(docname: str, wall: float, cpu: float, idle_share: float | None) -> str | None:
    """The `!` line for a page that waited more than WAIT_WARNING_SECONDS beyond its CPU time."""
    waited = wall - cpu
    if waited <= WAIT_WARNING_SECONDS:
        return None
    meanwhile = ("" if idle_share is None else
                 f"; meanwhile {idle_share:.0%} of the machine's CPU time stood idle")
    return (f"  ! {docname}: wall time {wall:.1f} s exceeds the kernel's CPU time {cpu:.1f} s "
            f"by {waited:.1f} s (more than {WAIT_WARNING_SECONDS:.0f} s){meanwhile}. The kernel "
            "waited: for a CPU if the machine was busy, else for a message.")


def print_execution_times(app: Sphinx, exception: Exception | None) -> None:
    from myst_nb.sphinx_ import NbMetadataCollector

    rows = []
    for docname in sorted(app.env.found_docs):
        data = NbMetadataCollector.get_exec_data(app.env, docname)
        if data:
            used = NbMetadataCollector.get_doc_data(app.env)[docname].get(RESOURCES_KEY) or {}
            rows.append((docname, data, used))
    if not rows:
        return
    print(f"\n{HEADER}")
    print(f"  {'wall':>9}  {'CPU':>9}  {'outputs':9}  {'status':6}  page")
    total = 0.0
    warnings = []
    for docname, data, used in rows:
        wall = data.get("runtime")
        source = execution_source(app, docname, data)
        # The cache and earlier builds keep no CPU time: only a run in this build measures it.
        cpu = used.get("kernel_cpu") if source != "cached" else None
        if source == "executed" and wall is not None:
            total += wall
            if cpu is not None:
                warnings.append(wait_warning(docname, wall, cpu, used.get("idle_share")))
        status = "ok" if data.get("succeeded") else f"FAILED ({data.get('error')})"
        print(f"  {seconds(wall)}  {seconds(cpu)}  {source:9}  {status:6}  {docname}")
    print(f"  {seconds(total)}  executed in this build")
    for warning in filter(None, warnings):
        print(warning)
    print()


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", remember_build_start)
    app.connect("env-before-read-docs", remember_pages_read)
    app.connect("source-read", before_reading)
    app.connect("doctree-read", after_reading)
    app.connect("build-finished", print_execution_times)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
