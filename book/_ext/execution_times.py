"""Print how long each page took to execute, at the end of every website build.

The numbers come from myst-nb's execution record. Each row says where the outputs came from:

- `executed`: the page ran in this build;
- `cached`: the page was read again, but its code was unchanged, so its outputs came from the
  execution cache (`_build/.jupyter_cache`); the time is that of the run that filled the cache;
- `unchanged`: Sphinx did not read the page again (nothing changed); the time is from before.
"""

from __future__ import annotations

import time

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

BUILD_STARTED = "rnncourse_build_started"
READ_THIS_BUILD = "rnncourse_read_this_build"


def remember_build_start(app: Sphinx) -> None:
    setattr(app, BUILD_STARTED, time.time())
    setattr(app, READ_THIS_BUILD, set())


def remember_pages_read(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    getattr(app, READ_THIS_BUILD).update(docnames)


def execution_source(app: Sphinx, docname: str, data: dict) -> str:
    """`executed`, `cached` or `unchanged`: where this build got the page's outputs from."""
    if docname not in getattr(app, READ_THIS_BUILD, set()):
        return "unchanged"
    # myst-nb stamps a fresh run with the current time, a cache hit with the cache entry's time.
    executed_now = (data.get("mtime") or 0) >= getattr(app, BUILD_STARTED, float("inf"))
    return "executed" if executed_now or data.get("method") != "cache" else "cached"


def print_execution_times(app: Sphinx, exception: Exception | None) -> None:
    from myst_nb.sphinx_ import NbMetadataCollector

    rows = []
    for docname in sorted(app.env.found_docs):
        data = NbMetadataCollector.get_exec_data(app.env, docname)
        if data:
            rows.append((docname, data))
    if not rows:
        return
    print("\nPage execution times:")
    total = 0.0
    for docname, data in rows:
        runtime = data.get("runtime")
        seconds = "   n/a" if runtime is None else f"{runtime:6.1f}"
        source = execution_source(app, docname, data)
        if source == "executed" and runtime is not None:
            total += runtime
        status = "ok" if data.get("succeeded") else f"FAILED ({data.get('error')})"
        print(f"  {seconds} s  {source:9}  {status:6}  {docname}")
    print(f"  {total:6.1f} s  executed in this build\n")


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", remember_build_start)
    app.connect("env-before-read-docs", remember_pages_read)
    app.connect("build-finished", print_execution_times)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
