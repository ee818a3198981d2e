"""The kernel scan: one pass in C, against the loop; its fallback where it cannot run."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from rnncourse.models import c_library
from rnncourse.models.minimal import MinGRU, linear_recurrence_loop
from rnncourse.models.scan_kernel import (
    KernelScanFunction,
    kernel_scan,
    load_scan_kernel,
    scan_kernel_path,
)


def draw(*shape: int, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_the_kernel_builds_here() -> None:
    # The course's machines have the C compiler that torch.compile needs; so must this test's.
    assert scan_kernel_path(torch.zeros(1)) == "C kernel"
    assert scan_kernel_path(torch.zeros(1, dtype=torch.float64)) == "C kernel"
    assert "no kernel for torch.float16" in scan_kernel_path(torch.zeros(1, dtype=torch.float16))


@pytest.mark.parametrize(("steps", "batch", "hidden"), [(1, 1, 1), (2, 3, 2), (37, 2, 3),
                                                        (300, 4, 17)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_kernel_scan_matches_the_loop(steps: int, batch: int, hidden: int,
                                      dtype: torch.dtype) -> None:
    # Coefficients of both signs and beyond 1 in size: the kernel divides nothing.
    a = draw(steps, batch, hidden, seed=steps, dtype=dtype).clamp(-1.05, 1.05)
    b = draw(steps, batch, hidden, seed=steps + 1, dtype=dtype)
    h0 = draw(batch, hidden, seed=steps + 2, dtype=dtype)
    grad = draw(steps, batch, hidden, seed=steps + 3, dtype=dtype)
    tolerance = {"atol": 1e-10, "rtol": 1e-9} if dtype == torch.float64 else {"atol": 1e-4,
                                                                               "rtol": 1e-4}
    for initial in (h0, None):
        ours = [x.clone().requires_grad_() for x in (a, b)]
        theirs = [x.clone().requires_grad_() for x in (a, b)]
        start = None if initial is None else initial.clone().requires_grad_()
        reference_start = None if initial is None else initial.clone().requires_grad_()
        h = kernel_scan(*ours, start)
        reference = linear_recurrence_loop(*theirs, reference_start)
        assert h.shape == reference.shape
        assert_close(h, reference, **tolerance)
        wrt = [*ours, *([start] if start is not None else [])]
        reference_wrt = [*theirs, *([reference_start] if start is not None else [])]
        assert_close(torch.autograd.grad(h, wrt, grad),
                     torch.autograd.grad(reference, reference_wrt, grad), **tolerance)


def test_kernel_scan_gradcheck_and_strided_inputs() -> None:
    a = draw(9, 2, 3, seed=0).clamp(-1, 1).requires_grad_()
    b = draw(9, 2, 3, seed=1).requires_grad_()
    h0 = draw(2, 3, seed=2).requires_grad_()
    assert torch.autograd.gradcheck(kernel_scan, (a, b, h0))
    # Non-contiguous views (batch-first data seen time-major) give the same numbers.
    a_batch_first, b_batch_first = draw(2, 9, 3, seed=3), draw(2, 9, 3, seed=4)
    assert_close(kernel_scan(a_batch_first.transpose(0, 1), b_batch_first.transpose(0, 1)),
                 linear_recurrence_loop(a_batch_first.transpose(0, 1),
                                        b_batch_first.transpose(0, 1)))


def test_kernel_scan_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="same shape"):
        kernel_scan(torch.ones(3, 2), torch.ones(3, 1))
    with pytest.raises(ValueError, match="initial must have shape"):
        kernel_scan(torch.ones(3, 2), torch.ones(3, 2), torch.ones(3))
    with pytest.raises(ValueError, match="one dtype.*float32.*float64"):
        kernel_scan(torch.ones(3, 2), torch.ones(3, 2, dtype=torch.float64))
    # A GPU's tensors (meta stands for them) never reach C, which reads host memory.
    with pytest.raises(ValueError, match="one device, got cpu, meta"):
        kernel_scan(torch.ones(3, 2, device="meta"), torch.ones(3, 2))
    a, b, h0 = draw(3, 2, seed=0), draw(3, 2, seed=1), draw(2, seed=2)
    for arguments, refusal in (((a.to("meta"), b, h0), "runs on CPUs, not meta"),
                               ((a, b.to("meta"), h0), "b as a torch.float64 CPU tensor"),
                               ((a, b, h0.float()), "initial as a torch.float64 CPU tensor"),
                               ((a, b[:, :1], h0), "shape"),
                               ((a, b.t().contiguous().t(), h0), "contiguous")):
        with pytest.raises(ValueError, match=refusal):
            KernelScanFunction.apply(*arguments)


def test_without_a_compiler_the_chunked_scan_runs_with_one_warning(
    fresh_c_kernels, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC", str(fresh_c_kernels / "no-such-compiler"))
    a, b = draw(20, 3, seed=0).clamp(-1, 1), draw(20, 3, seed=1)
    assert scan_kernel_path(a).startswith("chunked scan (the C kernel could not be built")
    with pytest.warns(RuntimeWarning, match="kernel_scan runs the chunked scan") as warned:
        h = kernel_scan(a, b)
    assert warned[0].filename == __file__
    assert_close(h, linear_recurrence_loop(a, b))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kernel_scan(a, b)  # warned once only


def test_a_compiler_that_fails_is_reported(
    fresh_c_kernels, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC", "false")  # runs, and fails
    assert "could not be built" in scan_kernel_path(torch.zeros(1))
    assert not list(fresh_c_kernels.iterdir())


def test_without_a_temporary_folder_the_reason_is_given(
    fresh_c_kernels, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(c_library.tempfile, "mkdtemp", refuse)
    assert "no temporary folder: read-only file system" in scan_kernel_path(torch.zeros(1))


def test_the_kernel_is_built_once_per_process_and_left_nowhere_on_disk(fresh_c_kernels) -> None:
    assert scan_kernel_path(torch.zeros(1)) == "C kernel"
    kernel = load_scan_kernel(torch.float32)
    assert load_scan_kernel(torch.float32) is kernel  # built once
    # Nothing is left for other code (a submission graded here) to load.
    assert not list(fresh_c_kernels.iterdir()) and not Path(kernel._name).exists()
    a, b = draw(5, 2, seed=0, dtype=torch.float32), draw(5, 2, seed=1, dtype=torch.float32)
    assert_close(kernel_scan(a, b), linear_recurrence_loop(a, b))  # and it still runs


def test_min_gru_kernel_mode_matches_the_loop() -> None:
    torch.manual_seed(0)
    model = MinGRU(3, 4)
    x = draw(50, 2, 3, seed=5, dtype=torch.float32)
    assert_close(model(x, mode="kernel_scan")[0], model(x, mode="sequential")[0], atol=1e-5,
                 rtol=1e-4)


@pytest.mark.gpu
def test_on_a_gpu_the_chunked_scan_runs(fresh_c_kernels) -> None:
    a, b = draw(30, 4, seed=0).to("cuda"), draw(30, 4, seed=1).to("cuda")
    assert scan_kernel_path(a).startswith("chunked scan (the C kernel runs on CPUs")
    with pytest.warns(RuntimeWarning, match="chunked scan"):
        h = kernel_scan(a, b)
    assert_close(h.cpu(), linear_recurrence_loop(a.cpu(), b.cpu()))

