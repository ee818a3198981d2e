"""minGRU and minLSTM: the scans against the sequential loop, values and gradients."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from rnncourse.models import MinGRU, MinLSTM
from rnncourse.models.chunked_scan import chunk_summaries, chunk_sweep, gradient_summaries
from rnncourse.models.minimal import (
    MODES,
    blocked_scan,
    chunked_scan,
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
    for mode in ("log_scan", "blocked_scan", "chunked_scan", "kernel_scan"):
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
    with pytest.raises(ValueError, match="same shape"):
        chunked_scan(torch.ones(3, 2), torch.ones(3, 1))
    with pytest.raises(ValueError, match="chunk_length"):
        chunked_scan(torch.ones(3, 2), torch.ones(3, 2), chunk_length=0)
    with pytest.raises(ValueError, match="initial"):
        chunked_scan(torch.ones(3, 2), torch.ones(3, 2), torch.ones(3))
    with pytest.raises(ValueError, match="one dtype, got torch.float32, torch.float64"):
        chunked_scan(torch.ones(3, 2), torch.ones(3, 2), torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="time dimension"):
        log_space_scan(torch.ones(0, 2), torch.ones(0, 2))


def test_runs_on_cuda_like_on_the_cpu(device: str) -> None:
    torch.manual_seed(0)
    model = MinGRU(4, 6).to(device)
    x = draw(50, 2, 4, seed=5).to(device)
    outputs = [model(x, mode=mode)[0] for mode in MODES]
    for output in outputs[:-1]:
        assert_close(output, outputs[-1], atol=1e-4, rtol=1e-3)



# The chunked scan: every T (multiples of the chunk length or not, shorter than one chunk,
# a single step), several widths and chunk lengths, values and gradients against the loop.
CHUNKED_CASES = [(1, 1, 1), (2, 3, 2), (7, 2, 3), (16, 1, 4), (31, 2, 2), (32, 3, 5),
                 (33, 1, 3), (100, 2, 3), (257, 3, 2), (1000, 2, 4)]


@pytest.mark.parametrize(("steps", "batch", "hidden"), CHUNKED_CASES)
@pytest.mark.parametrize("chunk_length", [1, 2, 4, 16])
def test_chunked_scan_matches_the_loop(steps: int, batch: int, hidden: int,
                                       chunk_length: int) -> None:
    a = draw(steps, batch, hidden, seed=steps, dtype=torch.float64).clamp(-1.05, 1.05)
    b = draw(steps, batch, hidden, seed=steps + 1, dtype=torch.float64)
    h0 = draw(batch, hidden, seed=steps + 2, dtype=torch.float64)
    for initial in (h0, None):
        inputs = [x.clone().requires_grad_() for x in (a, b)]
        reference_inputs = [x.clone().requires_grad_() for x in (a, b)]
        ours = chunked_scan(*inputs, initial, chunk_length)
        theirs = linear_recurrence_loop(*reference_inputs, initial)
        assert_close(ours, theirs, atol=1e-10, rtol=1e-9)
        grad = draw(steps, batch, hidden, seed=steps + 3, dtype=torch.float64)
        assert_close(torch.autograd.grad(ours, inputs, grad),
                     torch.autograd.grad(theirs, reference_inputs, grad), atol=1e-10, rtol=1e-9)


def test_chunked_scan_gradcheck_float64() -> None:
    for steps in (1, 5, 37):
        a = (torch.rand(steps, 2, 3, dtype=torch.float64) * 1.2 - 0.6).requires_grad_()
        b = draw(steps, 2, 3, seed=steps, dtype=torch.float64).requires_grad_()
        h0 = draw(2, 3, seed=steps + 1, dtype=torch.float64).requires_grad_()
        assert torch.autograd.gradcheck(lambda a, b, h0: chunked_scan(a, b, h0, 4), (a, b, h0))
        assert torch.autograd.gradcheck(lambda a, b: chunked_scan(a, b, None, 2), (a, b))


def test_chunked_scan_is_stable_where_products_underflow() -> None:
    """Strong forgetting (a ≈ 1e-30) and long sequences: no overflow, no NaN, the loop's values."""
    steps = 3000
    a = torch.full((steps, 4), 1e-30)
    a[::7] = 0.999  # with some slow steps between
    b = torch.rand(steps, 4, generator=torch.Generator().manual_seed(0))
    ours = chunked_scan(a, b)
    assert bool(torch.isfinite(ours).all())
    assert_close(ours, linear_recurrence_loop(a, b), atol=1e-6, rtol=1e-5)


def test_chunk_kernels_are_the_recurrence_within_each_chunk() -> None:
    a, b = draw(5, 4, 3, seed=3), draw(5, 4, 3, seed=4)  # 5 chunks of 4 steps, width 3
    entering = draw(5, 3, seed=5)
    swept = chunk_sweep(a, b, entering)
    local, product = chunk_summaries(a, b)
    mu, gradient_product = gradient_summaries(a, b)
    for chunk in range(5):
        assert_close(swept[chunk], linear_recurrence_loop(a[chunk], b[chunk], entering[chunk]))
        assert_close(local[chunk], linear_recurrence_loop(a[chunk], b[chunk])[-1])
        assert_close(product[chunk], a[chunk].prod(0))
        # μ_1 from μ_{C+1} = 0: the recurrence μ_c = a_c (g_c + μ_{c+1}) backwards in time.
        reversed_a = a[chunk].flip(0)
        expected = linear_recurrence_loop(reversed_a, reversed_a * b[chunk].flip(0))[-1]
        assert_close(mu[chunk], expected)
    assert_close(gradient_product, product)


def test_compiled_chunk_kernels_match_the_loop(device: str) -> None:
    """torch.compile of the chunk kernels (C++ on a CPU, Triton on a GPU), several lengths."""
    for steps in (40, 333):
        a = (torch.rand(steps, 2, 5, generator=torch.Generator().manual_seed(steps)) * 0.9
             + 0.05).to(device).requires_grad_()
        b = draw(steps, 2, 5, seed=steps).to(device).requires_grad_()
        ours = chunked_scan(a, b, compiled=True)
        theirs = linear_recurrence_loop(a, b)
        assert_close(ours, theirs, atol=1e-5, rtol=1e-4)
        grad = torch.ones_like(ours)
        assert_close(torch.autograd.grad(ours, (a, b), grad),
                     torch.autograd.grad(theirs, (a, b), grad), atol=1e-4, rtol=1e-4)


def test_log_space_scan_backward_matches_autograd_through_its_formula() -> None:
    """The hand-written backward against autograd through cumsum and logcumsumexp."""
    log_a = (torch.rand(60, 3, dtype=torch.float64) * 0.8 + 0.1).log().requires_grad_()
    log_b = (torch.rand(60, 3, dtype=torch.float64) + 0.1).log().requires_grad_()
    log_h0 = (torch.rand(3, dtype=torch.float64) + 0.1).log().requires_grad_()
    a_star = torch.cumsum(log_a, 0)
    terms = torch.cat((log_h0.unsqueeze(0), log_b - a_star))
    formula = torch.exp(a_star + torch.logcumsumexp(terms, 0)[1:])
    ours = log_space_scan(log_a, log_b, log_h0)
    assert_close(ours, formula)
    grad = torch.randn(60, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert_close(torch.autograd.grad(ours, (log_a, log_b, log_h0), grad),
                 torch.autograd.grad(formula, (log_a, log_b, log_h0), grad))


def test_min_gru_chunked_mode_compiled_or_not() -> None:
    torch.manual_seed(0)
    model = MinGRU(3, 4, mode="chunked_scan")
    x = draw(50, 2, 3, seed=6)
    assert_close(model(x)[0], model(x, mode="sequential")[0], atol=1e-5, rtol=1e-4)
    assert "compiled=True" in repr(MinGRU(3, 4, compiled=True))
    with pytest.raises(TypeError, match="compiled"):
        MinGRU(3, 4, compiled="yes")
