"""Cell types compared on the character language model: several seeds per cell, equal size.

Each cell (tanh RNN, GRU, LSTM) gets the hidden size that gives it about the same number of
parameters, and is trained with `train_language_model` under the same settings from `seeds`
different initial weights (seed + k for k = 0..seeds-1). torch.nn's fused kernels train each
model; one model after the other is faster on a CPU than batching such standard cells as an
ensemble. What is compared is each run's test bits per character (of its weights with the best
validation score), and their mean and spread over seeds.

The shipped long runs (`book/checkpoints/ch06-lm-<cell>-seed<k>.pt`) are loaded into the same
structure by `load_shipped_runs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnncourse.training.language import (
    CorpusSplits,
    load_language_model,
    train_language_model,
)

__all__ = ["CELL_LABELS", "SHIPPED_SEEDS", "CellComparison", "compare_cells",
           "load_shipped_runs", "shipped_checkpoint_name"]

CELL_LABELS = {"rnn_tanh": "tanh RNN", "gru": "GRU", "lstm": "LSTM"}
# The seeds of the shipped long runs, book/checkpoints/ch06-lm-<cell>-seed<k>.pt (each run takes
# minutes on one CPU thread); more seeds are added by adding files.
SHIPPED_SEEDS = (0, 1, 2)


@dataclass
class CellComparison:
    """Per cell label, one entry per seed: `test_bpc`, `valid_bpc` (the best validation score
    of the run) and the metrics or runs themselves (`runs`: `LanguageModelRun`s for live runs,
    loaded checkpoints for shipped ones). `parameters` per label."""

    seeds: list[int]
    test_bpc: dict[str, list[float]] = field(default_factory=dict)
    valid_bpc: dict[str, list[float]] = field(default_factory=dict)
    parameters: dict[str, int] = field(default_factory=dict)
    runs: dict[str, list[Any]] = field(default_factory=dict)

    def mean(self, label: str) -> float:
        return float(np.mean(self.test_bpc[label]))

    def std(self, label: str) -> float:
        """Standard deviation over seeds (ddof=1; 0 for one seed)."""
        values = self.test_bpc[label]
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    def best(self) -> tuple[str, int]:
        """(cell label, seed index) of the run with the lowest *validation* bpc: the model a
        practitioner would pick without looking at the test part."""
        label, index = min(((label, k) for label, values in self.valid_bpc.items()
                            for k in range(len(values))),
                           key=lambda pair: self.valid_bpc[pair[0]][pair[1]])
        return label, index


def compare_cells(
    splits: CorpusSplits,
    hidden_sizes: Mapping[str, int],
    *,
    seeds: int = 3,
    device: str | torch.device | None = None,
    seed: int = 0,
    **settings: Any,
) -> CellComparison:
    """Train every cell of `hidden_sizes` ({"lstm": 64, ...}) with `seeds` seeds (seed + k)
    and the same `settings` (`LanguageModelSettings` fields: steps, batch size, learning rate).
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive int, got {seeds!r}")
    unknown = set(hidden_sizes) - set(CELL_LABELS)
    if unknown:
        raise ValueError(f"hidden_sizes names unknown cells {sorted(unknown)}; "
                         f"expected some of {list(CELL_LABELS)}")
    comparison = CellComparison(seeds=[seed + k for k in range(seeds)])
    for cell, hidden_size in hidden_sizes.items():
        label = CELL_LABELS[cell]
        runs = [train_language_model(splits=splits, cell=cell, hidden_size=hidden_size,
                                     device=device, seed=member_seed, **settings)
                for member_seed in comparison.seeds]
        comparison.runs[label] = runs
        comparison.test_bpc[label] = [run.test_bpc for run in runs]
        comparison.valid_bpc[label] = [run.best_valid_bpc for run in runs]
        comparison.parameters[label] = runs[0].parameters
    return comparison


def shipped_checkpoint_name(cell: str, seed: int) -> str:
    """The file name of a shipped long run: ch06-lm-<cell>-seed<seed>.pt."""
    return f"ch06-lm-{cell}-seed{seed}.pt"


def load_shipped_runs(directory: str | Path, cells: Sequence[str] = tuple(CELL_LABELS),
                      seeds: Sequence[int] = SHIPPED_SEEDS,
                      device: str | torch.device | None = "cpu") -> CellComparison:
    """The shipped checkpoints of `directory` as a `CellComparison` of their recorded numbers
    (`runs[label]` holds the loaded models, with their `metrics`)."""
    comparison = CellComparison(seeds=list(seeds))
    for cell in cells:
        label = CELL_LABELS[cell]
        loaded = [load_language_model(Path(directory) / shipped_checkpoint_name(cell, seed),
                                      device=device) for seed in seeds]
        comparison.runs[label] = loaded
        comparison.test_bpc[label] = [float(model.metrics["test_bpc"]) for model in loaded]
        comparison.valid_bpc[label] = [float(model.metrics["best_valid_bpc"]) for model in loaded]
        comparison.parameters[label] = loaded[0].model.num_parameters()
    return comparison
