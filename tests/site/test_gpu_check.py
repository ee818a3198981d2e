"""The GPU check (`.ci/gpu`): on a machine without a CUDA GPU it says so instead of passing.

A run of the gpu-marked tests where torch sees no GPU would skip every one of them and report
success; `-m gpu` alone is refused there, and `.ci/gpu` records the device it ran on and fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")


def test_asking_for_the_gpu_tests_alone_without_a_gpu_is_an_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "gpu", "-p", "no:cacheprovider", "-q",
         "tests/unit/test_scan_kernel.py"], cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "sees no CUDA GPU here" in result.stderr


def test_the_gpu_check_records_the_device_and_fails_without_a_gpu(tmp_path: Path) -> None:
    environment = {**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable,
                   "GPU_BENCH_LIMIT": "1"}
    result = subprocess.run(["bash", str(ROOT / ".ci" / "gpu")], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    device = (tmp_path / "device.txt").read_text()
    assert f"torch {torch.__version__}" in device and "device: no CUDA GPU" in device
    assert "sees no CUDA GPU here" in (tmp_path / "gpu-tests.log").read_text()
    assert "gpu-marked tests: exit status 4; benchmark: exit status 124" in result.stdout
