"""Print, at the end of every website build, each page's execution time beside its kernel's CPU
time, and point out a page that waited much longer than it computed.

- Wall time: myst-nb's record of the page's run, from starting its kernel to shutting it down.
- CPU time: what the page's kernel used in that run, user and system time, its own child processes
  included (kernel_usage.py says how it is measured; on Windows the column reads n/a).

Each row also says where the outputs came from:

- `executed`: the page ran in this build;
- `cached`: the page was read again, but its code was unchanged, so its outputs came from the
  execution cache (`_build/.jupyter_cache`); the time is that of the run that filled the cache,
  and no CPU time is known;
- `unchanged`: Sphinx did not read the page again (nothing changed); the times are from before.

A page executed in this build whose wall time exceeds its kernel's CPU time by more than
`WAIT_WARNING_SECONDS` gets a line starting with `!` under the table, which splits the difference
into time the kernel waited for a CPU (other processes kept the machine busy; Linux only) and time
it waited for a request, a message or a file (such as the stall kernel_replies.py fixes, which
cost a page 300 s). The line is printed with the table rather than logged as a Sphinx warning: the
build runs with `--warningiserror`, and a slow page is not an error.
"""

from __future__ import annotations

import time

from kernel_usage import KernelWatch
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

BUILD_STARTED = "rnncourse_build_started"
READ_THIS_BUILD = "rnncourse_read_this_build"
WATCHES = "rnncourse_kernel_watches"
# Stored with myst-nb's data for each page (it keeps it across builds and merges parallel reads).
USAGE_KEY = "rnncourse_kernel_usage"
HEADER = "Page execution times (wall: the page's run; CPU: its kernel's CPU time):"
WAIT_WARNING_SECONDS = 20.0


def remember_build_start(app: Sphinx) -> None:
    setattr(app, BUILD_STARTED, time.time())
    setattr(app, READ_THIS_BUILD, set())
    setattr(app, WATCHES, {})


def remember_pages_read(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    getattr(app, READ_THIS_BUILD).update(docnames)


def before_reading(app: Sphinx, docname: str, source: list[str]) -> None:
    """Start measuring the kernel before a page is parsed (myst-nb executes it while parsing)."""
    watches = getattr(app, WATCHES)
    for unfinished in watches.values():  # a page whose reading failed
        unfinished.stop()
    watches.clear()
    watches[docname] = KernelWatch().start()


def after_reading(app: Sphinx, doctree: object) -> None:
    """Store what the page's kernel used, with myst-nb's record of the page's execution."""
    from myst_nb.sphinx_ import NbMetadataCollector

    docname = app.env.docname
    watch = getattr(app, WATCHES).pop(docname, None)
    if watch is None:
        return
    usage = watch.stop()
    data = NbMetadataCollector.get_exec_data(app.env, docname)
    # A page whose outputs came from the cache ran no kernel: it keeps no CPU time.
    if data and execution_source(app, docname, data) == "executed":
        NbMetadataCollector.set_doc_data(app.env, docname, USAGE_KEY, {
            "kernel_cpu": usage.cpu, "waiting_for_cpu": usage.waiting_for_cpu})


def execution_source(app: Sphinx, docname: str, data: dict) -> str:
    """`executed`, `cached` or `unchanged`: where this build got the page's outputs from."""
    if docname not in getattr(app, READ_THIS_BUILD, set()):
        return "unchanged"
    # myst-nb stamps a fresh run with the current time, a cache hit with the cache entry's time.
    executed_now = (data.get("mtime") or 0) >= getattr(app, BUILD_STARTED, float("inf"))
    return "executed" if executed_now or data.get("method") != "cache" else "cached"


def seconds(value: float | None) -> str:
    return "    n/a  " if value is None else f"{value:7.1f} s"


def wait_warning(docname: str, wall: float, cpu: float, waiting_for_cpu: float | None
                 ) -> str | None:
    """The `!` line for a page that waited more than WAIT_WARNING_SECONDS beyond its CPU time."""
    waited = wall - cpu
    if waited <= WAIT_WARNING_SECONDS:
        return None
    line = (f"  ! {docname}: wall time {wall:.1f} s exceeds the kernel's CPU time {cpu:.1f} s "
            f"by {waited:.1f} s (more than {WAIT_WARNING_SECONDS:.0f} s)")
    if waiting_for_cpu is None:
        return line + ": the kernel waited for a CPU (a busy machine) or for a message."
    # Other threads may have run while the main thread waited: its wait can exceed `waited`.
    for_cpu = min(waiting_for_cpu, waited)
    return (line + f": the kernel waited {for_cpu:.1f} s of it for a CPU (a busy machine) and "
            f"{waited - for_cpu:.1f} s for a request, a message or a file.")


def print_execution_times(app: Sphinx, exception: Exception | None) -> None:
    from myst_nb.sphinx_ import NbMetadataCollector

    for unfinished in getattr(app, WATCHES, {}).values():
        unfinished.stop()
    rows = []
    for docname in sorted(app.env.found_docs):
        data = NbMetadataCollector.get_exec_data(app.env, docname)
        if data:
            used = NbMetadataCollector.get_doc_data(app.env)[docname].get(USAGE_KEY) or {}
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
        cpu = used.get("kernel_cpu")
        if source == "executed" and wall is not None:
            total += wall
            if cpu is not None:
                warnings.append(wait_warning(docname, wall, cpu, used.get("waiting_for_cpu")))
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
