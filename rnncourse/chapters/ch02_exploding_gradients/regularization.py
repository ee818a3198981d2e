"""Chapter 2: regularisation made for recurrent networks, measured on a character model that
overfits.

A one-layer LSTM character model (`regularized_char_language_model`) reads a few thousand
characters of a shipped corpus, far fewer than it can memorise, so that without regularisation
its training loss keeps falling while its validation loss turns back up. Each regulariser of
`rnncourse.models.regularization` is tried alone and all together, from the same initial
weights and on the same batches for a seed. All variants and seeds are members of one stacked
model (`Ensemble`): a member's rates are buffers of its own, so one vmapped forward pass runs
every variant, and `fit_ensemble` trains them together.

`run_regularization_study` returns a `RegularizationStudy`: training and validation bits per
character along the way and at the end, per variant and seed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from rnncourse.data.text import load_text
from rnncourse.data.vocabulary import CharVocabulary
from rnncourse.models.ensemble import Ensemble
from rnncourse.models.regularized_lstm import regularized_char_language_model
from rnncourse.runtime import resolve_device
from rnncourse.training.ensemble_fit import fit_ensemble

__all__ = ["MERITY_TABLE_4", "REGULARIZERS", "RegularizationStudy", "bits_per_character",
           "run_regularization_study"]

# label -> rates of RegularizedLSTM. The last one combines the others in AWD-LSTM's manner
# (variational dropout on inputs and outputs, weight drop on the recurrence) with zoneout, each
# at a lower rate than alone: all four at full strength are too much for this small model.
REGULARIZERS: dict[str, dict[str, float]] = {
    "none": {},
    "dropout": {"dropout": 0.25},
    "variational dropout": {"variational_dropout": 0.25, "recurrent_dropout": 0.25},
    "weight drop": {"weight_drop": 0.5},
    "zoneout": {"zoneout_cell": 0.5, "zoneout_hidden": 0.05},
    "all combined": {"variational_dropout": 0.15, "weight_drop": 0.25, "zoneout_cell": 0.25,
                     "zoneout_hidden": 0.05},
}

# Merity, Keskar and Socher (2018), Table 4: word-level perplexity (validation, test) on Penn
# Treebank of the full AWD-LSTM and with one part removed at a time.
MERITY_TABLE_4 = {
    "AWD-LSTM (all)": (60.0, 57.3),
    "- fine-tuning": (60.7, 58.8),
    "- NT-ASGD": (66.3, 63.7),
    "- variable sequence lengths": (61.3, 58.9),
    "- embedding dropout": (65.1, 62.7),
    "- weight decay": (63.7, 61.0),
    "- AR/TAR": (62.7, 60.3),
    "- full sized embedding": (68.0, 65.6),
    "- weight-dropping": (71.1, 68.9),
}


def bits_per_character(losses: torch.Tensor) -> torch.Tensor:
    """Cross entropy in nats → bits: bpc = L / ln 2."""
    return losses / math.log(2)


@dataclass
class RegularizationStudy:
    """Bits per character of every variant and seed: `valid_bpc[label][s]` is the list measured
    after each of `eval_steps` (1-based: the number of updates made), likewise `train_bpc`
    (measured on the training text in evaluation mode, without the regularisers)."""

    labels: list[str]
    seeds: list[int]
    eval_steps: list[int]
    train_bpc: dict[str, list[list[float]]] = field(default_factory=dict)
    valid_bpc: dict[str, list[list[float]]] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    def final(self, label: str, split: str = "valid") -> list[float]:
        """The last measurement of every seed."""
        curves = self.valid_bpc if split == "valid" else self.train_bpc
        return [curve[-1] for curve in curves[label]]

    def best(self, label: str) -> list[float]:
        """The lowest validation bpc of every seed along the way."""
        return [min(curve) for curve in self.valid_bpc[label]]

    def mean(self, label: str, split: str = "valid") -> float:
        return statistics.fmean(self.final(label, split))

    def spread(self, label: str, split: str = "valid") -> float:
        """Standard deviation over seeds of the final bpc."""
        values = self.final(label, split)
        return statistics.stdev(values) if len(values) > 1 else 0.0

    def gap(self, label: str) -> float:
        """Mean over seeds of validation minus training bpc at the end: the overfitting."""
        return self.mean(label, "valid") - self.mean(label, "train")


def _windows(ids: torch.Tensor, seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping windows of `seq_len` inputs and their next characters: (N, T) each."""
    count = (len(ids) - 1) // seq_len
    inputs = ids[: count * seq_len].view(count, seq_len)
    targets = ids[1 : count * seq_len + 1].view(count, seq_len)
    return inputs, targets


def run_regularization_study(
    regularizers: Mapping[str, Mapping[str, float]] | None = None,
    *,
    corpus: str = "kjv",
    start: int = 20_000,
    train_characters: int = 1_500,
    valid_characters: int = 2_000,
    embedding_dim: int = 16,
    hidden_size: int = 32,
    batch_size: int = 32,
    seq_len: int = 16,
    steps: int = 200,
    lr: float = 3e-2,
    clip_norm: float = 1.0,
    eval_every: int = 25,
    seed: int = 0,
    num_seeds: int = 3,
    device: str | torch.device | None = None,
) -> RegularizationStudy:
    """Train one LSTM character model per (regulariser, seed), all at once, on `train_characters`
    characters of `corpus` from `start`, and measure bits per character on them and on the
    `valid_characters` that follow, every `eval_every` steps (Adam, clipping at `clip_norm`).

    Batches are `batch_size` windows of `seq_len` characters at random places of the training
    text, from a generator seeded by the seed: the variants of one seed see the same batches
    and start from the same weights. Evaluation reads each text in non-overlapping windows of
    `seq_len`, each from a zero state, in evaluation mode (dropouts off, zoneout's expectation).
    """
    regularizers = dict(REGULARIZERS if regularizers is None else regularizers)
    device = resolve_device(device)
    text = load_text(corpus)[start : start + train_characters + valid_characters]
    vocabulary = CharVocabulary.from_text(text)
    ids = vocabulary.encode(text).to(device)
    train, valid = ids[:train_characters], ids[train_characters:]
    labels, seed_list = list(regularizers), list(range(seed, seed + num_seeds))
    members = [(label, s) for label in labels for s in seed_list]
    models = [regularized_char_language_model(vocabulary.size, embedding_dim, hidden_size,
                                              seed=s, device=device, **regularizers[label])
              for label, s in members]
    ensemble = Ensemble(models)
    generators = {s: torch.Generator().manual_seed(s + 1) for s in seed_list}
    offsets = torch.arange(seq_len + 1)
    member_rows = torch.tensor([seed_list.index(s) for _, s in members], device=device)

    def batches(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        starts = torch.stack([torch.randint(0, len(train) - seq_len - 1, (batch_size,),
                                            generator=generators[s]) for s in seed_list])
        windows = train[(starts[..., None] + offsets).to(device)][member_rows]  # (K, B, T + 1)
        return windows[..., :-1], windows[..., 1:]

    def member_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        losses = F.cross_entropy(logits.flatten(0, -2), targets.flatten(), reduction="none")
        return losses.view(len(members), -1).mean(1)  # mean cross entropy of each member

    evaluation_sets = {"train": _windows(train, seq_len), "valid": _windows(valid, seq_len)}
    measured: dict[str, list[torch.Tensor]] = {"train": [], "valid": []}

    def evaluate(stack: Ensemble) -> torch.Tensor:
        for split, (inputs, targets) in evaluation_sets.items():
            logits = stack(inputs)  # every member reads the same text: (K, N, T, V)
            targets = targets.expand(len(members), *targets.shape)
            measured[split].append(bits_per_character(member_losses(logits, targets)).cpu())
        return measured["valid"][-1]

    run = fit_ensemble(ensemble, batches, member_losses, steps=steps, optimizer="adam", lr=lr,
                       clip_norm=clip_norm, per_member_inputs=True, evaluate=evaluate,
                       eval_every=eval_every)
    study = RegularizationStudy(labels, seed_list, [s + 1 for s in run.histories[0].eval_step])
    study.settings = {"corpus": corpus, "start": start, "train_characters": train_characters,
                      "valid_characters": valid_characters, "vocabulary": vocabulary.size,
                      "embedding_dim": embedding_dim, "hidden_size": hidden_size,
                      "batch_size": batch_size, "seq_len": seq_len, "steps": steps, "lr": lr,
                      "clip_norm": clip_norm, "regularizers": regularizers,
                      "parameters": models[0].num_parameters()}
    for split, target in (("train", study.train_bpc), ("valid", study.valid_bpc)):
        table = torch.stack(measured[split])  # (evaluations, K)
        for k, (label, _) in enumerate(members):
            target.setdefault(label, []).append(table[:, k].tolist())
    return study
