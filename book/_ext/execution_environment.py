"""Run the pages' code with matplotlib's inline backend, whatever the build's environment says,
drawing figures at twice their pixel density.

- Backend. The kernels that execute the pages inherit the build's environment variables. make.py
  and the tests set `MPLBACKEND=Agg` for themselves (no screen); in a kernel, Agg makes
  `plt.show()` a no-op, so a figure drawn inside a widget (`ipywidgets.interactive`) is never
  displayed and the page's saved widget state has no plot. Dropping the variable before any page
  executes lets ipykernel choose its inline backend, as in Jupyter.
- Resolution. The kernels get their own IPython profile (`_build/.ipython`, through
  `IPYTHONDIR`) whose only setting is `InlineBackend.figure_formats = {"retina"}`: each figure is
  a PNG of twice the pixels, shown at the same size (its width and height are saved beside it).
  A 6.4-inch figure becomes 1280 pixels wide instead of 640: sharp on high-density screens, and
  about 190 pixels per inch at its own size in the printed edition (`make.py pdf`). A reader's own
  IPython settings never reach the build, so the pages come out the same on every machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from sphinx.application import Sphinx

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
KERNEL_CONFIG = """\
# Written by book/_ext/execution_environment.py for the kernels that execute the book's pages.
c.InlineBackend.figure_formats = {"retina"}
"""


def use_inline_backend_in_kernels(app: Sphinx) -> None:
    if os.environ.get("MPLBACKEND", INLINE_BACKEND) != INLINE_BACKEND:
        del os.environ["MPLBACKEND"]


def draw_retina_figures_in_kernels(app: Sphinx) -> None:
    """Point the kernels at an IPython profile that saves figures as 2x PNGs."""
    ipython_dir = Path(app.doctreedir).parent / ".ipython"
    profile = ipython_dir / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    config = profile / "ipython_kernel_config.py"
    if not config.is_file() or config.read_text() != KERNEL_CONFIG:
        config.write_text(KERNEL_CONFIG)
    os.environ["IPYTHONDIR"] = str(ipython_dir)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", use_inline_backend_in_kernels)
    app.connect("builder-inited", draw_retina_figures_in_kernels)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
