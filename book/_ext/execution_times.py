"""Print how long each page took to execute, at the end of every website build.

The numbers come from myst-nb's execution record; a page served from the execution cache
shows the time of the run that filled the cache, marked "cached".
"""

from __future__ import annotations

from sphinx.application import Sphinx


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
    for docname, data in rows:
        runtime = data.get("runtime")
        seconds = "   n/a" if runtime is None else f"{runtime:6.1f}"
        status = "ok" if data.get("succeeded") else f"FAILED ({data.get('error')})"
        print(f"  {seconds} s  {data.get('method', '?'):6}  {status:6}  {docname}")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", print_execution_times)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
