"""Chapter 3's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch03` both pass to it:

    forget_bias        run_forget_bias_decay   (gradient_flow.py; the same at both scales)
    parameter_counts   parameter_counts        (gradient_flow.py; the same at both scales)
    long_range         run_long_range_tasks    (long_range.py)

The gradient flow and the look inside the trained LSTM use the models of the long-range
comparison. The paper scale is Arjovsky, Shah and Bengio (2016)'s set-up: an LSTM of 128 units,
RMSProp with learning rate 10⁻³, gradients clipped at norm 1, their sequence lengths and delays;
the batch size and the number of steps are this course's choice (hours on a GPU, days on a CPU).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rnncourse.chapters.ch03_lstm_gru.long_range import LongRangeSettings
from rnncourse.chapters.scales import Scaled, arguments

__all__ = ["SETTINGS", "LstmGruSettings"]


@dataclass(frozen=True)
class LstmGruSettings:
    """Keyword arguments of chapter 3's experiments, at one scale."""

    forget_bias: Mapping[str, Any]
    parameter_counts: Mapping[str, Any]
    long_range: Mapping[str, Any]


FORGET_BIAS = arguments(biases=(0.0, 1.0, 2.0), seq_len=100)
PARAMETER_COUNTS = arguments(input_size=2, hidden_size=32)

SETTINGS = Scaled(
    cpu=LstmGruSettings(
        forget_bias=FORGET_BIAS,
        parameter_counts=PARAMETER_COUNTS,
        long_range=arguments(settings=LongRangeSettings()),
    ),
    paper=LstmGruSettings(
        forget_bias=FORGET_BIAS,
        parameter_counts=PARAMETER_COUNTS,
        long_range=arguments(settings=LongRangeSettings(
            adding_lengths=(100, 200, 400, 750), copy_delays=(100, 200, 300, 500),
            lstm_hidden_size=128, adding_max_steps=20_000, copy_max_steps=20_000,
            batch_size=20, optimizer="rmsprop", lr=1e-3, eval_every=500, eval_batch_size=1000,
        )),
    ),
)
