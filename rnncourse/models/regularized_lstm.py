"""`RegularizedLSTM`: the from-scratch LSTM with the regularisers made for recurrent networks.

With layer inputs x^l_t (x^0_t = the input, x^{l+1}_t = h^l_t) the layer computes

    x̃^l_t = x^l_t ⊙ m_t ⊙ m                  dropout (fresh m_t per step, Zaremba et al. 2014) and
                                               variational dropout (one m per sequence, Gal and
                                               Ghahramani 2016) on every non-recurrent connection:
                                               the input, between layers, and the output
    W̃_hh = W_hh ⊙ M / (1 - p_w)               weight drop: one DropConnect mask per forward pass
                                               (Merity, Keskar and Socher 2018)
    (h̃_t, c̃_t) = LSTM(x̃_t, (h_{t-1} ⊙ m_h, c_{t-1}); W_ih, W̃_hh)
                                               recurrent dropout: one mask m_h per sequence on the
                                               state entering the gates (Gal and Ghahramani 2016)
    c_t = d^c_t ⊙ c_{t-1} + (1 - d^c_t) ⊙ c̃_t  zoneout on the cell and the hidden state
    h_t = d^h_t ⊙ h_{t-1} + (1 - d^h_t) ⊙ h̃_t  (Krueger et al. 2017), d ~ Bernoulli(z)

and the last layer's h_t leaves through the same (variational) dropout. In evaluation mode every
mask is 1 and zoneout takes its expectation. Each rate is a buffer (a 0-dim tensor, saved in
the state dict), so that an `Ensemble` of models with different rates runs them all as one
stacked model: member k of a stack reads its own rates.

`regularized_char_language_model` puts the layer inside `CharLanguageModel` (embedding, core,
head), starting from the weights the plain model would have under the same seed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnncourse.models.cells import lstm_step_projected
from rnncourse.models.char_lm import CharLanguageModel
from rnncourse.models.recording import RecordedStates, State
from rnncourse.models.recurrent_model import seeded
from rnncourse.models.regularization import (
    check_rate,
    drop_weights,
    dropout,
    dropout_mask,
    variational_dropout,
    zoneout,
)
from rnncourse.models.sequence import LSTM

__all__ = ["REGULARIZER_RATES", "RegularizedLSTM", "regularized_char_language_model"]

# The rates a RegularizedLSTM takes, each 0 (off) by default.
REGULARIZER_RATES = (
    "dropout",  # per step, non-recurrent connections (Zaremba et al. 2014)
    "variational_dropout",  # per sequence, non-recurrent connections (Gal and Ghahramani 2016)
    "recurrent_dropout",  # per sequence, on h_{t-1} in the recurrence (Gal and Ghahramani 2016)
    "weight_drop",  # DropConnect on W_hh, per forward pass (Merity et al. 2018)
    "zoneout_cell",  # zoneout of c_t (Krueger et al. 2017)
    "zoneout_hidden",  # zoneout of h_t (Krueger et al. 2017)
)


class RegularizedLSTM(LSTM):
    """An LSTM (torch.nn.LSTM's parameters and contract) with RNN regularisers; see the module.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first: as torch.nn.LSTM.
        dropout: rate of a fresh mask per step on the input, between layers and on the output.
        variational_dropout: rate of one mask per sequence on the same connections.
        recurrent_dropout: rate of one mask per sequence on h_{t-1} where it enters the gates.
        weight_drop: rate of DropConnect on every W_hh, one mask per forward pass.
        zoneout_cell, zoneout_hidden: probabilities that a unit of c_t, h_t keeps its value.

    Each rate is a float in [0, 1), stored as a buffer `<name>_rate`. `weights_state_dict()`
    gives the weights alone, which load into `torch.nn.LSTM` and `rnncourse.models.LSTM`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        *,
        dropout: float = 0.0,
        variational_dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        weight_drop: float = 0.0,
        zoneout_cell: float = 0.0,
        zoneout_hidden: float = 0.0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first,
                         device=device, dtype=dtype)
        rates = {"dropout": dropout, "variational_dropout": variational_dropout,
                 "recurrent_dropout": recurrent_dropout, "weight_drop": weight_drop,
                 "zoneout_cell": zoneout_cell, "zoneout_hidden": zoneout_hidden}
        for name, rate in rates.items():
            value = torch.tensor(check_rate(name, rate), device=device, dtype=dtype)
            self.register_buffer(f"{name}_rate", value)

    def rates(self) -> dict[str, float]:
        """The six rates as floats (of an ordinary module, not of a stacked member)."""
        return {name: getattr(self, f"{name}_rate").item() for name in REGULARIZER_RATES}

    def extra_repr(self) -> str:
        active = ", ".join(f"{name}={rate:g}" for name, rate in self.rates().items() if rate)
        return super().extra_repr() + (f", {active}" if active else "")

    def weights_state_dict(self) -> dict[str, Tensor]:
        """The state dict without the rates: what torch.nn.LSTM(…) loads."""
        return {name: value for name, value in self.state_dict().items()
                if not name.endswith("_rate")}

    def drop_connections(self, x: Tensor) -> Tensor:
        """Dropout on a non-recurrent connection, x (T, B, F) time-major: a fresh mask per step
        (Zaremba et al.) and one per sequence (Gal and Ghahramani), each at its own rate."""
        x = dropout(x, self.dropout_rate, self.training)  # x_t ⊙ m_t
        return variational_dropout(x, self.variational_dropout_rate, self.training, time_dim=0)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """As `rnncourse.models.LSTM.forward` (torch.nn.LSTM's contract), with the regularisers
        active in training mode."""
        batched = self._check_input(input)
        if not batched:
            raise ValueError("RegularizedLSTM needs a batch: input of shape (seq_len, batch, "
                             "input_size), or (batch, seq_len, input_size) with batch_first")
        if self.batch_first:
            input = input.transpose(0, 1)  # time-major inside: (T, B, I)
        states = self._initial_states(hx, input, batched)
        recording = self._start_recording()
        layer_input = self.drop_connections(input)  # the input of layer 0
        final_states = []
        for layer in range(self.num_layers):
            layer_output, state = self._run_layer(layer, layer_input, states[layer], recording)
            final_states.append(state)
            layer_input = self.drop_connections(layer_output)  # between layers, and the output
        output = layer_input.transpose(0, 1) if self.batch_first else layer_input
        h_n, c_n = (torch.stack(parts) for parts in zip(*final_states, strict=True))
        return output, (h_n, c_n)

    def _run_layer(
        self, layer: int, layer_input: Tensor, state: State, recording: RecordedStates | None
    ) -> tuple[Tensor, State]:
        """One layer over the time-major sequence, with weight drop, recurrent dropout and
        zoneout; returns every h_t stacked and the final (h, c)."""
        weight_ih, weight_hh, bias_ih, bias_hh = self.layer_parameters(layer)
        weight_hh = drop_weights(weight_hh, self.weight_drop_rate, self.training)  # W̃_hh
        x_projection = F.linear(layer_input, weight_ih, bias_ih)  # W_ih x̃_t + b_ih for all t
        h, c = state
        steps = x_projection.shape[0]
        if self.training:  # the masks of the whole sequence, drawn at once
            h_mask = dropout_mask(tuple(h.shape), self.recurrent_dropout_rate, h)  # m_h
            keep_c = torch.bernoulli(self.zoneout_cell_rate.expand(steps, *c.shape))  # d^c_t
            keep_h = torch.bernoulli(self.zoneout_hidden_rate.expand(steps, *h.shape))  # d^h_t
        outputs = []
        for step, x_projection_t in enumerate(x_projection.unbind(0)):
            recurrent_h = h * h_mask if self.training else h  # h_{t-1} ⊙ m_h
            h_new, c_new = lstm_step_projected(x_projection_t, (recurrent_h, c), weight_hh,
                                               bias_hh)  # h̃_t, c̃_t
            c = zoneout(c, c_new, self.zoneout_cell_rate, self.training,
                        keep_c[step] if self.training else None)
            h = zoneout(h, h_new, self.zoneout_hidden_rate, self.training,
                        keep_h[step] if self.training else None)
            if recording is not None:
                recording._add(layer, (h, c))
            outputs.append(h)
        return torch.stack(outputs), (h, c)


def regularized_char_language_model(
    vocab_size: int,
    embedding_dim: int = 32,
    hidden_size: int = 128,
    num_layers: int = 1,
    *,
    device: str | torch.device | None = None,
    seed: int | None = None,
    **rates: float,
) -> CharLanguageModel:
    """A `CharLanguageModel` (embedding, LSTM core, head) whose core is a `RegularizedLSTM` with
    the given `rates` (names in `REGULARIZER_RATES`). Under one seed it starts from exactly the
    weights of `CharLanguageModel(vocab_size, "lstm", ..., seed=seed)`, whatever the rates."""
    unknown = sorted(set(rates) - set(REGULARIZER_RATES))
    if unknown:
        raise TypeError(f"unknown regulariser(s) {unknown}; choose from {REGULARIZER_RATES}")
    model = CharLanguageModel(vocab_size, "lstm", embedding_dim, hidden_size, num_layers,
                              backend="rnncourse", device=device, seed=seed)
    with seeded(seed):
        core = RegularizedLSTM(embedding_dim, hidden_size, num_layers, batch_first=True, **rates)
    core.load_state_dict(model.rnn.state_dict(), strict=False)  # the plain model's weights
    model.rnn = core.to(model.device)
    return model
