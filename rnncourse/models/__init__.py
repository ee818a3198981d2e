"""From-scratch recurrent networks with torch.nn's parameter names, and their initialisation.

    cells.py            step functions rnn_step, lstm_step, gru_step; RNNCell, LSTMCell, GRUCell
    sequence.py         multi-layer RNN, LSTM, GRU over whole sequences; record_hidden_states()
    recurrent_model.py  RecurrentModel: a recurrent core and a linear readout
    init.py             orthogonal / identity / spectral-radius initialisation, forget-gate bias

State dicts load both ways with torch.nn.RNN / LSTM / GRU and the torch.nn cells.
"""

from rnncourse.models.cells import (
    GRUCell,
    LSTMCell,
    RNNCell,
    gru_step,
    lstm_step,
    rnn_step,
)
from rnncourse.models.init import initialize_recurrent_weights, set_forget_gate_bias
from rnncourse.models.recurrent_model import RecurrentModel
from rnncourse.models.sequence import GRU, LSTM, RNN, RecordedStates

__all__ = [
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNCell",
    "RecordedStates",
    "RecurrentModel",
    "gru_step",
    "initialize_recurrent_weights",
    "lstm_step",
    "rnn_step",
    "set_forget_gate_bias",
]
