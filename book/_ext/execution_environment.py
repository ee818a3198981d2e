"""Run the pages' code with matplotlib's inline backend, whatever the build's environment says.

The kernels that execute the pages inherit the build's environment variables. make.py and the
tests set `MPLBACKEND=Agg` for themselves (no screen); in a kernel, Agg makes `plt.show()` a no-op,
so a figure drawn inside a widget (`ipywidgets.interactive`) is never displayed and the page's
saved widget state has no plot. Dropping the variable before any page executes lets ipykernel
choose its inline backend, as in Jupyter.
"""

from __future__ import annotations

import os

from sphinx.application import Sphinx

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def use_inline_backend_in_kernels(app: Sphinx) -> None:
    if os.environ.get("MPLBACKEND", INLINE_BACKEND) != INLINE_BACKEND:
        del os.environ["MPLBACKEND"]


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", use_inline_backend_in_kernels)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
