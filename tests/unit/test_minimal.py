"""minGRU and minLSTM: the scans against the sequential loop, values and gradients."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from rnncourse.models import MinGRU, MinLSTM
from rnncourse.models.minimal import (
    MODES,
    blocked_scan,
    g,
    linear_recurrence_loop,
    log_g,
    log_space_scan,
)


def draw(*shape: int, seed: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_loop_is_the_recurrence() -> None:
    a, b, h0 = torch.tensor([[0.5], [2.0]]), torch.tensor([[1.0], [-1.0]]), torch.tensor([4.0])
    # h_1 = 0.5·4 + 1 = 3, h_2 = 2·3 − 1 = 5
    assert_close(linear_recurrence_loop(a, b, h0), torch.tensor([[3.0], [5.0]]))


@pytest.mark.parametrize("steps", [1, 2, 7, 64, 100, 257])
@pytest.mark.parametrize("block_length", [None, 1, 5])
def test_blocked_scan_matches_the_loop_for_any_signs(steps: int, block_length: int | None) -> None:
    a = draw(steps, 3, 2, seed=steps)  # negative coefficients too
    b, h0 = draw(steps, 3, 2, seed=steps + 1), draw(3, 2, seed=steps + 2)
    expected = linear_recurrence_loop(a.clamp(-1.1, 1.1), b, h0)
    assert_close(blocked_scan(a.clamp(-1.1, 1.1), b, h0, block_length), expected,
                 atol=1e-5, rtol=1e-4)
    assert_close(blocked_scan(a * 0.5, b), linear_recurrence_loop(a * 0.5, b), atol=1e-5,
                 rtol=1e-4)


def test_blocked_scan_gradcheck_float64() -> None:
    a = (torch.rand(23, 2, 3, dtype=torch.float64) * 1.2 - 0.6).requires_grad_()
    b = draw(23, 2, 3, seed=1, dtype=torch.float64).requires_grad_()
    h0 = draw(2, 3, seed=2, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b, h0: blocked_scan(a, b, h0, 4), (a, b, h0))
    assert torch.autograd.gradcheck(lambda a, b: blocked_scan(a, b), (a, b))


def test_log_space_scan_matches_the_loop_and_gradcheck() -> None:
    a = torch.rand(300, 4, dtype=torch.float64) * 0.5 + 0.5
    b = torch.rand(300, 4, dtype=torch.float64) + 0.1
    h0 = torch.rand(4, dtype=torch.float64) + 0.1
    assert_close(log_space_scan(a.log(), b.log(), h0.log()), linear_recurrence_loop(a, b, h0))
    assert_close(log_space_scan(a.log(), b.log()), linear_recurrence_loop(a, b))
    inputs = (a[:9].log().requires_grad_(), b[:9].log().requires_grad_(),
              h0.log().requires_grad_())
    assert torch.autograd.gradcheck(log_space_scan, inputs)


def test_g_is_positive_continuous_and_log_g_is_its_log() -> None:
    x = torch.linspace(-20, 20, 4001, dtype=torch.float64)
    assert bool((g(x) > 0).all())
    assert_close(g(torch.tensor([0.0])), torch.tensor([0.5]))  # both pieces give 1/2 at 0
    assert_close(log_g(x), g(x).log())


@pytest.mark.parametrize("cls", [MinGRU, MinLSTM])
@pytest.mark.parametrize("batch_first", [False, True])
def test_modes_agree_on_outputs_and_gradients(cls: type, batch_first: bool) -> None:
    torch.manual_seed(0)
    model = cls(5, 7, batch_first=batch_first)
    x = draw(*((3, 200, 5) if batch_first else (200, 3, 5)), seed=3)
    h0 = torch.rand(3, 7) + 0.1
    results = {}
    for mode in MODES:
        model.zero_grad()
        output, h_n = model(x, h0, mode=mode)
        output.pow(2).mean().backward()
        results[mode] = (output.detach(), h_n.detach(),
                         *[p.grad.clone() for p in model.parameters()])
        assert output.shape == x.shape[:2] + (7,) and h_n.shape == (3, 7)
    for mode in ("log_scan", "blocked_scan"):
        for ours, reference in zip(results[mode], results["sequential"], strict=True):
            assert_close(ours, reference, atol=1e-4, rtol=1e-3)


def test_minlstm_gates_are_normalised_and_mingru_uses_its_gate() -> None:
    torch.manual_seed(1)
    projection = draw(4, 2, 9, seed=4)
    a, b = MinLSTM(3, 3).coefficients(projection)
    forget, input_gate, candidate = projection.chunk(3, dim=-1)
    f, i = torch.sigmoid(forget), torch.sigmoid(input_gate)
    assert_close(a + (b / g(candidate)), torch.ones_like(a))  # f' + i' = 1
    assert_close(a, f / (f + i))
    a, b = MinGRU(3, 3).coefficients(projection[..., :6])
    z = torch.sigmoid(projection[..., :3])
    assert_close(a, 1 - z)


def test_bad_arguments_are_named() -> None:
    model = MinGRU(4, 6)
    with pytest.raises(ValueError, match="mode"):
        MinGRU(4, 6, mode="parallel")
    with pytest.raises(ValueError, match="h_0 > 0"):
        model(torch.randn(5, 2, 4), -torch.ones(2, 6))
    model(torch.randn(5, 2, 4), -torch.ones(2, 6), mode="blocked_scan")  # fine in linear space
    with pytest.raises(ValueError, match="input_size=4"):
        model(torch.randn(5, 2, 3))
    with pytest.raises(ValueError, match="h_0"):
        model(torch.randn(5, 2, 4), torch.ones(3, 6))
    with pytest.raises(ValueError, match="same shape"):
        blocked_scan(torch.ones(3, 2), torch.ones(3, 1))
    with pytest.raises(ValueError, match="block_length"):
        blocked_scan(torch.ones(3, 2), torch.ones(3, 2), block_length=0)


def test_runs_on_cuda_like_on_the_cpu(device: str) -> None:
    torch.manual_seed(0)
    model = MinGRU(4, 6).to(device)
    x = draw(50, 2, 4, seed=5).to(device)
    outputs = [model(x, mode=mode)[0] for mode in MODES]
    for output in outputs[:-1]:
        assert_close(output, outputs[-1], atol=1e-4, rtol=1e-3)
