"""Chapter 5, transfer learning: the experiments behind the page.

- Text. A character-level LSTM language model pretrained on a large corpus (the King James
  Bible, by `rnncourse pretrain language`; the book ships the result as a small checkpoint) is
  fine-tuned on a small corpus of another domain (Bierce's Devil's Dictionary), against the same
  network trained from scratch on it: bits per character against the amount of target text
  (`run_text_transfer`), and ways of fine-tuning (all layers, lower layers frozen, only the
  head, discriminative learning rates).
- Time series: `series_transfer.py`.

The text models all read one fixed alphabet (`rnncourse.training.language.ascii_vocabulary`), so
a model trained on one corpus can read, and be fine-tuned on, any other English text.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from rnncourse.chapters.ch05_curriculum_transfer.strategies import mean_and_std
from rnncourse.data.text import load_text, split_text
from rnncourse.data.vocabulary import CharVocabulary
from rnncourse.models.char_lm import CharLanguageModel
from rnncourse.runtime import resolve_device
from rnncourse.training.language import (
    CorpusSplits,
    LanguageModelSettings,
    evaluate_bits_per_character,
    load_language_model,
    train_language_model,
)
from rnncourse.training.transfer import (
    discriminative_parameter_groups,
    freeze,
    trainable_parameter_count,
)

__all__ = [
    "FINE_TUNING_STRATEGIES",
    "FineTuneRun",
    "TextTransferResult",
    "fine_tune_language_model",
    "model_to_fine_tune",
    "run_text_transfer",
    "target_splits",
    "whitespace_cost",
]

LN2 = math.log(2.0)


def target_splits(corpus: str, vocabulary: CharVocabulary) -> CorpusSplits:
    """A corpus encoded with `vocabulary`, cut 90 / 5 / 5 into train, validation and test."""
    train, valid, test = split_text(vocabulary.encode(load_text(corpus)), (0.9, 0.05, 0.05))
    return CorpusSplits(corpus, vocabulary, train, valid, test)


# ----------------------------------------------------------------------------------------------
# Fine-tuning on a small corpus


@dataclass
class FineTuneRun:
    """One model trained on the target corpus: validation bpc over training and test bpc of
    the weights that were best on validation."""

    label: str
    train_characters: int
    eval_step: list[int]
    valid_bpc: list[float]
    test_bpc: float
    trainable_parameters: int
    seconds: float
    seed: int = 0

    @property
    def best_valid_bpc(self) -> float:
        return min(self.valid_bpc)


def fine_tune_language_model(
    model: CharLanguageModel,
    splits: CorpusSplits,
    *,
    label: str,
    train_characters: int | None = None,
    parameter_groups: list[dict[str, Any]] | None = None,
    lr: float = 3e-3,
    steps: int = 100,
    eval_every: int = 20,
    batch_size: int = 16,
    seq_len: int = 32,
    clip_norm: float = 1.0,
    device: str | torch.device | None = None,
    seed: int = 0,
) -> FineTuneRun:
    """Train `model` (in place) on the first `train_characters` of `splits.train` for `steps`
    Adam steps on random windows; keep the weights best on validation; score them on test.

    This is chapter 6's `train_language_model` with random windows (the target text may be
    only a few thousand characters), the whole validation part, and every step taken at the
    learning rates set: no decay and no early stopping, any gain on validation counts. Frozen
    parameters (`rnncourse.training.transfer.freeze`) stay as they are. `parameter_groups` (e.g.
    `discriminative_parameter_groups(model, lr)`) set a learning rate per layer; without them
    every trainable parameter gets `lr`.
    """
    train = splits.train[:train_characters] if train_characters else splits.train
    settings = LanguageModelSettings(
        corpus=splits.name, batch_size=batch_size, seq_len=seq_len, lr=lr, clip_norm=clip_norm,
        max_steps=steps, eval_every=eval_every, patience=None, lr_decay=1.0,
        min_improvement=0.0, windows="random", eval_characters=None, seed=seed,
    )

    def adam(model: CharLanguageModel) -> torch.optim.Optimizer:
        trainable = [p for p in model.parameters() if p.requires_grad]
        return torch.optim.Adam(parameter_groups or [{"params": trainable}], lr=lr)

    run = train_language_model(settings, splits=dataclasses.replace(splits, train=train),
                               model=model, build_optimizer=adam, device=device)
    return FineTuneRun(label, len(train), run.history.eval_step, run.valid_bpc, run.test_bpc,
                       trainable_parameter_count(model), run.history.seconds, seed)


def model_to_fine_tune(
    pretrained: CharLanguageModel, frozen: Sequence[str], decay: float | None, lr: float
) -> tuple[CharLanguageModel, list[dict[str, Any]] | None]:
    """A copy of `pretrained` to fine-tune, and its optimizer's parameter groups (None: one
    learning rate `lr` for every trainable parameter):

    - the layers named in `frozen` (`layer_names(model)`, e.g. "embedding", "rnn.l0") keep
      their pretrained weights;
    - with `decay`, every layer learns at its own rate, lr_l = lr / decay^(L-1-l), the top one
      (the head) at `lr` (discriminative fine-tuning, Howard and Ruder 2018).
    """
    model = copy.deepcopy(pretrained)
    if frozen:
        freeze(model, frozen)  # requires_grad = False: no gradient, no update
    groups = discriminative_parameter_groups(model, lr, decay) if decay else None
    return model, groups


# Ways of fine-tuning compared on the page: which layers are frozen, and how learning rates go.
FINE_TUNING_STRATEGIES = {
    "all layers, one learning rate": {"frozen": [], "decay": None},
    "discriminative learning rates": {"frozen": [], "decay": 2.6},
    "lower layers frozen": {"frozen": ["embedding", "rnn.l0"], "decay": None},
    "only the head": {"frozen": ["embedding", "rnn"], "decay": None},
}
SCRATCH, FINE_TUNED = "from scratch", "all layers, one learning rate"


@torch.no_grad()
def whitespace_cost(model: CharLanguageModel, vocabulary: CharVocabulary, stream: Tensor
                    ) -> dict[str, float]:
    """Where a model's bits go on `stream`: the share of the characters that are spaces or
    line breaks, the share of all bits spent predicting them, and the bpc of the rest."""
    was_training = model.training
    model.eval()
    logits, _ = model(stream[:-1].unsqueeze(0).to(model.device))
    bits = F.cross_entropy(logits[0], stream[1:].to(model.device), reduction="none").cpu() / LN2
    model.train(was_training)
    targets = stream[1:]
    whitespace = (targets == vocabulary.index[" "]) | (targets == vocabulary.index["\n"])
    return {"characters": float(whitespace.float().mean()),
            "bits": float(bits[whitespace].sum() / bits.sum()),
            "bpc_without": float(bits[~whitespace].mean())}


@dataclass
class TextTransferResult:
    """Every run of `run_text_transfer`: for each seed, scratch and fine-tuned at every amount of
    target text, and each way of fine-tuning at `strategies_size`. Statistics over seeds are
    (mean, sample standard deviation)."""

    source_corpus: str
    target_corpus: str
    train_sizes: list[int]
    strategies_size: int
    steps: int
    zero_shot_bpc: float  # the pretrained model on the target's test part, before fine-tuning
    zero_shot_whitespace: dict[str, float] = field(default_factory=dict)
    runs: list[FineTuneRun] = field(default_factory=list)
    batch_size: int = 0
    seq_len: int = 0
    test_characters: int = 0  # how many characters of the test part every model is scored on
    seeds: list[int] = field(default_factory=list)

    def runs_of(self, label: str, train_characters: int) -> list[FineTuneRun]:
        """The runs of `label` with `train_characters`, one per seed."""
        runs = [run for run in self.runs
                if run.label == label and run.train_characters == train_characters]
        if not runs:
            raise KeyError(f"no run {label!r} with {train_characters} characters")
        return runs

    def test_stats(self, label: str, train_characters: int) -> tuple[float, float]:
        """Test bpc of `label` with `train_characters`: (mean, sd) over seeds."""
        return mean_and_std([run.test_bpc for run in self.runs_of(label, train_characters)])

    def gain_stats(self, train_characters: int) -> tuple[float, float]:
        """The gain of fine-tuning, scratch bpc - fine-tuned bpc, seed by seed: (mean, sd)."""
        scratch, tuned = self.runs_of(SCRATCH, train_characters), self.runs_of(
            FINE_TUNED, train_characters)
        return mean_and_std([a.test_bpc - b.test_bpc for a, b in zip(scratch, tuned, strict=True)])

    def test_bpc(self, label: str) -> list[float]:
        """Mean test bpc of `label` at every train size."""
        return [self.test_stats(label, size)[0] for size in self.train_sizes]

    @property
    def strategy_labels(self) -> list[str]:
        """The runs compared at `strategies_size`: from scratch, then each way of fine-tuning."""
        return [SCRATCH, *FINE_TUNING_STRATEGIES]


def run_text_transfer(
    checkpoint: str | Path,
    *,
    target_corpus: str = "devils_dictionary",
    train_sizes: Sequence[int] = (3_000, 30_000, 300_000),
    strategies_size: int = 3_000,
    steps: int = 100,
    eval_every: int = 20,
    lr: float = 3e-3,
    fine_tune_lr: float = 3e-3,
    decay: float = 2.6,
    batch_size: int = 16,
    seq_len: int = 32,
    valid_characters: int | None = 4_000,
    test_characters: int | None = 10_000,
    seeds: Sequence[int] = (0, 1, 2),
    device: str | torch.device | None = None,
    seed: int = 0,
) -> TextTransferResult:
    """The pretrained model of `checkpoint` against the same network from scratch on
    `target_corpus`, for each amount of target text in `train_sizes`; at `strategies_size`,
    also each way of fine-tuning in `FINE_TUNING_STRATEGIES`; all of it once per seed
    (`seed + s` for s in `seeds`).

    Every run has the same number of `steps`, batch and window length, and keeps the weights
    best on (the first `valid_characters` of) the target's validation part; all are scored on
    the first `test_characters` of the target's test part (None: all of it). The pretrained
    start is the same for every seed: a seed sets the order of the windows and the scratch
    model's initial weights.
    """
    if not seeds or not train_sizes:
        raise ValueError(f"seeds and train_sizes must be non-empty, got seeds={seeds!r}, "
                         f"train_sizes={train_sizes!r}")
    device = resolve_device(device)
    loaded = load_language_model(checkpoint, device=device)
    pretrained, vocabulary = loaded.model, loaded.vocabulary
    splits = target_splits(target_corpus, vocabulary)
    if valid_characters:
        splits.valid = splits.valid[:valid_characters]
    if test_characters:
        splits.test = splits.test[:test_characters]
    sizes = sorted(set(train_sizes) | {strategies_size})
    run_seeds = [seed + s for s in seeds]
    result = TextTransferResult(loaded.settings.corpus, target_corpus, list(train_sizes),
                                strategies_size, steps,
                                evaluate_bits_per_character(pretrained, splits.test),
                                whitespace_cost(pretrained, vocabulary, splits.test),
                                batch_size=batch_size, seq_len=seq_len,
                                test_characters=len(splits.test), seeds=run_seeds)
    for run_seed in run_seeds:
        common = {"steps": steps, "eval_every": eval_every, "batch_size": batch_size,
                  "seq_len": seq_len, "device": device, "seed": run_seed}
        for size in sizes:
            scratch = CharLanguageModel.from_config(pretrained.config, device=device,
                                                    seed=run_seed)
            result.runs.append(fine_tune_language_model(
                scratch, splits, label=SCRATCH, train_characters=size, lr=lr, **common))
            labels = FINE_TUNING_STRATEGIES if size == strategies_size else [FINE_TUNED]
            for label in labels:
                recipe = FINE_TUNING_STRATEGIES[label]
                model, groups = model_to_fine_tune(pretrained, recipe["frozen"],
                                                   decay if recipe["decay"] else None,
                                                   fine_tune_lr)
                result.runs.append(fine_tune_language_model(
                    model, splits, label=label, train_characters=size,
                    parameter_groups=groups, lr=fine_tune_lr, **common))
    return result
