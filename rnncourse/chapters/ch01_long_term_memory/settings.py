"""Chapter 1's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch01` both pass to it:

    gradient_decay   run_gradient_decay   (gradient_decay.py)
    adding           run_adding_problem   (memory_tasks.py)
    copy             run_copy_capacity    (memory_tasks.py)

The paper scale is the setting of Arjovsky, Shah and Bengio (2016), as their sec. 5 states it
and their code (github.com/amarshah/complex_RNN) runs it:

- RMSProp at learning rate 10⁻³ with decay 0.9 (sec. 5), gradients clipped at 1 for the LSTM and
  the RNNs, element by element (their code: `T.clip(g, -1, 1)`), forget-gate bias 1 (their code);
- adding problem (sec. 5.2, Fig. 2): 128 units for the tanh RNN and the LSTM, T = 100, 200, 400
  and 750, batches of 20 (they tried 20 and 50 and report the better);
- copy memory (sec. 5.1, Fig. 1): an LSTM of 40 units (the tanh RNN had 80, the uRNN 128: about
  6,500 parameters each), 10 symbols of 8 to copy, T = 100, 200, 300, 500, batches of 20.

What the paper does not state is this course's choice: 20,000 steps (the default of their
scripts' iteration argument; the curves in the figures of their repository, arXiv version, run
longer: from 30,000 steps on the adding problem at T = 100 to 100,000 at T = 750, and to 10⁶
training sequences, 50,000 batches of 20, on copy memory), the hidden sizes of the capacity sweep
around their 40 units, and a test batch of 10,000 sequences (their test set's size). Two
differences remain: they train on a fixed set of 100,000 sequences, we on fresh batches; and
their RMSProp starts its average of squared gradients at 10⁻³ with no ε, torch's at 0 with
ε = 10⁻⁸. Hours on a GPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from rnncourse.chapters.ch01_long_term_memory.memory_tasks import COPY_PAPER_DELAYS
from rnncourse.chapters.ch01_long_term_memory.task_runs import TrainingSettings
from rnncourse.chapters.scales import Scaled, arguments

__all__ = ["SETTINGS", "LongTermMemorySettings"]


@dataclass(frozen=True)
class LongTermMemorySettings:
    """Keyword arguments of chapter 1's experiments, at one scale."""

    gradient_decay: Mapping[str, Any]
    adding: Mapping[str, Any]
    copy: Mapping[str, Any]


# Arjovsky et al. (2016, sec. 5): RMSProp at 1e-3 with decay 0.9, gradients clipped element-wise
# at ±1; 128 units on the adding problem (sec. 5.2), an LSTM of 40 on copy memory (sec. 5.1).
PAPER_TRAINING = TrainingSettings(
    hidden_size=128, steps=20_000, batch_size=20, optimizer="rmsprop", lr=1e-3,
    rmsprop_decay=0.9, clip_norm=None, clip_value=1.0, forget_gate_bias=1.0, test_size=10_000,
)  # fmt: skip
PAPER_COPY_UNITS = 40

SETTINGS = Scaled(
    cpu=LongTermMemorySettings(
        # Measuring the gradient is cheap (a backward pass per network): five seeds per W_hh.
        gradient_decay=arguments(seq_len=100, hidden_size=64, num_seeds=5),
        # Adam at a large learning rate gets an LSTM far below the baseline within 1200 steps at
        # T = 50, where a tanh RNN stays at it; at T = 10 the tanh RNN learns it too.
        adding=arguments(
            seq_lens=(10, 50),
            settings=TrainingSettings(hidden_size=32, steps=1200, batch_size=32,
                                      optimizer="adam", lr=1e-2),
        ),
        # 3 symbols to copy (the paper copies 10), an LSTM of 64 units, 1000 steps of Adam at
        # 2e-2: the loss climbs towards the memoryless one between T = 5 and 40 (batches of 32:
        # with 16, the ordering of the hidden sizes changed from seed to seed).
        copy=arguments(
            delays=(5, 10, 20, 40),
            hidden_sizes=(8, 16, 32, 64),
            settings=TrainingSettings(hidden_size=64, steps=1000, batch_size=32,
                                      optimizer="adam", lr=2e-2),
            copy_length=3,
        ),
    ),
    paper=LongTermMemorySettings(
        gradient_decay=arguments(seq_len=300, hidden_size=128, num_seeds=10),
        adding=arguments(seq_lens=(100, 200, 400, 750), settings=PAPER_TRAINING),
        copy=arguments(
            delays=COPY_PAPER_DELAYS,
            hidden_sizes=(10, 20, PAPER_COPY_UNITS, 80),
            settings=replace(PAPER_TRAINING, hidden_size=PAPER_COPY_UNITS),
            copy_length=10,
            sizes_delay=100,
        ),
    ),
)
