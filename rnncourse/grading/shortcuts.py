"""The library shortcuts that exercise parts put off limits, for `own_code` to detect.

Each names what a student reads in the message, the ATen operators it reaches (caught at the
dispatcher, however they are called) and the Python modules or packages whose code it runs
(caught by a profile hook). The torch.nn modules are caught by their operators: `nn.LSTMCell`
calls `aten::lstm_cell`, `nn.LSTM` calls `aten::lstm` (or cuDNN's or oneDNN's kernels).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    """A library function (or family) that a part asks students to write themselves."""

    name: str
    operators: tuple[str, ...] = ()
    python: tuple[str, ...] = ()


_FUSED_RNNS = ("_cudnn_rnn", "miopen_rnn", "mkldnn_rnn", "mkldnn_rnn_layer")

RNN_CELL = Shortcut("torch's RNN (torch.rnn_tanh_cell, nn.RNNCell, nn.RNN)",
                    ("rnn_tanh_cell", "rnn_relu_cell", "rnn_tanh", "rnn_relu",
                     "quantized_rnn_tanh_cell", "quantized_rnn_relu_cell") + _FUSED_RNNS)
RNN_SEQUENCE = Shortcut("torch's RNN over a whole sequence (torch.rnn_tanh, nn.RNN)",
                        ("rnn_tanh", "rnn_relu") + _FUSED_RNNS)
LSTM_CELL = Shortcut("torch's LSTM (torch.lstm_cell, nn.LSTMCell, nn.LSTM)",
                     ("lstm_cell", "lstm", "_thnn_fused_lstm_cell", "quantized_lstm_cell",
                      "_lstm_mps") + _FUSED_RNNS)
GRU_CELL = Shortcut("torch's GRU (torch.gru_cell, nn.GRUCell, nn.GRU)",
                    ("gru_cell", "gru", "_thnn_fused_gru_cell", "quantized_gru_cell")
                    + _FUSED_RNNS)
NORMALIZATION = Shortcut(
    "torch's normalisation layers (F.layer_norm, nn.LayerNorm, group, instance, batch and "
    "RMS norm)",
    ("layer_norm", "native_layer_norm", "group_norm", "native_group_norm", "instance_norm",
     "batch_norm", "native_batch_norm", "_native_batch_norm_legit", "_batch_norm_impl_index",
     "rms_norm", "_fused_rms_norm", "cudnn_batch_norm", "miopen_batch_norm"))
RNN_MODULES = Shortcut("torch's recurrent modules (torch.nn.LSTM, GRU, RNN and their cells)",
                       python=("torch.nn.modules.rnn",))
CLIPPING = Shortcut("torch.nn.utils' clipping (clip_grad_norm_, clip_grad_value_, "
                    "get_total_norm)", python=("torch.nn.utils.clip_grad",))
SCAN = Shortcut("torch's own scans (torch._higher_order_ops.associative_scan and scan)",
                python=("torch._higher_order_ops.associative_scan",
                        "torch._higher_order_ops.scan"))
DROPOUT = Shortcut(
    "torch's dropout (F.dropout, dropout1d/2d/3d, alpha dropout, nn.Dropout and its kin)",
    ("dropout", "native_dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout",
     "_fused_dropout"),
    python=("torch.nn.modules.dropout",))
COURSE_LIBRARY = Shortcut("the course library (rnncourse)", python=("rnncourse",))
