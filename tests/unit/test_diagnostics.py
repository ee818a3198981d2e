"""Diagnostics: per-step gradient norms against a hand-unrolled computation, spectra, the bound."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnncourse.models import GRU, LSTM, RNN
from rnncourse.training.diagnostics import (
    HiddenStateGradients,
    decay_rate_per_step,
    hidden_state_gradient_norms,
    jacobian_norm_bound,
    recurrent_spectral_radii,
    spectral_radius,
)


class SequenceRegressor(nn.Module):
    """A recurrent core under `.rnn` and a linear head, on the last step or on every step."""

    def __init__(self, rnn: nn.Module, output_size: int, readout: str = "last") -> None:
        super().__init__()
        self.rnn = rnn
        self.head = nn.Linear(rnn.hidden_size, output_size)
        self.readout = readout

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(inputs)
        return self.head(outputs[:, -1] if self.readout == "last" else outputs)


def _rotation(angle: float) -> torch.Tensor:
    return torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


# ----------------------------------------------------------------------------------------------
# ‖∂L/∂h_t‖ against an independent computation


def _unrolled_rnn_gradient_norms(
    model: SequenceRegressor, inputs: torch.Tensor, targets: torch.Tensor
) -> list[torch.Tensor]:
    """‖∂L/∂h_t‖ per layer, by adding a zero perturbation δ_t to every h_t of a hand-written
    tanh RNN and differentiating the loss with respect to the δ_t."""
    rnn = model.rnn
    batch, steps, _ = inputs.shape
    layer_input = inputs
    perturbations = []
    for layer in range(rnn.num_layers):
        w_ih, w_hh = getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}")
        b_ih, b_hh = getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")
        h = torch.zeros(batch, rnn.hidden_size)
        deltas, outputs = [], []
        for t in range(steps):
            h = torch.tanh(layer_input[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
            delta = torch.zeros_like(h, requires_grad=True)
            h = h + delta  # h_t + δ_t: ∂L/∂δ_t = ∂L/∂h_t, through every later use of h_t
            deltas.append(delta)
            outputs.append(h)
        perturbations.append(deltas)
        layer_input = torch.stack(outputs, dim=1)
    predictions = model.head(layer_input[:, -1] if model.readout == "last" else layer_input)
    loss = nn.functional.mse_loss(predictions, targets)
    return [
        torch.stack([g.norm() for g in torch.autograd.grad(loss, deltas, retain_graph=True)])
        for deltas in perturbations
    ]


@pytest.mark.parametrize("readout", ["last", "all"])
def test_rnn_hidden_gradients_match_hand_unrolled(readout: str) -> None:
    torch.manual_seed(0)
    model = SequenceRegressor(RNN(3, 5, num_layers=2, batch_first=True), 2, readout)
    inputs = torch.randn(4, 7, 3)
    targets = torch.randn(4, 2) if readout == "last" else torch.randn(4, 7, 2)
    expected = _unrolled_rnn_gradient_norms(model, inputs, targets)
    for layer in (0, 1):
        result = hidden_state_gradient_norms(
            model, inputs, targets, nn.functional.mse_loss, layer=layer
        )
        assert isinstance(result, HiddenStateGradients) and result.cell is None
        assert result.hidden.shape == (7,)
        torch.testing.assert_close(result.hidden, expected[layer], rtol=1e-5, atol=1e-7)
    default = hidden_state_gradient_norms(model, inputs, targets, nn.functional.mse_loss)
    torch.testing.assert_close(default.hidden, expected[-1], rtol=1e-5, atol=1e-7)


def test_lstm_hidden_and_cell_gradients_match_hand_unrolled() -> None:
    torch.manual_seed(1)
    model = SequenceRegressor(LSTM(2, 4, batch_first=True), 1, "all")
    inputs, targets = torch.randn(3, 6, 2), torch.randn(3, 6, 1)

    rnn = model.rnn
    h, c = torch.zeros(3, 4), torch.zeros(3, 4)
    hidden_deltas, cell_deltas, outputs = [], [], []
    for t in range(6):
        gates = inputs[:, t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T
        i, f, g, o = (gates + rnn.bias_hh_l0).chunk(4, dim=-1)
        cell_delta = torch.zeros(3, 4, requires_grad=True)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g) + cell_delta
        hidden_delta = torch.zeros(3, 4, requires_grad=True)
        h = torch.sigmoid(o) * torch.tanh(c) + hidden_delta
        hidden_deltas.append(hidden_delta)
        cell_deltas.append(cell_delta)
        outputs.append(h)
    loss = nn.functional.mse_loss(model.head(torch.stack(outputs, dim=1)), targets)
    gradients = torch.autograd.grad(loss, hidden_deltas + cell_deltas)
    expected = torch.stack([g.norm() for g in gradients])

    result = hidden_state_gradient_norms(model, inputs, targets, nn.functional.mse_loss)
    assert result.cell is not None
    torch.testing.assert_close(result.hidden, expected[:6], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(result.cell, expected[6:], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("core", [RNN, LSTM, GRU])
def test_works_on_bare_sequence_modules(core: type[nn.Module], device: str) -> None:
    torch.manual_seed(0)
    rnn = core(2, 3, batch_first=True).to(device)
    inputs = torch.randn(2, 5, 2)

    def last_output_loss(outputs: torch.Tensor, targets: None) -> torch.Tensor:
        return outputs[:, -1].pow(2).sum()

    result = hidden_state_gradient_norms(rnn, inputs, None, last_output_loss)
    assert result.hidden.shape == (5,) and result.hidden.device.type == "cpu"
    assert (result.cell is not None) == (core is LSTM)
    # Only the last output is in the loss: ∂L/∂h_T is 2 h_T, and earlier steps get less.
    assert torch.isfinite(result.hidden).all() and result.hidden[-1] > 0


@pytest.mark.parametrize("scale", [0.5, 1.5])
def test_gradients_decay_or_grow_at_the_rate_of_the_recurrent_weight(scale: float) -> None:
    # With zero input, zero biases and h_0 = 0, every h_t is 0 and tanh'(0) = 1: the network is
    # linear, ∂L/∂h_k = ∂L/∂h_T (W)^{T-k}, and with W = s·Q (Q orthogonal) each step back
    # multiplies the norm by exactly s, the bound γ σ_max(W) with γ = 1.
    torch.manual_seed(0)
    hidden_size, steps = 6, 25
    model = SequenceRegressor(RNN(1, hidden_size, batch_first=True), 1, "last")
    with torch.no_grad():
        orthogonal, _ = torch.linalg.qr(torch.randn(hidden_size, hidden_size))
        model.rnn.weight_hh_l0.copy_(scale * orthogonal)
        model.rnn.bias_ih_l0.zero_()
        model.rnn.bias_hh_l0.zero_()
    inputs, targets = torch.zeros(2, steps, 1), torch.ones(2, 1)
    norms = hidden_state_gradient_norms(model, inputs, targets, nn.functional.mse_loss).hidden

    backward_rate = decay_rate_per_step(norms.flip(0))  # factor per step back in time
    assert backward_rate == pytest.approx(scale, rel=1e-4)
    bound = jacobian_norm_bound(model.rnn.weight_hh_l0, 1)
    assert bound == pytest.approx(scale, rel=1e-5)
    if scale < 1:
        assert norms[0] < 1e-6 * norms[-1], "vanishing: the first step gets almost nothing"
    else:
        assert norms[0] > 1e3 * norms[-1], "exploding: the first step gets the most"


def test_leaves_parameter_gradients_and_mode_alone() -> None:
    torch.manual_seed(0)
    model = SequenceRegressor(LSTM(2, 3, batch_first=True, num_layers=2, dropout=0.5), 1)
    sentinel = {name: torch.full_like(p, 7.0) for name, p in model.named_parameters()}
    for name, parameter in model.named_parameters():
        parameter.grad = sentinel[name].clone()
    inputs, targets = torch.randn(4, 5, 2), torch.randn(4, 1)

    for training in (True, False):
        model.train(training)
        first = hidden_state_gradient_norms(model, inputs, targets, nn.functional.mse_loss)
        again = hidden_state_gradient_norms(model, inputs, targets, nn.functional.mse_loss)
        assert model.training is training, "the model's mode is given back"
        torch.testing.assert_close(first.hidden, again.hidden)  # eval mode: no dropout noise
    for name, parameter in model.named_parameters():
        assert torch.equal(parameter.grad, sentinel[name]), name


def test_rejects_torch_cores_and_other_modules() -> None:
    inputs, targets = torch.randn(2, 4, 2), torch.randn(2, 1)
    with pytest.raises(TypeError, match='backend="rnncourse"'):
        hidden_state_gradient_norms(
            SequenceRegressor(nn.LSTM(2, 3, batch_first=True), 1),
            inputs,
            targets,
            nn.functional.mse_loss,
        )
    with pytest.raises(TypeError, match='backend="rnncourse"'):
        hidden_state_gradient_norms(nn.GRU(2, 3), inputs, targets, nn.functional.mse_loss)
    with pytest.raises(TypeError, match="rnncourse sequence module"):
        hidden_state_gradient_norms(nn.Linear(2, 1), inputs, targets, nn.functional.mse_loss)


def test_layer_out_of_range() -> None:
    model = SequenceRegressor(RNN(2, 3, batch_first=True), 1)
    with pytest.raises(ValueError, match=r"layer must be in \[-1, 0\], got 1"):
        hidden_state_gradient_norms(
            model, torch.randn(2, 4, 2), torch.randn(2, 1), nn.functional.mse_loss, layer=1
        )


# ----------------------------------------------------------------------------------------------
# Spectral radius


def test_spectral_radius_of_known_matrices() -> None:
    assert spectral_radius(0.5 * _rotation(0.7)) == pytest.approx(0.5, rel=1e-6)
    assert spectral_radius(torch.diag(torch.tensor([0.3, -2.0, 1.0]))) == pytest.approx(2.0)
    # Non-normal: the spectral radius (0.5) is far below the largest singular value (~100).
    upper = torch.tensor([[0.5, 100.0], [0.0, 0.2]])
    assert spectral_radius(upper) == pytest.approx(0.5)
    assert jacobian_norm_bound(upper, 1) > 100


def test_spectral_radius_rejects_non_square() -> None:
    with pytest.raises(ValueError, match=r"weight must be a square matrix \(n, n\), got shape"):
        spectral_radius(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="weight must be a square matrix"):
        spectral_radius(torch.zeros(3))
    with pytest.raises(TypeError, match="weight must be a torch.Tensor"):
        spectral_radius([[1.0]])  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["rnncourse", "torch"])
def test_recurrent_spectral_radii_names_every_recurrent_weight(backend: str) -> None:
    modules = {"rnncourse": (RNN, LSTM, GRU), "torch": (nn.RNN, nn.LSTM, nn.GRU)}[backend]
    rnn_type, lstm_type, gru_type = modules
    torch.manual_seed(0)

    rnn = rnn_type(2, 3, num_layers=2)
    radii = recurrent_spectral_radii(rnn)
    assert set(radii) == {"weight_hh_l0", "weight_hh_l1"}
    assert radii["weight_hh_l1"] == pytest.approx(spectral_radius(rnn.weight_hh_l1))

    lstm = SequenceRegressor(lstm_type(2, 3), 1)
    radii = recurrent_spectral_radii(lstm)
    assert list(radii) == [f"rnn.weight_hh_l0[{gate}]" for gate in "ifgo"]
    forget_block = lstm.rnn.weight_hh_l0[3:6]
    assert radii["rnn.weight_hh_l0[f]"] == pytest.approx(spectral_radius(forget_block))

    assert list(recurrent_spectral_radii(gru_type(2, 3))) == [
        f"weight_hh_l0[{gate}]" for gate in "rzn"
    ]


# ----------------------------------------------------------------------------------------------
# The Pascanu et al. bound and measured decay


def _jacobian_norm(step, h_start: torch.Tensor, inputs: torch.Tensor) -> float:
    """‖∂h_t/∂h_k‖₂ for the map h_k ↦ h_t over the given inputs, by autograd."""

    def unroll(h: torch.Tensor) -> torch.Tensor:
        for x in inputs:
            h = step(x, h)
        return h

    jacobian = torch.autograd.functional.jacobian(unroll, h_start)
    return torch.linalg.matrix_norm(jacobian, ord=2).item()


@pytest.mark.parametrize(("activation", "gamma"), [(torch.tanh, 1.0), (torch.sigmoid, 0.25)])
def test_bound_holds_on_random_instances(activation, gamma: float) -> None:
    generator = torch.Generator().manual_seed(0)
    for trial in range(20):
        size, steps = 5, 1 + trial % 8
        scale = 0.3 + 0.2 * trial  # from contracting to expanding weights
        w_hh = scale * torch.randn(size, size, generator=generator, dtype=torch.float64)
        w_ih = torch.randn(size, 3, generator=generator, dtype=torch.float64)
        inputs = torch.randn(steps, 3, generator=generator, dtype=torch.float64)
        h_start = torch.randn(size, generator=generator, dtype=torch.float64)

        def step(x: torch.Tensor, h: torch.Tensor, w_ih=w_ih, w_hh=w_hh) -> torch.Tensor:
            return activation(w_ih @ x + w_hh @ h)  # h_t = φ(W_ih x_t + W_hh h_{t-1})

        measured = _jacobian_norm(step, h_start, inputs)
        bound = jacobian_norm_bound(w_hh, steps, gamma=gamma)
        assert measured <= bound * (1 + 1e-9), f"trial {trial}: {measured} > bound {bound}"


def test_bound_values_and_bad_input() -> None:
    weight = 2.0 * _rotation(0.3)
    assert jacobian_norm_bound(weight, 0) == 1.0
    assert jacobian_norm_bound(weight, 3) == pytest.approx(8.0)
    assert jacobian_norm_bound(weight, 3, gamma=0.25) == pytest.approx(0.125)
    with pytest.raises(ValueError, match="steps must be a non-negative int, got -1"):
        jacobian_norm_bound(weight, -1)
    with pytest.raises(ValueError, match="gamma must be positive"):
        jacobian_norm_bound(weight, 2, gamma=0.0)
    with pytest.raises(ValueError, match=r"weight must be a matrix \(2-D\)"):
        jacobian_norm_bound(torch.ones(3), 2)


def test_decay_rate_per_step() -> None:
    geometric = [3.0 * 0.8**t for t in range(10)]
    assert decay_rate_per_step(geometric) == pytest.approx(0.8)
    assert decay_rate_per_step(torch.tensor(geometric).flip(0)) == pytest.approx(1 / 0.8)
    noisy = torch.tensor(geometric) * torch.tensor([1.1, 0.9] * 5)
    assert decay_rate_per_step(noisy) == pytest.approx(0.8, rel=0.05)
    with pytest.raises(ValueError, match="at least 2 values, got 1"):
        decay_rate_per_step([1.0])
    with pytest.raises(ValueError, match="positive and finite"):
        decay_rate_per_step([1.0, 0.0, 2.0])


# ----------------------------------------------------------------------------------------------
# RecurrentModel


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
def test_recurrent_model_backends(cell: str, device: str) -> None:
    from rnncourse.data.synthetic import AddingTask
    from rnncourse.models import RecurrentModel

    task = AddingTask(8)
    inputs, targets = task.sample(4, seed=0, device=device)
    sizes = {"input_size": task.input_size, "hidden_size": 6, "output_size": task.output_size}
    model = RecurrentModel(cell, **sizes, num_layers=2, device=device, seed=0)
    result = hidden_state_gradient_norms(model, inputs, targets, task.loss, layer=0)
    assert result.hidden.shape == (8,) and (result.cell is not None) == (cell == "lstm")
    assert torch.isfinite(result.hidden).all() and (result.hidden > 0).all()
    assert all(p.grad is None for p in model.parameters())

    fused = RecurrentModel(cell, **sizes, backend="torch", device=device, seed=0)
    with pytest.raises(TypeError, match='backend="rnncourse"'):
        hidden_state_gradient_norms(fused, inputs, targets, task.loss)
