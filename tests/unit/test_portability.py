"""The course on every reader's machine: CPUs without AVX-512 or bfloat16 kernels, Apple's MPS.

The test suite itself runs with `ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2` (see
conftest.py), so everything it executes, the book build and the graded notebooks included, takes
the path of an AVX2-only CPU. The tests here check the decisions that pick a fallback, on results
built for the purpose, and run the mixed-precision experiment in fresh processes on both paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from rnncourse.chapters.ch04_efficiency.mixed_precision import (
    MixedPrecisionResult,
    mixed_precision_summary,
)
from rnncourse.runtime import (
    LowPrecisionSupport,
    autocast_lstm_backend,
    default_device,
    default_low_precision_dtype,
    resolve_device,
    use_mps_by_default,
)

PORTABLE_CPU = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
NO_KERNEL_ERROR = ("could not create a primitive descriptor for the LSTM forward propagation "
                   "primitive. Run workload with environment variable ONEDNN_VERBOSE=all")


def support(lstm_kernel: bool, matmul_speedup: float, device: str = "cpu") -> LowPrecisionSupport:
    return LowPrecisionSupport(device, "bfloat16", lstm_kernel,
                               "" if lstm_kernel else NO_KERNEL_ERROR, matmul_speedup,
                               "AVX2" if device == "cpu" else "")


def result(backend: str, lstm_kernel: bool, matmul_speedup: float,
           milliseconds: tuple[float, float]) -> MixedPrecisionResult:
    return MixedPrecisionResult(
        "bfloat16", "cpu", backend, support(lstm_kernel, matmul_speedup), 100, 20,
        {"float32": milliseconds[0], "bfloat16": milliseconds[1]}, 3e-3, 5e-3,
        {"float32": 0.0047, "bfloat16": 0.0050})


def test_the_lstm_under_autocast_is_torchs_only_where_it_has_a_kernel() -> None:
    assert autocast_lstm_backend(support(True, 2.0)) == "torch"
    assert autocast_lstm_backend(support(False, 2.0)) == "rnncourse"
    assert autocast_lstm_backend(support(False, 0.05)) == "rnncourse"


def test_emulation_is_told_by_the_measured_speed_of_16_bit_products() -> None:
    assert support(False, 0.05).emulated
    assert support(True, 0.49).emulated
    assert not support(True, 0.5).emulated
    assert not support(False, 1.3).emulated


def test_summary_follows_the_result_whichever_way_it_went() -> None:
    native = mixed_precision_summary(result("torch", True, 1.8, (260.0, 160.0)))
    assert "torch.nn.LSTM has a bfloat16 kernel" in native
    assert "1.6 × faster" in native and "emulated" not in native
    fallback = mixed_precision_summary(result("rnncourse", False, 0.05, (60.0, 400.0)))
    assert "has no bfloat16 kernel" in fallback and "from-scratch LSTM" in fallback
    assert "could not create a primitive descriptor" in fallback
    assert "emulated in software" in fallback and "20 ×" in fallback
    assert "sequences of 20 steps instead of 100" in fallback
    assert "6.7 × slower" in fallback
    # A kernel that exists but is slower than float32 is reported as slower, not faster.
    slow_kernel = mixed_precision_summary(result("torch", True, 1.1, (100.0, 125.0)))
    assert "1.2 × slower" in slow_kernel


def test_default_low_precision_type_per_device() -> None:
    assert default_low_precision_dtype("cpu") == torch.bfloat16
    assert default_low_precision_dtype("cuda") == torch.float16
    assert default_low_precision_dtype("mps") == torch.bfloat16


MIXED_PRECISION_IN_A_FRESH_PROCESS = """
import json, torch
torch.set_num_threads(1)
from rnncourse.chapters.ch04_efficiency.mixed_precision import (
    mixed_precision_summary, run_mixed_precision)
result = run_mixed_precision(seq_len=10, batch_size=4, hidden_size=16, train_steps=3,
                             train_seq_len=5, repeats=1, device="cpu")
print(json.dumps({"backend": result.backend, "kernel": result.support.lstm_kernel,
                  "capability": result.support.cpu_capability,
                  "emulated": result.support.emulated,
                  "error": result.output_relative_error,
                  "summary": mixed_precision_summary(result)}))
"""


def run_in_fresh_process(environment: dict[str, str]) -> dict:
    completed = subprocess.run([sys.executable, "-c", MIXED_PRECISION_IN_A_FRESH_PROCESS],
                               capture_output=True, text=True, env=environment, timeout=300)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux" or os.uname().machine != "x86_64",
                    reason="the AVX2 settings are for x86-64 CPUs")
def test_mixed_precision_runs_on_an_avx2_only_cpu() -> None:
    """On any x86-64 machine, oneDNN limited to AVX2 has no bfloat16 LSTM kernel: the experiment
    must fall back to the from-scratch LSTM and say so, instead of raising."""
    outcome = run_in_fresh_process({**os.environ, **PORTABLE_CPU})
    assert outcome["capability"] == "AVX2"
    assert outcome["kernel"] is False and outcome["backend"] == "rnncourse"
    assert outcome["emulated"] is True
    assert 0 < outcome["error"] < 0.05
    assert "from-scratch LSTM" in outcome["summary"]


def test_mixed_precision_runs_on_this_cpu_as_it_is() -> None:
    """The same experiment with torch's own choice of kernels for this CPU: whichever path that
    is, it runs and the summary names the LSTM that ran."""
    environment = {name: value for name, value in os.environ.items()
                   if name not in PORTABLE_CPU}
    outcome = run_in_fresh_process(environment)
    assert outcome["backend"] == ("torch" if outcome["kernel"] else "rnncourse")
    assert 0 < outcome["error"] < 0.05
    lstm = "torch.nn.LSTM has a bfloat16 kernel" if outcome["kernel"] else "from-scratch LSTM"
    assert lstm in outcome["summary"]


def test_the_suite_runs_as_an_avx2_only_cpu() -> None:
    """conftest.py sets the portable settings before torch is imported (unless a run asks for
    the native CPU with RNNCOURSE_TEST_NATIVE_CPU=1)."""
    if os.environ.get("RNNCOURSE_TEST_NATIVE_CPU") == "1":
        pytest.skip("this run asked for the native CPU")
    if os.uname().machine != "x86_64":
        pytest.skip("the AVX2 settings are for x86-64 CPUs")
    assert torch.backends.cpu.get_cpu_capability() == "AVX2"
    for name, value in PORTABLE_CPU.items():
        assert os.environ[name] == value


# --- Apple Silicon: MPS, mocked (these machines have none) ---------------------------------


@pytest.fixture
def apple_silicon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)


def test_default_device_order_is_cuda_then_mps_then_cpu(
    monkeypatch: pytest.MonkeyPatch, apple_silicon: None
) -> None:
    assert default_device() == torch.device("mps")
    assert resolve_device(None) == torch.device("mps")
    assert resolve_device("mps") == torch.device("mps")
    # The book's numbers come from the CPU on a Mac too.
    assert default_device(include_mps=False) == torch.device("cpu")
    use_mps_by_default(False)  # what the book's set-up does
    try:
        assert resolve_device(None) == torch.device("cpu")
        assert resolve_device("mps") == torch.device("mps")  # asked for by name, it is used
    finally:
        use_mps_by_default(True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == torch.device("cuda")


def test_asking_for_mps_where_there_is_none_names_the_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match="MPS backend is not available"):
        resolve_device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == torch.device("cpu")


def test_inductor_compiles_for_the_vector_width_of_torchs_cpu_kernels() -> None:
    """With ATEN_CPU_CAPABILITY lowering the capability (as this suite runs on an AVX-512
    machine), inductor must generate loops of that width too, or its kernels compute garbage."""
    import torch._inductor.config as inductor

    from rnncourse.models.kernels import VECTOR_BITS, align_compiler_with_cpu_kernels

    if not os.environ.get("ATEN_CPU_CAPABILITY"):
        pytest.skip("torch's CPU capability is not set by the environment in this run")
    before = inductor.cpp.simdlen
    try:
        inductor.cpp.simdlen = None
        align_compiler_with_cpu_kernels()
        assert inductor.cpp.simdlen == VECTOR_BITS[torch.backends.cpu.get_cpu_capability()]
    finally:
        inductor.cpp.simdlen = before
