"""Normalised LSTMs: layer normalisation (Ba et al. 2016) and recurrent batch normalisation
(Cooijmans et al. 2016), written the way the equations read.

Both normalise the two pre-activation streams of the gates separately, and the cell state
before its tanh; only the statistics differ:

    (i, f, g, o) = N_x(W_ih x_t) + N_h(W_hh h_{t-1}) + b_ih + b_hh
    c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
    h_t = σ(o) ⊙ tanh(N_c(c_t))

* layer norm: N(a) = γ ⊙ (a - μ)/sqrt(σ² + ε) + β with μ, σ² the mean and variance of the
  features of one example at one step; the same at training and test time. The gates are
  normalised as one vector of 4H features, as in Ba et al. (their eq. 20).
* recurrent batch norm: μ_t, σ²_t are the mean and variance of each feature over the batch at
  step t: separate statistics per time step, kept as running averages for evaluation (steps past
  `max_steps` use those of the last step). γ starts at 0.1, not 1, so that tanh and σ see small
  inputs and their gradients do not vanish at the start (Cooijmans et al., section 4).

The gate normalisations have no shift β: b_ih + b_hh already is one. Weights carry torch.nn's
names and order (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`), so a seed draws the same
weights as `torch.nn.LSTMCell`, and `initialize_recurrent_weights` and `set_forget_gate_bias`
work on these cells as on the plain ones.

    normalized_lstm.py   the step both share, the cell's weights and states, the loop over time
    layer_norm_lstm.py   layer_norm, LayerNorm, LayerNormLSTMCell, LayerNormLSTM
    batch_norm_lstm.py   RecurrentBatchNorm, BatchNormLSTMCell, BatchNormLSTM
    this module          normalized_lstm_model, and every name above in one place
"""

from __future__ import annotations

import torch

from rnncourse.checks import check_choice
from rnncourse.models.batch_norm_lstm import BatchNormLSTM, BatchNormLSTMCell, RecurrentBatchNorm
from rnncourse.models.layer_norm_lstm import LayerNorm, LayerNormLSTM, LayerNormLSTMCell, layer_norm
from rnncourse.models.normalized_lstm import normalized_lstm_step
from rnncourse.models.recurrent_model import RecurrentModel, seeded

__all__ = [
    "NORMALIZATIONS",
    "BatchNormLSTM",
    "BatchNormLSTMCell",
    "LayerNorm",
    "LayerNormLSTM",
    "LayerNormLSTMCell",
    "RecurrentBatchNorm",
    "layer_norm",
    "normalized_lstm_model",
    "normalized_lstm_step",
]

NORMALIZATIONS = ("none", "layer", "batch")


def normalized_lstm_model(
    normalization: str,
    *,
    input_size: int,
    hidden_size: int,
    output_size: int,
    max_steps: int | None = None,
    readout: str = "last",
    backend: str = "rnncourse",
    device: torch.device | str | None = None,
    seed: int | None = None,
) -> RecurrentModel:
    """A `RecurrentModel` whose LSTM core is plain ("none"), layer-normalised ("layer") or
    batch-normalised ("batch", which needs `max_steps`, the longest training sequence).

    Under one seed the three start from the same LSTM weights and the same readout, so a
    comparison between them measures the normalisation alone. `backend` ("rnncourse" or
    "torch", the fused kernel) applies to the plain LSTM; the normalised cores are this module's.
    """
    check_choice("normalization", normalization, NORMALIZATIONS)
    if normalization == "batch" and max_steps is None:
        raise ValueError("normalization='batch' needs max_steps (statistics per time step)")
    model = RecurrentModel(
        "lstm", input_size=input_size, hidden_size=hidden_size, output_size=output_size,
        readout=readout, backend=backend, device=device, seed=seed,
    )  # fmt: skip
    if normalization == "none":
        return model
    with seeded(seed):  # the same seed as the model's own core: the same LSTM weights
        if normalization == "layer":
            core = LayerNormLSTM(input_size, hidden_size, batch_first=True)
        else:
            core = BatchNormLSTM(input_size, hidden_size, max_steps, batch_first=True)
    model.rnn = core.to(model.device)
    return model
