"""Fixtures of the unit tests of the core (models, data, training) and the command line."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request: pytest.FixtureRequest) -> str:
    """Run a test on the CPU and, when present, on CUDA."""
    return request.param


@pytest.fixture
def fresh_c_kernels(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """The package's C kernels forgotten, and the warnings given about them, with the libraries
    built into an empty folder (`tmp_path`, yielded), before and after the test."""
    from rnncourse.models import c_library, kernels, scan_kernel
    from rnncourse.models.lstm_step_kernel import load_lstm_step_kernel

    monkeypatch.setattr(c_library.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(scan_kernel, "_warned", set())
    monkeypatch.setattr(kernels, "_warned", set())
    loaders = (scan_kernel.load_scan_kernel, load_lstm_step_kernel)
    for loader in loaders:
        loader.cache_clear()
    yield tmp_path
    for loader in loaders:
        loader.cache_clear()
