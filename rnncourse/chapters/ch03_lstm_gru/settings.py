"""Chapter 3's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch03` both pass to it:

    forget_bias        run_forget_bias_decay   (gradient_flow.py; the same at both scales)
    parameter_counts   parameter_counts        (gradient_flow.py; the same at both scales)
    long_range         run_long_range_tasks    (long_range.py)

The gradient flow and the look inside the trained LSTM use the models of the long-range
comparison.

The paper scale is Arjovsky, Shah and Bengio (2016)'s setting (sec. 5 and Figs. 1 and 2 of their
paper, and their code): the adding problem at T = 100, 200, 400, 750 with 128 units for the RNN
and the LSTM; copy memory at T = 100, 200, 300, 500 with 80 units for the RNN and 40 for the LSTM
(about 6,500 parameters each in their models); RMSProp with learning rate 10⁻³ and decay 0.9;
gradients clipped element-wise at ±1; batches of 20; one run per model; as many steps as their
figures show (about 10⁶ training examples for copy memory, up to 4 × 10⁴ steps for adding), with
no stopping once solved. Their models had no GRU: here it gets 128 units on the adding problem,
and on copy memory the size that matches the 40-unit LSTM's parameter count. What still differs:
the paper trains on a fixed set of 10⁵ sequences and tests on 10⁴, where this course draws a
fresh batch at every step (and tests on 10⁴); their RMSProp starts its mean square at 10⁻³,
torch's at 0; they report the better of batch sizes 20 and 50 on the adding problem; and with
one-hot inputs over 10 symbols and torch's two bias vectors per gate, the copy-memory models here
have about 8,100 to 8,800 parameters rather than their 6,500. Hours on a GPU; not run in the
book.
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

# The course's own CPU setting (LongRangeSettings' defaults): cells of about equal parameter count
# (an LSTM of 32 units), short sequences, Adam with learning rate 10⁻², norm clipping at 1,
# batches of 32, a few hundred steps, three seeds; runs stop once solved.
CPU_LONG_RANGE = LongRangeSettings()

PAPER_LONG_RANGE = LongRangeSettings(
    adding_lengths=(100, 200, 400, 750), copy_delays=(100, 200, 300, 500),
    lstm_hidden_size=40,  # the copy-memory GRU matches this LSTM's parameter count
    hidden_sizes={"adding": {"rnn_tanh": 128, "lstm": 128, "gru": 128},
                  "copy": {"rnn_tanh": 80, "lstm": 40}},
    adding_max_steps=40_000, copy_max_steps=50_000, batch_size=20,
    optimizer="rmsprop", lr=1e-3, optimizer_options={"alpha": 0.9},
    clip_norm=None, clip_value=1.0, forget_gate_bias=1.0,
    eval_every=50, eval_batch_size=10_000, stop_when_solved=False, num_seeds=1,
)  # fmt: skip

SETTINGS = Scaled(
    cpu=LstmGruSettings(
        forget_bias=FORGET_BIAS,
        parameter_counts=PARAMETER_COUNTS,
        long_range=arguments(settings=CPU_LONG_RANGE),
    ),
    paper=LstmGruSettings(
        forget_bias=FORGET_BIAS,
        parameter_counts=PARAMETER_COUNTS,
        long_range=arguments(settings=PAPER_LONG_RANGE),
    ),
)
