"""What every test shares: the venv's tools on PATH, a headless plot backend, the gpu marker, and
the `one_torch_thread` fixture.

The tests mirror the layout of the course:

    unit/       the core (rnncourse.models, .data, .training), the command line, the layout
    chapters/   each chapter's experiments, figures, widgets, settings and `rnncourse run`
    exercises/  releasing, checking and grading the nbgrader exercises
    site/       the pages (code they include), the website build, its HTML and a browser

Each folder has its own fixtures in its conftest.py (the website builds and the browser are in
site/conftest.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# nbgrader calls `alembic` by name: the interpreter's bin folder goes first on PATH.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU; none is present")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture
def one_torch_thread():
    """One torch thread for a test, restored afterwards. The course's models are small: one
    thread runs them fastest (two only synchronise at every time step, and contend on a busy
    2-core machine). Modules that train models use it for every test:
    `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
