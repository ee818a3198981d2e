"""Fixtures of the unit tests of the core (models, data, training) and the command line."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request: pytest.FixtureRequest) -> str:
    """Run a test on the CPU and, when present, on CUDA."""
    return request.param


@pytest.fixture
def default_device_elsewhere(monkeypatch: pytest.MonkeyPatch) -> torch.device:
    """`device=None` meaning a device other than the CPU, as on a machine with a CUDA GPU (or a
    Mac, with MPS). torch's `meta` device stands for it (yielded): a meta tensor holds no data,
    so code that must run on the CPU but took the default device fails loudly, by mixing
    devices or by reading a number."""
    from rnncourse import runtime

    elsewhere = torch.device("meta")
    monkeypatch.setattr(runtime, "default_device", lambda include_mps=None: elsewhere)
    return elsewhere


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
