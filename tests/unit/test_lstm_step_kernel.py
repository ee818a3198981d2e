"""The C LSTM step (`lstm_step.c`): the PyTorch steps' numbers, its fallback where it cannot run."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from rnncourse.models import FusedLSTM, kernels, lstm_step_kernel
from rnncourse.models.fused_lstm import (
    FusedLSTMFunction,
    fused_lstm_kernels,
    lstm_cell_backward,
    lstm_cell_forward,
)
from rnncourse.models.lstm_step_kernel import (
    load_lstm_step_kernel,
    lstm_step_backward_c,
    lstm_step_forward_c,
    lstm_step_kernel_unavailable,
)


def draw(*shape: int, seed: int, dtype: torch.dtype, scale: float = 1.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                               dtype=dtype)


def test_the_kernel_builds_here() -> None:
    # The course's machines have the C compiler that torch.compile needs; so must this test's.
    for dtype in (torch.float32, torch.float64):
        assert lstm_step_kernel_unavailable(torch.zeros(1, dtype=dtype)) is None
    assert "no kernel for torch.float16" in lstm_step_kernel_unavailable(
        torch.zeros(1, dtype=torch.float16))
    assert FusedLSTM(3, 4, elementwise="c").kernels().describe().endswith("C element-wise")


def step_arguments(batch: int, hidden: int, dtype: torch.dtype, seed: int) -> dict:
    # Pre-activations of several units' size, so that every gate saturates somewhere.
    return {
        "pre": draw(batch, 4 * hidden, seed=seed, dtype=dtype, scale=4.0),
        "c_prev": draw(batch, hidden, seed=seed + 2, dtype=dtype, scale=2.0),
        "grad_output": draw(batch, hidden, seed=seed + 3, dtype=dtype),
        "grad_h": draw(batch, hidden, seed=seed + 4, dtype=dtype),
        "grad_c": draw(batch, hidden, seed=seed + 5, dtype=dtype),
    }


# Widths that are not a multiple of the vector length exercise the loops' remainders.
@pytest.mark.parametrize(("batch", "hidden"), [(1, 1), (3, 5), (2, 17), (64, 256)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("with_bias", [True, False])
def test_c_steps_write_what_the_pytorch_steps_write(batch: int, hidden: int,
                                                    dtype: torch.dtype, with_bias: bool) -> None:
    given = step_arguments(batch, hidden, dtype, seed=batch * hidden)
    bias = draw(4 * hidden, seed=7, dtype=dtype) if with_bias else None
    tolerance = {"atol": 1e-6, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-13,
                                                                               "rtol": 1e-12}
    written = {}
    for name, step in (("torch", lstm_cell_forward), ("c", lstm_step_forward_c)):
        pre = given["pre"].clone()
        gates = torch.full_like(pre, float("nan"))
        c, tanh_c, h = (torch.full_like(given["c_prev"], float("nan")) for _ in range(3))
        # h_t also goes into every other column of a wider array (rows beside x_{t+1}).
        beside = torch.full((batch, 3 * hidden), float("nan"), dtype=dtype)
        step(pre, bias, given["c_prev"], gates, c, tanh_c, h, beside[:, hidden:2 * hidden])
        assert torch.equal(pre, given["pre"])  # read, not written
        assert beside[:, :hidden].isnan().all() and beside[:, 2 * hidden:].isnan().all()
        written[name] = (gates, c, tanh_c, h, beside[:, hidden:2 * hidden])
    for ours, theirs in zip(written["c"], written["torch"], strict=True):
        assert_close(ours, theirs, **tolerance)
    assert torch.equal(written["c"][3], written["c"][4])

    gates, _, tanh_c, _, _ = written["torch"]
    backward = {}
    for name in ("torch", "c"):
        grad_gates = torch.full_like(gates, float("nan"))
        grad_c_prev = torch.full_like(given["c_prev"], float("nan"))
        arguments = (given["grad_output"], given["grad_h"], given["grad_c"], gates,
                     given["c_prev"], tanh_c, grad_gates, grad_c_prev)
        if name == "torch":
            lstm_cell_backward(*arguments)
            grad_bias = grad_gates.sum(0)
        else:
            grad_bias = torch.ones(4 * hidden, dtype=dtype)  # the step adds to what is there
            lstm_step_backward_c(*arguments, grad_bias)
            grad_bias = grad_bias - 1
        backward[name] = (grad_gates, grad_c_prev, grad_bias)
    for ours, theirs in zip(backward["c"], backward["torch"], strict=True):
        assert_close(ours, theirs, **tolerance)


def test_sigmoid_and_tanh_over_the_whole_float_range() -> None:
    """The float32 kernel's own e^x: within a few units of round-off of torch's sigmoid and tanh
    everywhere, saturating to 0, 1 and ±1 far out, and NaN in, NaN out."""
    hidden = 4096
    values = torch.cat([torch.linspace(-30, 30, hidden - 8),
                        torch.tensor([-1e30, -200.0, -88.5, 87.5, 88.5, 200.0, 1e30, 0.0])])
    special = torch.tensor([float("nan"), float("inf"), -float("inf")])
    values = torch.cat([values[:-3], special])
    pre = torch.cat([values, values, values, values]).unsqueeze(0)  # i, f, g, o all = values
    gates = torch.empty_like(pre)
    c, tanh_c, h = (torch.empty(1, hidden) for _ in range(3))
    lstm_step_forward_c(pre, None, torch.zeros(1, hidden), gates, c, tanh_c, h)
    exact = values.double()
    finite = torch.isfinite(values)
    for ours, theirs in ((gates[0, :hidden], torch.sigmoid(exact)),
                         (gates[0, 2 * hidden:3 * hidden], torch.tanh(exact))):
        assert (ours[finite].double() - theirs[finite]).abs().max() < 3e-7
        assert torch.isnan(ours[-3]) and torch.isnan(theirs[-3])  # NaN
    # σ(+∞) = 1; σ(−∞) = 1 / (1 + e^88) at the clamp, below any normal float.
    assert gates[0, hidden - 2] == 1 and 0 <= gates[0, hidden - 1] < torch.finfo().tiny
    assert gates[0, 3 * hidden - 2] == 1 and gates[0, 3 * hidden - 1] == -1  # tanh(±∞)


def test_fused_lstm_in_c_matches_torch_lstm_and_finite_differences() -> None:
    torch.manual_seed(0)
    reference = nn.LSTM(5, 7, num_layers=2)
    fused = FusedLSTM(5, 7, num_layers=2, elementwise="c")
    fused.load_state_dict(reference.state_dict())
    x = torch.randn(11, 3, 5)
    results = []
    for module in (reference, fused):
        inputs = x.clone().requires_grad_()
        output, (h_n, c_n) = module(inputs)
        (output.pow(2).sum() + h_n.sum() + 3 * c_n.sum()).backward()
        results.append((output, h_n, c_n, inputs.grad, *[p.grad for p in module.parameters()]))
    for ours, theirs in zip(results[1], results[0], strict=True):
        assert_close(ours, theirs, atol=1e-5, rtol=1e-5)

    generator = torch.Generator().manual_seed(2)
    arguments = [torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()
                 for shape in ((6, 2, 3), (2, 4), (2, 4), (16, 3), (16, 4), (16,), (16,))]
    paths = fused_lstm_kernels(arguments[0], elementwise="c")
    assert paths.elementwise == "c"
    assert torch.autograd.gradcheck(lambda *a: FusedLSTMFunction.apply(*a, paths), arguments,
                                    eps=1e-6, atol=1e-6)


def test_one_bias_needing_a_gradient_gets_it() -> None:
    fused = FusedLSTM(3, 4, elementwise="c")
    reference = FusedLSTM(3, 4)
    reference.load_state_dict(fused.state_dict())
    for module in (fused, reference):
        module.bias_hh_l0.requires_grad_(False)
        module(torch.ones(5, 2, 3))[0].sum().backward()
    assert fused.bias_hh_l0.grad is None
    assert_close(fused.bias_ih_l0.grad, reference.bias_ih_l0.grad)


def test_arrays_that_are_not_contiguous_are_refused() -> None:
    # A strided view handed to C would be read as if it were not: refused, by name.
    gates, states = torch.zeros(2, 8), [torch.zeros(2, 2) for _ in range(4)]
    with pytest.raises(ValueError, match="contiguous arrays; pre is not"):
        lstm_step_forward_c(torch.zeros(8, 2).t(), None, states[0], gates, *states[1:])
    with pytest.raises(ValueError, match="h_next must be"):
        lstm_step_forward_c(gates, None, states[0], gates, *states[1:], torch.zeros(4, 2).t())
    with pytest.raises(ValueError, match="contiguous arrays; grad_c_prev is not"):
        lstm_step_backward_c(*states[:3], gates, *states[:2], torch.zeros(2, 8),
                             torch.zeros(2, 4)[:, ::2])


def test_without_a_compiler_the_eager_steps_run_with_one_warning(
    fresh_c_kernels, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC", str(fresh_c_kernels / "no-such-compiler"))
    torch.manual_seed(0)
    fused, eager = FusedLSTM(3, 4, elementwise="c"), FusedLSTM(3, 4)
    eager.load_state_dict(fused.state_dict())
    x = torch.randn(5, 2, 3)
    with pytest.warns(RuntimeWarning, match="running the element-wise work eagerly: the C "
                                            "kernel could not be built"):
        output, _ = fused(x)
    assert_close(output, eager(x)[0], atol=0, rtol=0)
    paths = fused.kernels()
    assert paths.elementwise == "eager" and paths.note.startswith("no C kernel:")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fused(x)[0].sum().backward()  # warned once only
    assert not list(fresh_c_kernels.iterdir())


def test_the_library_is_built_once_and_left_nowhere_on_disk(fresh_c_kernels) -> None:
    kernel = load_lstm_step_kernel(torch.float32)
    assert load_lstm_step_kernel(torch.float32) is kernel
    assert not list(fresh_c_kernels.iterdir())
    assert lstm_step_kernel.SOURCE.name == "lstm_step.c"


@pytest.mark.gpu
def test_on_a_gpu_the_eager_steps_run(monkeypatch: pytest.MonkeyPatch) -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU; none is present")
    monkeypatch.setattr(kernels, "_warned", set())
    torch.manual_seed(0)
    fused, eager = FusedLSTM(3, 4, elementwise="c").cuda(), FusedLSTM(3, 4).cuda()
    eager.load_state_dict(fused.state_dict())
    x = torch.randn(5, 2, 3, device="cuda")
    with pytest.warns(RuntimeWarning, match="runs on CPUs, not cuda"):
        output, _ = fused(x)
    assert_close(output, eager(x)[0])
    assert fused.kernels().elementwise == "eager"
