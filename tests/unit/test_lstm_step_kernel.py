"""The C LSTM step (`lstm_step.c`): the PyTorch steps' numbers, its fallback where it cannot run."""

from __future__ import annotations

import shutil
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
            # A float64 accumulator, whatever the dtype; the step adds to what is there.
            grad_bias = torch.ones(4 * hidden, dtype=torch.float64)
            lstm_step_backward_c(*arguments, grad_bias)
            grad_bias = (grad_bias - 1).to(dtype)
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


def forward_arrays(batch: int = 2, hidden: int = 3, dtype: torch.dtype = torch.float32) -> dict:
    four, state = (batch, 4 * hidden), (batch, hidden)
    return {"pre": torch.zeros(four, dtype=dtype), "bias": torch.zeros(4 * hidden, dtype=dtype),
            "c_prev": torch.zeros(state, dtype=dtype), "gates": torch.zeros(four, dtype=dtype),
            "c": torch.zeros(state, dtype=dtype), "tanh_c": torch.zeros(state, dtype=dtype),
            "h": torch.zeros(state, dtype=dtype)}


def backward_arrays(batch: int = 2, hidden: int = 3) -> dict:
    four, state = (batch, 4 * hidden), (batch, hidden)
    return {"grad_output": torch.zeros(state), "grad_h": torch.zeros(state),
            "grad_c": torch.zeros(state), "gates": torch.zeros(four),
            "c_prev": torch.zeros(state), "tanh_c": torch.zeros(state),
            "grad_gates": torch.zeros(four), "grad_c_prev": torch.zeros(state),
            "grad_bias": torch.zeros(4 * hidden, dtype=torch.float64)}


@pytest.mark.parametrize(("step", "name", "bad", "message"), [
    ("forward", "pre", torch.zeros(12, 2).t(), "contiguous arrays; pre is not"),
    ("forward", "gates", torch.zeros(2, 8), r"gates of shape \(2, 12\)"),  # C would overrun it
    ("forward", "bias", torch.zeros(4), r"bias of shape \(12,\)"),
    ("forward", "c", torch.zeros(2, 3, dtype=torch.float64), "c as a torch.float32 CPU tensor"),
    ("forward", "h", torch.zeros(2, 3, device="meta"),
     "h as a torch.float32 CPU tensor; got torch.float32 on meta"),
    ("forward", "h", [[0.0] * 3] * 2, "got list"),
    ("backward", "grad_bias", torch.zeros(4, dtype=torch.float64), r"grad_bias of shape \(12,\)"),
    ("backward", "grad_bias", torch.zeros(12), "grad_bias as a torch.float64 CPU tensor"),
    ("backward", "grad_c_prev", torch.zeros(3, 2).t(), "contiguous arrays; grad_c_prev is not"),
    ("backward", "tanh_c", torch.zeros(1, 3), r"tanh_c of shape \(2, 3\)"),
])
def test_the_steps_refuse_what_c_would_misread(step: str, name: str, bad: object,
                                              message: str) -> None:
    # C reads and writes exactly B x 4H and B x H numbers of one dtype: any other array would be
    # read or written out of bounds, so it is refused, by name, before C sees it.
    arrays, function = ((forward_arrays(), lstm_step_forward_c) if step == "forward"
                        else (backward_arrays(), lstm_step_backward_c))
    arrays[name] = bad
    with pytest.raises(ValueError, match=message):
        function(**arrays)


def test_h_next_may_have_rows_apart_but_not_entries() -> None:
    arrays = forward_arrays()
    lstm_step_forward_c(**arrays, h_next=torch.zeros(2, 5)[:, 1:4])  # rows 5 apart: fine
    with pytest.raises(ValueError, match="contiguous arrays; h_next is not"):
        lstm_step_forward_c(**arrays, h_next=torch.zeros(3, 2).t())
    with pytest.raises(ValueError, match="h_next as a torch.float32"):
        lstm_step_forward_c(**arrays, h_next=torch.zeros(2, 3, dtype=torch.float16))


def test_a_dtype_without_a_kernel_is_named() -> None:
    arrays = forward_arrays(dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="no C LSTM step for these tensors: no kernel for "
                                         "torch.bfloat16"):
        lstm_step_forward_c(**arrays)


def test_a_transposed_gradient_of_c_n_reaches_the_c_sweep() -> None:
    """c_n's gradient may arrive with any strides (here transposed); the sweep's buffers are
    its own, contiguous."""
    torch.manual_seed(0)
    reference, fused = nn.LSTM(3, 4, num_layers=2), FusedLSTM(3, 4, num_layers=2, elementwise="c")
    fused.load_state_dict(reference.state_dict())
    x = torch.randn(5, 2, 3)
    weights = torch.randn(2, 4, 2)
    grads = []
    for module in (reference, fused):
        _, (_, c_n) = module(x)
        (c_n.transpose(1, 2) * weights).sum().backward()
        grads.append([p.grad for p in module.parameters()])
    for ours, theirs in zip(grads[1], grads[0], strict=True):
        assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_the_bias_gradient_sums_all_steps_and_rows_in_float64() -> None:
    """Σ_t Σ_batch δ_t over T·B = 6400 rows: the C step's float64 sum is as close to a float64
    reference as torch's own float32 sum, or closer; and the two biases' gradients are two
    tensors, not one."""
    torch.manual_seed(0)
    reference = FusedLSTM(8, 16).double()
    x = torch.randn(100, 64, 8, dtype=torch.float64)
    reference(x)[0].sum().backward()
    errors = {}
    for elementwise in ("eager", "c"):
        fused = FusedLSTM(8, 16, elementwise=elementwise)
        fused.load_state_dict(reference.state_dict())
        fused(x.float())[0].sum().backward()
        errors[elementwise] = (fused.bias_ih_l0.grad.double() - reference.bias_ih_l0.grad).abs()
        assert fused.bias_ih_l0.grad is not fused.bias_hh_l0.grad
    assert errors["c"].max() <= 2 * errors["eager"].max() + 1e-6


def test_a_compiler_given_with_options_builds(fresh_c_kernels,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", f"{shutil.which('cc') or 'gcc'} -Wall")
    assert lstm_step_kernel_unavailable(torch.zeros(1)) is None


def test_without_a_compiler_the_eager_steps_run_with_one_warning(
    fresh_c_kernels, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC", str(fresh_c_kernels / "no-such-compiler"))
    torch.manual_seed(0)
    fused, eager = FusedLSTM(3, 4, elementwise="c"), FusedLSTM(3, 4)
    eager.load_state_dict(fused.state_dict())
    x = torch.randn(5, 2, 3)
    with pytest.warns(RuntimeWarning, match="running the element-wise work eagerly: the C "
                                            "kernel could not be built") as warned:
        output, _ = fused(x)
    assert warned[0].filename == __file__  # the caller's line, not one inside the package
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


def test_paths_resolved_for_cpu_tensors_are_refused_for_others() -> None:
    """Paths chosen for CPU tensors, then handed tensors on another device (meta stands for
    CUDA): refused before anything runs, since C would read the GPU's addresses as its own."""
    generator = torch.Generator().manual_seed(0)
    x, h0, c0 = (torch.randn(*shape, generator=generator) for shape in ((3, 2, 4), (2, 5),
                                                                         (2, 5)))
    weights = (torch.randn(20, 4), torch.randn(20, 5), None, None)
    elsewhere = [tensor if tensor is None else tensor.to("meta") for tensor in (x, h0, c0,
                                                                               *weights)]
    for matmul, elementwise, reason in (("torch", "c", "runs on CPUs, not meta"),
                                        ("onednn", "eager", "oneDNN's product is not")):
        paths = kernels.KernelPaths(matmul, elementwise)
        with pytest.raises(ValueError, match=f"do not fit input .*{reason}"):
            FusedLSTMFunction.apply(*elsewhere, paths)


def test_the_autograd_function_checks_its_arguments_before_c_runs_unchecked() -> None:
    """FusedLSTMFunction hands C its own buffers without per-step checks, so it checks what it
    is given first: a weight with 2H rows instead of 4H is refused, not read out of bounds."""
    generator = torch.Generator().manual_seed(0)
    x, h0, c0 = (torch.randn(*shape, generator=generator) for shape in ((3, 2, 4), (2, 5),
                                                                         (2, 5)))
    paths = fused_lstm_kernels(x, elementwise="c")
    with pytest.raises(ValueError, match="weight_hh has shape"):
        FusedLSTMFunction.apply(x, h0, c0, torch.randn(20, 4), torch.randn(10, 5), None, None,
                                paths)
    with pytest.raises(ValueError, match="h_0 has shape"):
        FusedLSTMFunction.apply(x, torch.randn(3, 5), c0, torch.randn(20, 4), torch.randn(20, 5),
                                None, None, paths)
