"""Fixtures of the unit tests of the core (models, data, training) and the command line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test on the CPU and, when present, on CUDA, there in true float32: cuDNN's RNNs
    use TF32 by default on recent GPUs (products rounded to about 1e-3), and the tests compare
    with float32 references at 1e-5. Both TF32 switches are restored afterwards."""
    if request.param != "cuda":
        yield request.param
        return
    import torch

    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield request.param
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


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
