"""The fused LSTM: its hand-written backward against finite differences and torch.nn.LSTM."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from rnncourse.models import LSTM, FusedLSTM
from rnncourse.models.fused_lstm import (
    FusedLSTMFunction,
    fused_lstm,
    fused_lstm_kernels,
    lstm_cell_backward,
    lstm_cell_forward,
    tanh_by_sigmoid,
)
from rnncourse.models.kernels import WeightProduct, onednn_matmul_available

TOL = {"atol": 1e-5, "rtol": 1e-5}


def float64_arguments(seed: int, steps: int = 5, batch: int = 3, inputs: int = 4,
                      hidden: int = 3, bias: bool = True) -> tuple:
    generator = torch.Generator().manual_seed(seed)

    def draw(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()

    biases = (draw(4 * hidden), draw(4 * hidden)) if bias else (None, None)
    return (draw(steps, batch, inputs), draw(batch, hidden), draw(batch, hidden),
            draw(4 * hidden, inputs), draw(4 * hidden, hidden), *biases)


@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_float64(bias: bool) -> None:
    arguments = float64_arguments(seed=1, bias=bias)
    assert torch.autograd.gradcheck(FusedLSTMFunction.apply, arguments, eps=1e-6, atol=1e-6)


def test_gradcheck_one_step_and_long_sequence() -> None:
    for steps in (1, 12):
        arguments = float64_arguments(seed=steps, steps=steps, batch=2, hidden=2)
        assert torch.autograd.gradcheck(FusedLSTMFunction.apply, arguments, eps=1e-6, atol=1e-6)


def test_gradient_only_for_what_requires_it() -> None:
    arguments = list(float64_arguments(seed=3))
    arguments[0] = arguments[0].detach()  # the sequence needs no gradient
    output, h_n, c_n = FusedLSTMFunction.apply(*arguments)
    (output.sum() + h_n.sum() + c_n.sum()).backward()
    assert arguments[0].grad is None
    assert all(a.grad is not None for a in arguments[1:])


def pair(device: str, **kwargs) -> tuple[nn.LSTM, FusedLSTM]:
    torch.manual_seed(0)
    kernels = {key: kwargs.pop(key) for key in ("matmul", "elementwise") if key in kwargs}
    reference = nn.LSTM(4, 6, **kwargs).to(device)
    fused = FusedLSTM(4, 6, **kwargs, **kernels).to(device)
    fused.load_state_dict(reference.state_dict())
    return reference, fused


@pytest.fixture
def fresh_kernels():
    """The compiled element-wise kernels forgotten before and after the test."""
    for kernel in (lstm_cell_forward, lstm_cell_backward):
        kernel.reset()
    yield
    for kernel in (lstm_cell_forward, lstm_cell_backward):
        kernel.reset()


@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2}, {"batch_first": True},
                                    {"bias": False}, {"num_layers": 3, "batch_first": True},
                                    {"matmul": "torch"}, {"matmul": "onednn", "bias": False}])
def test_matches_torch_lstm_outputs_states_and_gradients(device: str, kwargs: dict) -> None:
    reference, fused = pair(device, **kwargs)
    layers = kwargs.get("num_layers", 1)
    generator = torch.Generator().manual_seed(1)
    shape = (3, 7, 4) if kwargs.get("batch_first") else (7, 3, 4)
    results = []
    for module in (reference, fused):
        x = torch.randn(*shape, generator=generator).to(device).requires_grad_()
        h0 = torch.randn(layers, 3, 6, generator=generator).to(device).requires_grad_()
        c0 = torch.randn(layers, 3, 6, generator=generator).to(device).requires_grad_()
        generator.manual_seed(1)  # the same draws for the second module
        output, (h_n, c_n) = module(x, (h0, c0))
        (output.pow(2).sum() + h_n.sum() + 3 * c_n.sum()).backward()
        results.append((output, h_n, c_n, x.grad, h0.grad, c0.grad,
                        *[p.grad for p in module.parameters()]))
    for theirs, ours in zip(*results, strict=True):
        assert_close(ours, theirs, **TOL)


def test_default_state_and_unbatched_input() -> None:
    reference, fused = pair("cpu")
    sequence = torch.randn(9, 4)
    expected_output, (expected_h, expected_c) = reference(sequence)
    output, (h_n, c_n) = fused(sequence)
    assert output.shape == (9, 6) and h_n.shape == (1, 6)
    assert_close(output, expected_output, **TOL)
    assert_close((h_n, c_n), (expected_h, expected_c), **TOL)


def test_unbatched_layers_with_dropout_match_the_step_by_step_lstm() -> None:
    """One sequence (L, I) through three layers in training mode: the same dropout masks, the
    same outputs, states and gradients as rnncourse's LSTM (which FusedLSTM extends)."""
    torch.manual_seed(0)
    fused = FusedLSTM(4, 6, num_layers=3, dropout=0.5)
    reference = LSTM(4, 6, num_layers=3, dropout=0.5)
    reference.load_state_dict(fused.state_dict())
    results = []
    for module in (reference, fused):
        generator = torch.Generator().manual_seed(1)
        x = torch.randn(9, 4, generator=generator).requires_grad_()
        hx = (torch.randn(3, 6, generator=generator), torch.randn(3, 6, generator=generator))
        torch.manual_seed(2)  # the dropout masks
        output, (h_n, c_n) = module(x, hx)
        assert output.shape == (9, 6) and h_n.shape == c_n.shape == (3, 6)
        (output.pow(2).sum() + h_n.sum() + c_n.sum()).backward()
        results.append((output, h_n, c_n, x.grad, *[p.grad for p in module.parameters()]))
    for theirs, ours in zip(*results, strict=True):
        assert_close(ours, theirs, **TOL)


def test_state_dicts_load_both_ways_with_the_same_names() -> None:
    fused, reference = FusedLSTM(3, 5, num_layers=2), nn.LSTM(3, 5, num_layers=2)
    assert list(fused.state_dict()) == list(reference.state_dict())
    reference.load_state_dict(fused.state_dict())
    fused.load_state_dict(LSTM(3, 5, num_layers=2).state_dict())


def test_runs_in_float32_under_autocast() -> None:
    _, fused = pair("cpu")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output, _ = fused(torch.randn(5, 2, 4))
    assert output.dtype == torch.float32


@pytest.mark.parametrize("elementwise", ["eager", "c"])
def test_a_bfloat16_activation_under_autocast_is_taken_in_float32(elementwise: str) -> None:
    """An autocast layer before it hands the LSTM bfloat16 (as torch.nn.LSTM accepts): the fused
    layer casts it, and its state, to its parameters' dtype and runs there."""
    _, fused = pair("cpu", elementwise=elementwise)
    projection = nn.Linear(3, 4)
    x = torch.randn(5, 2, 3)
    state = (torch.zeros(1, 2, 6, dtype=torch.bfloat16),) * 2
    with torch.autocast("cpu", dtype=torch.bfloat16):
        activation = projection(x)
        assert activation.dtype == torch.bfloat16
        output, (h_n, _) = fused(activation, state)
    assert output.dtype == h_n.dtype == torch.float32
    assert_close(output, fused(activation.float())[0])


def test_refuses_to_record_states_and_bad_input() -> None:
    fused = FusedLSTM(4, 6)
    with pytest.raises(RuntimeError, match="cannot record"), fused.record_hidden_states():
        fused(torch.randn(5, 2, 4))
    with pytest.raises(ValueError, match="features"):
        fused(torch.randn(5, 2, 3))
    weights = [p.detach() for p in fused.parameters()]
    with pytest.raises(TypeError, match="tuple"):
        fused_lstm(torch.randn(5, 2, 4), torch.zeros(2, 6), *weights)
    with pytest.raises(ValueError, match="state"):
        fused_lstm(torch.randn(5, 2, 4), (torch.zeros(3, 6), torch.zeros(3, 6)), *weights)


def test_double_backward_is_refused() -> None:
    arguments = float64_arguments(seed=4)
    output, _, _ = FusedLSTMFunction.apply(*arguments)
    (gradient,) = torch.autograd.grad(output.sum(), arguments[3], create_graph=True)
    with pytest.raises(RuntimeError):
        gradient.sum().backward()



def test_tanh_by_sigmoid_is_tanh() -> None:
    x = torch.linspace(-30, 30, 6001, dtype=torch.float64)
    assert_close(tanh_by_sigmoid(x), torch.tanh(x), atol=1e-15, rtol=0)
    x32 = x.float()
    assert_close(tanh_by_sigmoid(x32), torch.tanh(x32), atol=2e-7, rtol=0)


def test_weight_product_is_x_times_w_transposed_on_every_path() -> None:
    generator = torch.Generator().manual_seed(0)
    weight, x = torch.randn(8, 5, generator=generator), torch.randn(3, 5, generator=generator)
    bias = torch.randn(8, generator=generator)
    paths = [False, True] if onednn_matmul_available(x) else [False]
    for onednn in paths:
        product = WeightProduct(weight, rows=3, onednn=onednn)
        assert_close(product(x), x @ weight.t(), **TOL)
        assert_close(product(x, bias), x @ weight.t() + bias, **TOL)
        assert_close(product(x[:1]), x[:1] @ weight.t(), **TOL)  # other row counts too
    # The transposed weight of the backward pass, as the fused LSTM packs it.
    assert_close(WeightProduct(weight.t(), 8, onednn=paths[-1])(torch.ones(2, 8)),
                 torch.ones(2, 8) @ weight, **TOL)


def test_kernels_are_reported_and_checked() -> None:
    fused = FusedLSTM(4, 6)
    paths = fused.kernels()
    assert paths.elementwise == "eager" and paths.note == ""
    assert paths.matmul == ("onednn" if onednn_matmul_available(fused.weight_hh_l0) else "torch")
    assert "element-wise" in paths.describe()
    assert FusedLSTM(4, 6, matmul="torch").kernels().matmul == "torch"
    float64 = fused_lstm_kernels(torch.ones(1, dtype=torch.float64), matmul="onednn")
    assert float64.matmul == "torch" and "not available" in float64.note
    with pytest.raises(ValueError, match="matmul"):
        FusedLSTM(4, 6, matmul="blas")
    with pytest.raises(ValueError, match="elementwise"):
        FusedLSTM(4, 6, elementwise="fused")


def test_backward_twice_with_retain_graph() -> None:
    """The saved tensors are not overwritten: a retained graph gives the same gradient twice."""
    _, fused = pair("cpu")
    x = torch.randn(5, 2, 4, requires_grad=True)
    output, _ = fused(x)
    (first,) = torch.autograd.grad(output.pow(2).sum(), x, retain_graph=True)
    (second,) = torch.autograd.grad(output.pow(2).sum(), x)
    assert_close(first, second, atol=0, rtol=0)


def test_without_a_compiler_the_compiled_path_falls_back_to_eager(
    monkeypatch: pytest.MonkeyPatch, fresh_kernels
) -> None:
    def broken_compile(*args, **kwargs):
        raise RuntimeError("no C++ compiler here")

    reference, eager = pair("cpu")
    _, compiled = pair("cpu", elementwise="compiled")
    monkeypatch.setattr(torch, "compile", broken_compile)
    x = torch.randn(7, 3, 4)
    with pytest.warns(RuntimeWarning, match="no C\\+\\+ compiler here") as warned:
        output, _ = compiled(x)
    assert warned[0].filename == __file__
    assert_close(output, eager(x)[0], atol=0, rtol=0)
    paths = compiled.kernels()
    assert paths.elementwise == "eager" and "compiling failed" in paths.note
    compiled(x)[0].sum().backward()  # later calls run eagerly, without a warning


def test_compiled_element_wise_kernels_match_eager_ones(device: str, fresh_kernels) -> None:
    """torch.compile of each step's element-wise work (inductor's C++ on a CPU, Triton on a
    GPU): the same outputs and gradients as the eager functions and torch.nn.LSTM."""
    reference, compiled = pair(device, elementwise="compiled")
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(9, 3, 4, generator=generator).to(device)
    results = []
    for module in (reference, compiled):
        inputs = x.clone().requires_grad_()
        output, (h_n, c_n) = module(inputs)
        (output.pow(2).sum() + c_n.sum()).backward()
        results.append((output, h_n, c_n, inputs.grad, *[p.grad for p in module.parameters()]))
    for theirs, ours in zip(*results, strict=True):
        assert_close(ours, theirs, **TOL)
    assert compiled.kernels().elementwise == "compiled"


def test_long_sequence_keeps_float32_parity(device: str) -> None:
    """T = 200 steps: round-off does not build up beyond torch.nn.LSTM's own."""
    reference, fused = pair(device)
    x = torch.randn(200, 2, 4, generator=torch.Generator().manual_seed(5)).to(device)
    assert_close(fused(x)[0], reference(x)[0], atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("frozen", ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0"])
@pytest.mark.parametrize("elementwise", ["eager", "c"])
def test_one_frozen_parameter_leaves_the_others_gradients_right(frozen: str,
                                                                 elementwise: str) -> None:
    """Both weights' gradients come from one product of the rows [x_t, h_{t-1}]: with either
    weight (or a bias) frozen, the others still match torch.nn.LSTM's."""
    reference, fused = pair("cpu", elementwise=elementwise)
    x = torch.randn(6, 2, 4, generator=torch.Generator().manual_seed(4))
    for module in (reference, fused):
        getattr(module, frozen).requires_grad_(False)
        module(x)[0].pow(2).sum().backward()
    assert getattr(fused, frozen).grad is None
    for (name, theirs), ours in zip(reference.named_parameters(), fused.parameters(),
                                    strict=True):
        if name != frozen:
            assert_close(ours.grad, theirs.grad, **TOL)


@pytest.mark.parametrize("elementwise", ["eager", "c"])
def test_fused_lstm_refuses_weights_and_biases_of_the_wrong_size(elementwise: str) -> None:
    generator = torch.Generator().manual_seed(0)
    x, h0, c0 = (torch.randn(*shape, generator=generator) for shape in ((3, 2, 4), (2, 5),
                                                                         (2, 5)))
    w_ih, w_hh, b = torch.randn(20, 4), torch.randn(20, 5), torch.randn(20)
    cases = [
        ((x, (h0, c0), w_ih, torch.randn(10, 5), b, b), "weight_hh has shape"),
        ((x, (h0, c0), torch.randn(20, 3), w_hh, b, b), "weight_ih has shape"),
        ((x, (h0, c0), w_ih, w_hh, torch.randn(12), b), "bias_ih has shape"),
        ((x, (h0, c0), w_ih, w_hh, b, b.double()), "bias_hh has dtype"),
        ((x, (h0, c0), w_ih, torch.randn(20), b, b), "weight_hh must have shape"),
    ]
    for arguments, message in cases:
        with pytest.raises((ValueError, TypeError), match=message):
            fused_lstm(*arguments, elementwise=elementwise)
