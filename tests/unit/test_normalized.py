"""Layer-norm and recurrent batch-norm LSTMs: against torch.nn references, and the cases they
must reduce to."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from rnncourse.models import (
    BatchNormLSTM,
    BatchNormLSTMCell,
    LayerNorm,
    LayerNormLSTM,
    LayerNormLSTMCell,
    RecurrentBatchNorm,
    RecurrentModel,
    initialize_recurrent_weights,
    layer_norm,
    normalized_lstm_model,
    set_forget_gate_bias,
)
from rnncourse.training.diagnostics import hidden_state_gradient_norms, recurrent_spectral_radii

T, B, IN, H = 6, 5, 3, 4
TOL = {"atol": 1e-5, "rtol": 1e-5}


def randn(*shape: int, seed: int, device: str = "cpu", scale: float = 1.0) -> torch.Tensor:
    return (torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale).to(device)


def copy_lstm_weights(source: nn.Module, target: nn.Module) -> None:
    """weight_ih, weight_hh, bias_ih, bias_hh of `source` into `target` (cells of any kind)."""
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(target, name).copy_(getattr(source, name))


# --------------------------------------------------------------------------------------------
# Layer norm


@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, False)])
def test_layer_norm_matches_torch(device, affine, bias):
    ours = LayerNorm(7, elementwise_affine=affine, bias=bias).to(device)
    reference = nn.LayerNorm(7, elementwise_affine=affine, bias=bias).to(device)
    if affine:  # non-trivial γ and β, the same in both
        with torch.no_grad():
            reference.weight.copy_(randn(7, seed=1, device=device))
            if bias:
                reference.bias.copy_(randn(7, seed=2, device=device))
        ours.load_state_dict(reference.state_dict())
    x = randn(4, 3, 7, seed=3, device=device, scale=5.0).requires_grad_(True)
    x_reference = x.detach().clone().requires_grad_(True)
    assert_close(ours(x), reference(x_reference), **TOL)
    upstream = randn(4, 3, 7, seed=4, device=device)
    (ours(x) * upstream).sum().backward()
    (reference(x_reference) * upstream).sum().backward()
    assert_close(x.grad, x_reference.grad, **TOL)
    for (name, p), (_, q) in zip(ours.named_parameters(), reference.named_parameters(),
                                 strict=True):
        assert_close(p.grad, q.grad, **TOL, msg=f"gradient of {name}")
    # And the state dict goes back into torch's module.
    reference.load_state_dict(ours.state_dict())


def test_layer_norm_function_is_the_definition():
    x = randn(3, 10, seed=5, scale=3.0) + 2.0
    gain, shift = randn(10, seed=6), randn(10, seed=7)
    expected = torch.nn.functional.layer_norm(x, (10,), gain, shift, eps=1e-5)
    assert_close(layer_norm(x, gain, shift), expected, **TOL)
    normalized = layer_norm(x)
    assert_close(normalized.mean(-1), torch.zeros(3), atol=1e-6, rtol=0)
    assert_close(normalized.var(-1, unbiased=False), torch.ones(3), atol=1e-4, rtol=0)


def test_layer_norm_rejects_bad_input():
    with pytest.raises(ValueError, match="num_features=7"):
        LayerNorm(7)(torch.randn(2, 6))
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(7, eps=0)
    with pytest.raises(TypeError, match="num_features"):
        LayerNorm(7.0)


# --------------------------------------------------------------------------------------------
# Layer-norm LSTM


def reference_layer_norm_lstm(cell: LayerNormLSTMCell, x, h, c):
    """The equations of Ba et al. with torch.nn.LayerNorm modules holding the cell's γ, β."""
    gates_ih = nn.LayerNorm(4 * H, bias=False).to(x.device)
    gates_hh = nn.LayerNorm(4 * H, bias=False).to(x.device)
    cell_norm = nn.LayerNorm(H).to(x.device)
    gates_ih.load_state_dict(cell.norm_ih.state_dict())
    gates_hh.load_state_dict(cell.norm_hh.state_dict())
    cell_norm.load_state_dict(cell.norm_cell.state_dict())
    gates = (gates_ih(x @ cell.weight_ih.T) + gates_hh(h @ cell.weight_hh.T)
             + cell.bias_ih + cell.bias_hh)
    i, f, g, o = gates.chunk(4, dim=-1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(cell_norm(c_next))
    return h_next, c_next


def randomize_norms(cell: nn.Module, seed: int) -> None:
    """Move every γ and β away from its initial value, so that a test sees them used."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in cell.named_parameters():
            if name.startswith("norm_"):
                parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator)
                               .to(parameter.device))


@pytest.mark.parametrize("batched", [True, False])
def test_layer_norm_lstm_cell_matches_reference(device, batched):
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(IN, H).to(device)
    randomize_norms(cell, seed=1)
    shape = (B,) if batched else ()
    x = randn(*shape, IN, seed=2, device=device, scale=2.0)
    h, c = randn(*shape, H, seed=3, device=device), randn(*shape, H, seed=4, device=device)
    h_next, c_next = cell(x, (h, c))
    h_expected, c_expected = reference_layer_norm_lstm(cell, x, h, c)
    assert_close(h_next, h_expected, **TOL)
    assert_close(c_next, c_expected, **TOL)
    h_zero, c_zero = cell(x)  # zero initial state by default
    assert_close(h_zero, reference_layer_norm_lstm(cell, x, 0 * h, 0 * c)[0], **TOL)


def test_layer_norm_lstm_draws_torchs_lstm_weights():
    torch.manual_seed(7)
    ours = LayerNormLSTMCell(IN, H)
    torch.manual_seed(7)
    reference = nn.LSTMCell(IN, H)
    for name, parameter in reference.named_parameters():
        assert_close(getattr(ours, name), parameter, atol=0, rtol=0)
    assert_close(ours.norm_ih.weight, torch.ones(4 * H))  # γ starts at 1
    assert ours.norm_ih.bias is None and ours.norm_hh.bias is None  # b_ih + b_hh is the shift
    assert_close(ours.norm_cell.bias, torch.zeros(H))


def test_layer_norm_lstm_ignores_the_scale_of_its_weights():
    """LN(s·a) = LN(a): multiplying W_ih or W_hh by any s > 0 changes nothing, which is why a
    layer-normalised cell cannot be blown up by its recurrent weights growing."""
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(IN, H, eps=1e-12)
    x, h, c = randn(B, IN, seed=1), randn(B, H, seed=2), randn(B, H, seed=3)
    before = cell(x, (h, c))
    with torch.no_grad():
        cell.weight_ih.mul_(25.0)
        cell.weight_hh.mul_(0.04)
    after = cell(x, (h, c))
    for a, b in zip(before, after, strict=True):
        assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_layer_norm_lstm_sequence_steps_its_cell(device):
    torch.manual_seed(0)
    lstm = LayerNormLSTM(IN, H, batch_first=True).to(device)
    randomize_norms(lstm.cell, seed=2)
    x = randn(B, T, IN, seed=1, device=device)
    h0, c0 = randn(1, B, H, seed=2, device=device), randn(1, B, H, seed=3, device=device)
    output, (h_n, c_n) = lstm(x, (h0, c0))
    assert output.shape == (B, T, H) and h_n.shape == c_n.shape == (1, B, H)
    state = (h0[0], c0[0])
    for t in range(T):
        state = lstm.cell(x[:, t], state)
        assert_close(output[:, t], state[0], **TOL)
    assert_close(h_n[0], state[0], **TOL)
    assert_close(c_n[0], state[1], **TOL)


# --------------------------------------------------------------------------------------------
# Recurrent batch norm


def test_recurrent_batch_norm_keeps_statistics_per_step_like_batchnorm1d():
    norm = RecurrentBatchNorm(3, max_steps=4, momentum=0.2)
    assert_close(norm.weight, torch.full((3,), 0.1))  # γ starts at 0.1 (Cooijmans et al.)
    references = [nn.BatchNorm1d(3, momentum=0.2) for _ in range(4)]
    for reference in references:
        reference.load_state_dict({"weight": norm.weight.detach(), "bias": norm.bias.detach(),
                                   "running_mean": torch.zeros(3), "running_var": torch.ones(3),
                                   "num_batches_tracked": torch.tensor(0)})
    for repeat in range(2):
        for step in range(4):
            x = randn(8, 3, seed=10 * repeat + step, scale=1 + step) + 3 * step  # step-dependent
            assert_close(norm(x, step), references[step](x), **TOL)
    for step, reference in enumerate(references):  # each row learnt its own step's statistics
        assert_close(norm.running_mean[step], reference.running_mean, **TOL)
        assert_close(norm.running_var[step], reference.running_var, **TOL)
    assert not torch.allclose(norm.running_mean[0], norm.running_mean[3])
    norm.eval()
    for reference in references:
        reference.eval()
    x = randn(8, 3, seed=99)
    for step in range(4):
        assert_close(norm(x, step), references[step](x), **TOL)
    # Past max_steps, the statistics of the last step.
    assert_close(norm(x, 10), references[3](x), **TOL)


def test_recurrent_batch_norm_arguments():
    assert RecurrentBatchNorm(3, 2, shift=False).bias is None
    with pytest.raises(ValueError, match="at least 2 examples"):
        RecurrentBatchNorm(3, 2)(torch.randn(1, 3), 0)
    with pytest.raises(ValueError, match="step"):
        RecurrentBatchNorm(3, 2)(torch.randn(4, 3), -1)
    with pytest.raises(ValueError, match="num_features=3"):
        RecurrentBatchNorm(3, 2)(torch.randn(4, 5), 0)
    with pytest.raises(ValueError, match="momentum"):
        RecurrentBatchNorm(3, 2, momentum=1.5)


def test_batch_norm_lstm_with_identity_statistics_is_the_lstm(device):
    """In evaluation with fresh statistics (μ = 0, σ² = 1), γ = 1 and β = 0, every BN is the
    identity and the cell is torch's LSTMCell."""
    torch.manual_seed(0)
    cell = BatchNormLSTMCell(IN, H, max_steps=T, gamma=1.0, eps=1e-12).to(device).eval()
    reference = nn.LSTMCell(IN, H).to(device)
    copy_lstm_weights(cell, reference)
    x, h, c = (randn(B, n, seed=s, device=device) for s, n in ((1, IN), (2, H), (3, H)))
    for step in (0, 3, 100):
        for ours, expected in zip(cell(x, (h, c), step), reference(x, (h, c)), strict=True):
            assert_close(ours, expected, **TOL)


def test_batch_norm_lstm_normalises_each_step_over_the_batch():
    """In training, step t's pre-activations W_ih x_t are normalised with that step's batch
    statistics: (a - μ_t)/σ_t · γ has mean 0 and standard deviation γ over the batch."""
    torch.manual_seed(0)
    lstm = BatchNormLSTM(IN, H, max_steps=T, momentum=1.0)  # running stats = last batch's
    x = randn(T, 16, IN, seed=1) * torch.arange(1, T + 1).view(T, 1, 1)  # scale grows with t
    lstm(x)
    projections = x @ lstm.cell.weight_ih.T  # (T, B, 4H)
    assert_close(lstm.cell.norm_ih.running_mean, projections.mean(dim=1), **TOL)
    assert_close(lstm.cell.norm_ih.running_var, projections.var(dim=1), atol=1e-4, rtol=1e-4)
    normalized = lstm.cell.norm_ih(projections[2], 2)  # training mode: batch statistics
    assert_close(normalized.mean(0), torch.zeros(4 * H), atol=1e-6, rtol=0)
    assert_close(normalized.std(0, unbiased=False), torch.full((4 * H,), 0.1), atol=1e-4, rtol=0)


def test_batch_norm_lstm_needs_a_batch():
    cell = BatchNormLSTMCell(IN, H, max_steps=3)
    with pytest.raises(ValueError, match="needs a batch"):
        cell(torch.randn(IN))


# --------------------------------------------------------------------------------------------
# Both, inside models and with the diagnostics


@pytest.mark.parametrize("normalization", ["none", "layer", "batch"])
def test_normalized_models_share_initial_weights_and_train(device, normalization):
    model = normalized_lstm_model(normalization, input_size=IN, hidden_size=H, output_size=2,
                                  max_steps=T, seed=3, device=device)
    plain = RecurrentModel("lstm", input_size=IN, hidden_size=H, output_size=2, seed=3,
                           device=device)
    core = model.rnn.cell if normalization != "none" else model.rnn
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        assert_close(getattr(core, name if normalization != "none" else name + "_l0"),
                     getattr(plain.rnn, name + "_l0"), atol=0, rtol=0)
    assert_close(model.head.weight, plain.head.weight, atol=0, rtol=0)
    x = randn(B, T, IN, seed=4, device=device)
    output = model(x)
    assert output.shape == (B, 2)
    output.pow(2).sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name


@pytest.mark.parametrize("normalization", ["layer", "batch"])
def test_normalized_cores_work_with_the_course_tools(normalization):
    model = normalized_lstm_model(normalization, input_size=IN, hidden_size=H, output_size=1,
                                  max_steps=T, seed=0, device="cpu")
    x, y = randn(B, T, IN, seed=1), randn(B, 1, seed=2)
    gradients = hidden_state_gradient_norms(model, x, y, torch.nn.functional.mse_loss)
    assert gradients.hidden.shape == (T,) and gradients.cell.shape == (T,)
    assert (gradients.hidden > 0).all()
    initialize_recurrent_weights(model, "orthogonal", seed=0)
    radii = recurrent_spectral_radii(model)
    assert set(radii) == {f"rnn.cell.weight_hh[{gate}]" for gate in "ifgo"}
    assert all(abs(radius - 1) < 1e-6 for radius in radii.values())
    set_forget_gate_bias(model, 1.0)
    assert_close(model.rnn.cell.bias_ih[H:2 * H], torch.ones(H))


def test_normalized_module_gathers_every_name():
    """`rnncourse.models.normalized` is the one place to import the normalised LSTMs from, and
    `rnncourse.models` exports the same objects."""
    import rnncourse.models as models
    from rnncourse.models import normalized

    for name in normalized.__all__:
        value = getattr(normalized, name)
        assert getattr(models, name, value) is value, name
    assert normalized.LayerNormLSTMCell is LayerNormLSTMCell
    assert normalized.BatchNormLSTM is BatchNormLSTM


def test_normalized_lstm_model_arguments():
    with pytest.raises(ValueError, match="normalization"):
        normalized_lstm_model("group", input_size=1, hidden_size=2, output_size=1)
    with pytest.raises(ValueError, match="max_steps"):
        normalized_lstm_model("batch", input_size=1, hidden_size=2, output_size=1)
    with pytest.raises(ValueError, match="input must have shape"):
        LayerNormLSTM(IN, H)(torch.randn(T, IN))
