"""rnncourse.models.gate_trace and .parameter_count: gate traces that reproduce the states,
parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnncourse.models import GRU, LSTM, RecurrentModel
from rnncourse.models.gate_trace import record_gates
from rnncourse.models.parameter_count import hidden_size_for_budget, recurrent_parameter_count

TORCH_MODULES = {"rnn_tanh": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def previous(states: torch.Tensor) -> torch.Tensor:
    """(B, T, H) -> the states one step earlier, zeros first."""
    return torch.cat([torch.zeros_like(states[:, :1]), states[:, :-1]], dim=1)


# ----------------------------------------------------------------------------------------------
# Parameter counts


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
@pytest.mark.parametrize(("input_size", "hidden_size", "num_layers", "bias"),
                         [(2, 32, 1, True), (7, 5, 3, False), (1, 1, 2, True)])
def test_parameter_count_matches_torch(cell, input_size, hidden_size, num_layers, bias) -> None:
    module = TORCH_MODULES[cell](input_size, hidden_size, num_layers, bias=bias)
    expected = sum(parameter.numel() for parameter in module.parameters())
    assert recurrent_parameter_count(cell, input_size, hidden_size, num_layers, bias) == expected


def test_parameter_count_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="cell"):
        recurrent_parameter_count("transformer", 2, 4)
    with pytest.raises(ValueError, match="hidden_size"):
        recurrent_parameter_count("lstm", 2, 0)
    with pytest.raises(TypeError, match="input_size"):
        recurrent_parameter_count("lstm", 2.5, 4)


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
def test_hidden_size_for_budget_is_the_closest(cell: str) -> None:
    def total(size: int) -> int:
        return recurrent_parameter_count(cell, 2, size) + size + 1

    budget = recurrent_parameter_count("lstm", 2, 32) + 33
    size = hidden_size_for_budget(cell, 2, 1, budget)
    assert abs(total(size) - budget) <= abs(total(size - 1) - budget)
    assert abs(total(size) - budget) <= abs(total(size + 1) - budget)
    assert abs(total(size) - budget) / budget < 0.05
    if cell == "lstm":
        assert size == 32


# ----------------------------------------------------------------------------------------------
# Gate traces


@pytest.mark.parametrize("core_class", [nn.LSTM, LSTM])
@pytest.mark.parametrize("batch_first", [True, False])
def test_lstm_trace_reproduces_the_states(core_class, batch_first: bool) -> None:
    torch.manual_seed(0)
    core = core_class(3, 5, num_layers=2, batch_first=batch_first)
    inputs = torch.randn(4, 7, 3) if batch_first else torch.randn(7, 4, 3)
    outputs, _ = core(inputs)
    outputs = outputs if batch_first else outputs.transpose(0, 1)
    trace = record_gates(core, inputs, layer=-1)
    assert trace.kind == "LSTM" and set(trace.gates) == {"i", "f", "g", "o"}
    assert trace.hidden.shape == trace.cell.shape == (4, 7, 5)
    i, f, g, o = (trace.gates[name] for name in "ifgo")
    torch.testing.assert_close(trace.cell, f * previous(trace.cell) + i * g)
    torch.testing.assert_close(trace.hidden, o * torch.tanh(trace.cell))
    torch.testing.assert_close(trace.hidden, outputs.detach(), atol=1e-5, rtol=1e-5)
    assert ((0 < f) & (f < 1)).all() and (g.abs() < 1).all()


@pytest.mark.parametrize("core_class", [nn.GRU, GRU])
def test_gru_trace_reproduces_the_states(core_class) -> None:
    torch.manual_seed(1)
    core = core_class(2, 6, batch_first=True)
    inputs = torch.randn(3, 9, 2)
    outputs, _ = core(inputs)
    trace = record_gates(core, inputs)
    assert trace.kind == "GRU" and trace.cell is None and set(trace.gates) == {"r", "z", "n"}
    z, n = trace.gates["z"], trace.gates["n"]
    torch.testing.assert_close(trace.hidden, (1 - z) * n + z * previous(trace.hidden))
    torch.testing.assert_close(trace.hidden, outputs.detach(), atol=1e-5, rtol=1e-5)


def test_trace_of_a_model_and_of_one_sequence() -> None:
    model = RecurrentModel("lstm", input_size=2, hidden_size=4, output_size=1, backend="torch",
                           device="cpu", seed=0)
    model.train()
    sequence = torch.randn(6, 2)
    trace = record_gates(model, sequence)
    assert trace.hidden.shape == (1, 6, 4) and trace.seq_len == 6 and trace.hidden_size == 4
    batched = record_gates(model, sequence.unsqueeze(0))
    torch.testing.assert_close(trace.gates["f"], batched.gates["f"])
    assert model.training, "record_gates gives the model back in the mode it came in"


def test_record_gates_rejects_what_it_cannot_trace() -> None:
    with pytest.raises(TypeError, match="LSTM or GRU"):
        record_gates(nn.RNN(2, 3), torch.randn(4, 1, 2))
    with pytest.raises(ValueError, match="layer"):
        record_gates(nn.LSTM(2, 3), torch.randn(4, 1, 2), layer=1)
    with pytest.raises(ValueError, match="inputs"):
        record_gates(nn.LSTM(2, 3), torch.randn(4))
