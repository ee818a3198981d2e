"""Recurrent weight initialisation: orthogonal, identity (IRNN), spectral radius, forget bias."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from rnncourse.models import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RecurrentModel,
    RNNCell,
    initialize_recurrent_weights,
    set_forget_gate_bias,
)

IN, H = 4, 6

# Every kind of module the initialiser must handle: ours and torch's, sequences and cells.
MODULES = {
    "rnn": lambda: RNN(IN, H, num_layers=2, nonlinearity="relu"),
    "lstm": lambda: LSTM(IN, H, num_layers=2),
    "gru": lambda: GRU(IN, H, num_layers=2),
    "rnn_cell": lambda: RNNCell(IN, H),
    "lstm_cell": lambda: LSTMCell(IN, H),
    "gru_cell": lambda: GRUCell(IN, H),
    "torch_rnn": lambda: nn.RNN(IN, H, num_layers=2),
    "torch_lstm": lambda: nn.LSTM(IN, H, num_layers=2),
    "torch_gru": lambda: nn.GRU(IN, H, num_layers=2),
    "torch_lstm_cell": lambda: nn.LSTMCell(IN, H),
    "model": lambda: RecurrentModel("gru", input_size=IN, hidden_size=H, output_size=2,
                                    num_layers=2, device="cpu"),  # fmt: skip
}


def recurrent_blocks(module: nn.Module) -> list[torch.Tensor]:
    """Every H×H gate block of every weight_hh in `module`."""
    return [
        block
        for name, weight in module.named_parameters()
        if name.rsplit(".", 1)[-1].startswith("weight_hh")
        for block in weight.detach().split(H)
    ]


def spectral_radius(matrix: torch.Tensor) -> float:
    return torch.linalg.eigvals(matrix.double()).abs().max().item()


@pytest.mark.parametrize("name", MODULES)
def test_orthogonal_blocks(name):
    module = initialize_recurrent_weights(MODULES[name](), "orthogonal", seed=0)
    blocks = recurrent_blocks(module)
    assert blocks
    for block in blocks:
        assert_close(block @ block.T, torch.eye(H), atol=1e-5, rtol=0)
    assert all(not torch.equal(a, b) for a, b in itertools.pairwise(blocks))  # one draw per block


@pytest.mark.parametrize("name", MODULES)
def test_identity_zeroes_the_recurrent_biases(name):
    module = MODULES[name]()
    before = {n: p.detach().clone() for n, p in module.named_parameters()}
    initialize_recurrent_weights(module, "identity")
    for block in recurrent_blocks(module):
        assert torch.equal(block, torch.eye(H))
    for parameter_name, parameter in module.named_parameters():
        short = parameter_name.rsplit(".", 1)[-1]
        if short.startswith(("bias_ih", "bias_hh")):
            assert torch.count_nonzero(parameter) == 0, parameter_name
        elif not short.startswith("weight_hh"):  # input weights and the readout stay as they were
            assert torch.equal(parameter, before[parameter_name]), parameter_name


@pytest.mark.parametrize(
    "name, scheme, radius",
    list(itertools.product(["rnn", "lstm", "torch_gru", "gru_cell"], ["default", "orthogonal",
                           "identity"], [0.5, 1.0, 1.7])),
)  # fmt: skip
def test_spectral_radius(name, scheme, radius):
    module = initialize_recurrent_weights(MODULES[name](), scheme, spectral_radius=radius, seed=1)
    for block in recurrent_blocks(module):
        assert spectral_radius(block) == pytest.approx(radius, rel=1e-4)


def test_default_scheme_is_torchs_distribution_and_seeded():
    a = initialize_recurrent_weights(LSTM(IN, H, 2), "default", seed=3)
    b = initialize_recurrent_weights(nn.LSTM(IN, H, 2), "default", seed=3)
    c = initialize_recurrent_weights(LSTM(IN, H, 2), "default", seed=4)
    assert torch.equal(a.weight_hh_l1, b.weight_hh_l1)  # same seed, same draws, ours or torch's
    assert not torch.equal(a.weight_hh_l1, c.weight_hh_l1)
    for block in recurrent_blocks(a):
        assert block.abs().max() <= H**-0.5
    first, second = (initialize_recurrent_weights(RNN(IN, H), "orthogonal", seed=5) for _ in "ab")
    assert torch.equal(first.weight_hh_l0, second.weight_hh_l0)


def test_initialisation_sets_the_gradient_regime():
    """ρ(W_hh) < 1 shrinks a linear RNN's state geometrically, ρ > 1 grows it."""
    for radius, grows in [(0.5, False), (1.5, True)]:
        rnn = initialize_recurrent_weights(RNN(1, H, bias=False), "orthogonal",
                                           spectral_radius=radius, seed=0)  # fmt: skip
        h = torch.ones(H)
        for _ in range(20):
            h = rnn.weight_hh_l0.detach() @ h
        assert (h.norm() > 1) == grows


@pytest.mark.parametrize(
    "module, kwargs, error, message",
    [
        (RNN(IN, H), {"scheme": "xavier"}, ValueError, "scheme must be one of"),
        (RNN(IN, H), {"spectral_radius": 0.0}, ValueError, "spectral_radius"),
        (RNN(IN, H), {"spectral_radius": -1}, ValueError, "spectral_radius"),
        (nn.Linear(IN, H), {}, ValueError, "no recurrent weight"),
        (nn.LSTM(IN, H, proj_size=2), {}, ValueError, "proj_size"),
    ],
)
def test_initialisation_errors(module, kwargs, error, message):
    with pytest.raises(error, match=message):
        initialize_recurrent_weights(module, **kwargs)


@pytest.mark.parametrize("name", ["lstm", "lstm_cell", "torch_lstm", "torch_lstm_cell"])
@pytest.mark.parametrize("value", [1.0, 2.5])
def test_forget_gate_bias(name, value):
    module = MODULES[name]()
    before = {n: p.detach().clone() for n, p in module.named_parameters()}
    assert set_forget_gate_bias(module, value) is module
    biases = dict(module.named_parameters())
    forget = slice(H, 2 * H)  # gate order i, f, g, o
    for bias_ih_name in [n for n in biases if n.startswith("bias_ih")]:
        bias_hh_name = bias_ih_name.replace("bias_ih", "bias_hh")
        bias_ih, bias_hh = biases[bias_ih_name].detach(), biases[bias_hh_name].detach()
        assert_close(bias_ih[forget] + bias_hh[forget], torch.full((H,), value))
        assert torch.count_nonzero(bias_hh[forget]) == 0
        for n, b in [(bias_ih_name, bias_ih), (bias_hh_name, bias_hh)]:
            for other in (slice(0, H), slice(2 * H, 4 * H)):
                assert torch.equal(b[other], before[n][other]), n  # other gates untouched


def test_forget_gate_bias_opens_the_gate_inside_a_model():
    model = RecurrentModel("lstm", input_size=IN, hidden_size=H, output_size=1, device="cpu")
    set_forget_gate_bias(model, 3.0)
    rnn = model.rnn
    total = (rnn.bias_ih_l0 + rnn.bias_hh_l0)[H : 2 * H]
    assert torch.allclose(total, torch.full((H,), 3.0))


@pytest.mark.parametrize(
    "module, value, error, message",
    [
        (GRU(IN, H), 1.0, ValueError, "needs an LSTM or LSTMCell"),
        (LSTM(IN, H, bias=False), 1.0, ValueError, "bias=False"),
        (LSTM(IN, H), "one", TypeError, "value must be a number"),
    ],
)
def test_forget_gate_bias_errors(module, value, error, message):
    with pytest.raises(error, match=message):
        set_forget_gate_bias(module, value)
