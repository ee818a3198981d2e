"""From-scratch recurrent networks with torch.nn's parameter names, and their initialisation.

    cells.py            step functions rnn_step, lstm_step, gru_step; RNNCell, LSTMCell, GRUCell
    weights.py          one layer's weights under torch.nn's names, drawn as torch draws them
    sequence.py         multi-layer RNN, LSTM, GRU over whole sequences
    recording.py        record_hidden_states(): every h_t (and c_t) of a pass, for diagnostics
    recurrent_model.py  RecurrentModel: a recurrent core and a linear readout
    init.py             orthogonal / identity / spectral-radius initialisation, forget-gate bias
    normalized.py       normalised LSTMs (chapter 2): the overview, normalized_lstm_model
    normalized_lstm.py  the step and the loop over time the two normalised LSTMs share
    layer_norm_lstm.py  layer_norm, the layer-normalised LSTM cell and layer
    batch_norm_lstm.py  recurrent batch normalisation, the batch-normalised LSTM cell and layer
    fused_lstm.py       FusedLSTM: one autograd node per layer, BPTT written out (chapter 4)
    lstm_cell_steps.py  its steps' element-wise work in PyTorch (eager or compiled)
    kernels.py          what the fused layers run on: prepacked oneDNN products, compiled
                        element-wise steps, each with its fallback (chapter 4)
    lstm_step_kernel.py an LSTM step's element-wise work in C (lstm_step.c), via ctypes
    c_library.py        builds the C files on first use and loads them
    minimal.py          minGRU, minLSTM: gates that read only x_t, so time runs in parallel (ch. 4)
    scans.py            the loop, blocked and log-space scans of h_t = a_t ⊙ h_{t-1} + b_t
    chunked_scan.py     the chunked scan: chunks of C steps, each chunk's steps in one kernel
    scan_kernel.py      the kernel scan: one pass over time in C (scan_kernel.c), via ctypes
    char_lm.py          CharLanguageModel (embedding, core, head), CarriedState (chapter 6)
    regularization.py   RNN regularisers: dropout, variational dropout, weight drop, zoneout (ch. 2)
    regularized_lstm.py RegularizedLSTM, the LSTM with those regularisers; its char-LM (ch. 2)
    forecaster.py       WindowForecaster: L past values -> H future ones (chapter 6)
    seq2seq.py          EncoderDecoder: LSTM encoder-decoder, with or without attention (ch. 6)
    gate_trace.py       record_gates: the gate activations over a sequence (chapter 3)
    parameter_count.py  parameters of a core, the hidden size for a parameter budget (ch. 3)
    ensemble.py         Ensemble: K same-shaped models stacked and run at once with vmap

The argument checks they share are `rnncourse.checks`.

State dicts load both ways with torch.nn.RNN / LSTM / GRU and the torch.nn cells.
"""

from rnncourse.models.batch_norm_lstm import BatchNormLSTM, BatchNormLSTMCell, RecurrentBatchNorm
from rnncourse.models.cells import (
    GRUCell,
    LSTMCell,
    RNNCell,
    gru_step,
    lstm_step,
    rnn_step,
)
from rnncourse.models.char_lm import CarriedState, CharLanguageModel, detach_state
from rnncourse.models.forecaster import WindowForecaster
from rnncourse.models.fused_lstm import FusedLSTM
from rnncourse.models.gate_trace import GateTrace, record_gates
from rnncourse.models.init import initialize_recurrent_weights, set_forget_gate_bias
from rnncourse.models.layer_norm_lstm import LayerNorm, LayerNormLSTM, LayerNormLSTMCell, layer_norm
from rnncourse.models.minimal import MinGRU, MinLSTM
from rnncourse.models.normalized import normalized_lstm_model
from rnncourse.models.parameter_count import hidden_size_for_budget, recurrent_parameter_count
from rnncourse.models.recording import RecordedStates
from rnncourse.models.recurrent_model import RecurrentModel
from rnncourse.models.regularization import (
    drop_weights,
    dropout,
    variational_dropout,
    zoneout,
)
from rnncourse.models.regularized_lstm import RegularizedLSTM, regularized_char_language_model
from rnncourse.models.sequence import GRU, LSTM, RNN

__all__ = [
    "BatchNormLSTM",
    "BatchNormLSTMCell",
    "CarriedState",
    "CharLanguageModel",
    "FusedLSTM",
    "GRU",
    "GRUCell",
    "GateTrace",
    "LSTM",
    "LSTMCell",
    "LayerNorm",
    "LayerNormLSTM",
    "LayerNormLSTMCell",
    "MinGRU",
    "MinLSTM",
    "RNN",
    "RNNCell",
    "RecordedStates",
    "RecurrentBatchNorm",
    "RecurrentModel",
    "RegularizedLSTM",
    "WindowForecaster",
    "detach_state",
    "drop_weights",
    "dropout",
    "gru_step",
    "hidden_size_for_budget",
    "initialize_recurrent_weights",
    "layer_norm",
    "lstm_step",
    "normalized_lstm_model",
    "record_gates",
    "recurrent_parameter_count",
    "regularized_char_language_model",
    "rnn_step",
    "set_forget_gate_bias",
    "variational_dropout",
    "zoneout",
]
