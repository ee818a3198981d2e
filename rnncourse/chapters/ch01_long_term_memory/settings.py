"""Chapter 1's experiments at two scales: `SETTINGS.cpu` (the book's) and `SETTINGS.paper`.

Each field holds the keyword arguments of one experiment, which the page and
`rnncourse run ch01` both pass to it:

    gradient_decay   run_gradient_decay   (gradient_decay.py)
    adding           run_adding_problem   (memory_tasks.py)
    copy             run_copy_capacity    (memory_tasks.py)

The paper scale follows Arjovsky, Shah and Bengio (2016): 128 units, RMSProp at 10⁻³, gradients
clipped at norm 1, their lengths and delays, ten symbols to copy (the batch size and the number
of steps are this course's choice). Hours on a GPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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


# Arjovsky et al. (2016): hidden 128, RMSProp at 1e-3, gradient norm clipped at 1.
PAPER_TRAINING = TrainingSettings(
    hidden_size=128, steps=20_000, batch_size=20, optimizer="rmsprop", lr=1e-3, clip_norm=1.0
)

SETTINGS = Scaled(
    cpu=LongTermMemorySettings(
        gradient_decay=arguments(seq_len=100, hidden_size=64),
        # Adam at a large learning rate gets an LSTM well below the baseline within 1500 steps
        # at T = 100 (seconds on a CPU).
        adding=arguments(
            seq_lens=(50, 100),
            settings=TrainingSettings(hidden_size=32, steps=1500, batch_size=32,
                                      optimizer="adam", lr=1e-2),
        ),
        # 3 symbols to copy (the paper copies 10), an LSTM of 64 units.
        copy=arguments(
            delays=(10, 20, 40, 80),
            hidden_sizes=(8, 16, 32, 64),
            settings=TrainingSettings(hidden_size=64, steps=1500, batch_size=32,
                                      optimizer="adam", lr=1e-2),
            copy_length=3,
        ),
    ),
    paper=LongTermMemorySettings(
        gradient_decay=arguments(seq_len=300, hidden_size=128),
        adding=arguments(seq_lens=(100, 200, 400, 750), settings=PAPER_TRAINING),
        copy=arguments(
            delays=COPY_PAPER_DELAYS,
            hidden_sizes=(32, 64, 128, 256),
            settings=PAPER_TRAINING,
            copy_length=10,
            sizes_delay=100,
        ),
    ),
)
