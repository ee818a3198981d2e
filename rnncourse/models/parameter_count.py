"""How many parameters a recurrent core has, and the hidden size that fits a parameter budget:

    recurrent_parameter_count("lstm", input_size=2, hidden_size=32)   # 4 (H I + H H + 2 H)
    hidden_size_for_budget("gru", 2, 1, budget)   # compare cells at (about) equal size
"""

from __future__ import annotations

from rnncourse.checks import check_choice, check_positive_int

__all__ = ["GATE_COUNTS", "hidden_size_for_budget", "recurrent_parameter_count"]

# How many H-row blocks each cell stacks in its weights: an RNN 1, an LSTM (i, f, g, o) 4,
# a GRU (r, z, n) 3.
GATE_COUNTS = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def _gate_count(cell: str) -> int:
    return GATE_COUNTS[check_choice("cell", cell, GATE_COUNTS)]


def recurrent_parameter_count(
    cell: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True
) -> int:
    """Parameters of a recurrent core with G gate blocks (RNN 1, GRU 3, LSTM 4):

        first layer:   G (H·I + H·H + 2H)       weight_ih, weight_hh, bias_ih, bias_hh
        later layers:  G (H·H + H·H + 2H)       (their input is the layer below, of size H)

    without the 2H terms when bias=False. This is what torch.nn.RNN / LSTM / GRU hold.
    """
    gates = _gate_count(cell)
    check_positive_int("input_size", input_size)
    check_positive_int("hidden_size", hidden_size)
    check_positive_int("num_layers", num_layers)
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else hidden_size
        weights = hidden_size * layer_input + hidden_size * hidden_size  # W_ih and W_hh
        biases = 2 * hidden_size if bias else 0  # b_ih and b_hh
        total += gates * (weights + biases)
    return total


def hidden_size_for_budget(cell: str, input_size: int, output_size: int, budget: int) -> int:
    """The hidden size H whose model (core plus a linear readout of H·O + O parameters) has the
    number of parameters closest to `budget`: how to compare cells at equal size."""
    check_positive_int("output_size", output_size)
    check_positive_int("budget", budget)

    def total(size: int) -> int:
        readout = size * output_size + output_size
        return recurrent_parameter_count(cell, input_size, size) + readout

    size = 1
    while total(size + 1) <= budget:
        size += 1
    # Now total(size) <= budget < total(size + 1), unless even H = 1 is over it.
    return min((size, size + 1), key=lambda candidate: abs(total(candidate) - budget))
