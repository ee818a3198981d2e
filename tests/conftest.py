"""What every test shares: the venv's tools on PATH, a headless plot backend, the gpu marker, the
`one_torch_thread` fixture, and `default_device_elsewhere`.

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
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import torch

# nbgrader calls `alembic` by name: the interpreter's bin folder goes first on PATH.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
os.environ.setdefault("MPLBACKEND", "Agg")

# Test as a reader's laptop would run: an x86-64 CPU with AVX2 but no AVX-512 and no bfloat16
# kernels (oneDNN limited to AVX2, torch's own kernels to AVX2). Set before torch is imported, so
# this process and everything it starts (the book build's kernels, graded notebooks) take that
# path whatever this machine's CPU is. RNNCOURSE_TEST_NATIVE_CPU=1 runs on the CPU as it is.
if os.environ.get("RNNCOURSE_TEST_NATIVE_CPU") != "1" and platform.machine() in ("x86_64", "AMD64"):
    os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"
    os.environ["ATEN_CPU_CAPABILITY"] = "avx2"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    if config.getoption("markexpr", "").strip() == "gpu":
        # Asked for the GPU tests alone: all skipped would read as a pass that tested nothing.
        raise pytest.UsageError(
            f"-m gpu selects the tests that need CUDA, but torch {torch.__version__} sees no CUDA "
            "GPU here (torch.cuda.is_available() is False): none of them would run"
        )
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


@pytest.fixture
def default_device_elsewhere(monkeypatch: pytest.MonkeyPatch) -> torch.device:
    """`device=None` meaning a device other than the CPU, as on a machine with a CUDA GPU (or a
    Mac, with MPS). torch's `meta` device stands for it (returned): a meta tensor holds no data,
    so code that must run on the CPU but took the default device fails loudly, by mixing
    devices or by reading a number."""
    import torch

    from rnncourse import runtime

    elsewhere = torch.device("meta")
    monkeypatch.setattr(runtime, "default_device", lambda include_mps=None: elsewhere)
    return elsewhere
