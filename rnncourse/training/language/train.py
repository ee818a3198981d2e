"""Training a character-level language model with truncated backpropagation through time.

Each optimiser step reads one (B, T) chunk of the training text from the detached final state of
the previous chunk (`CarriedState`, `carried_chunks`), computes the next-character loss, clips
the gradient and updates: `rnncourse.training.fit`'s `training_step`. Around it,
`train_language_model` halves the learning rate when validation bits per character stop
improving, stops early, and keeps the best weights.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from rnncourse.data.vocabulary import CharVocabulary
from rnncourse.models.char_lm import CarriedState, CharLanguageModel
from rnncourse.models.init import set_forget_gate_bias
from rnncourse.runtime import resolve_device
from rnncourse.training.history import History
from rnncourse.training.language.corpus import (
    CorpusSplits,
    carried_chunks,
    prepare_corpus,
    random_window_batches,
)
from rnncourse.training.language.metrics import LN2, evaluate_bits_per_character
from rnncourse.training.loop import fit

__all__ = [
    "LanguageModelRun",
    "LanguageModelSettings",
    "next_character_loss",
    "train_language_model",
]

WINDOWS = ("contiguous", "random")


@dataclass
class LanguageModelSettings:
    """Everything that defines one training run (the CLI's options have the same names)."""

    corpus: str = "pride_and_prejudice"
    cell: str = "lstm"
    embedding_dim: int = 32
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.0
    forget_bias: float | None = None
    batch_size: int = 32
    seq_len: int = 64
    lr: float = 3e-3
    clip_norm: float = 1.0
    max_steps: int = 300
    eval_every: int = 50
    patience: int | None = 3  # None: never stop early
    lr_decay: float = 0.5  # 1: keep the learning rate
    min_improvement: float = 1e-4  # how far validation bpc must fall to count as better
    windows: str = "contiguous"  # or "random" (see `train_language_model`)
    max_characters: int | None = None
    eval_characters: int | None = 20_000
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LanguageModelSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass
class LanguageModelRun:
    """What `train_language_model` returns: the best model (by validation bpc) and its record.

    `history` is the fit loop's (`history.loss` in nats per character, per step);
    `valid_bpc[j]` was measured after `history.eval_step[j]`, at learning rate `lr[j]`.
    """

    settings: LanguageModelSettings
    model: CharLanguageModel
    vocabulary: CharVocabulary
    history: History
    valid_bpc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_step: int = -1
    best_valid_bpc: float = math.inf
    test_bpc: float = math.nan
    stopped_early: bool = False

    @property
    def parameters(self) -> int:
        return self.model.num_parameters()

    def metrics(self) -> dict[str, Any]:
        """Plain numbers for a metrics file."""
        return {
            "corpus": self.settings.corpus, "cell": self.settings.cell,
            "parameters": self.parameters, "steps": len(self.history.step),
            "best_step": self.best_step, "best_valid_bpc": self.best_valid_bpc,
            "test_bpc": self.test_bpc, "stopped_early": self.stopped_early,
            "seconds": self.history.seconds, "valid_bpc": self.valid_bpc, "lr": self.lr,
            "eval_step": self.history.eval_step,
            "train_bpc": [loss / LN2 for loss in self.history.loss],
        }


def next_character_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """The training loss: mean cross-entropy in nats of the next character, logits (B, T, V)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _check_settings(settings: LanguageModelSettings) -> None:
    for name in ("batch_size", "seq_len", "max_steps", "eval_every", "patience"):
        value = getattr(settings, name)
        if name == "patience" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if not 0 < settings.lr_decay <= 1:
        raise ValueError(f"lr_decay must lie in (0, 1], got {settings.lr_decay!r}")
    if not settings.min_improvement >= 0:
        raise ValueError(f"min_improvement must be >= 0, got {settings.min_improvement!r}")
    if settings.windows not in WINDOWS:
        raise ValueError(f"windows must be one of {', '.join(WINDOWS)}, got {settings.windows!r}")


def train_language_model(
    settings: LanguageModelSettings | None = None,
    *,
    splits: CorpusSplits | None = None,
    model: CharLanguageModel | None = None,
    build_optimizer: Callable[[CharLanguageModel], torch.optim.Optimizer] | None = None,
    device: str | torch.device | None = None,
    progress: bool | None = False,
    **overrides: Any,
) -> LanguageModelRun:
    """Train a character-level language model with truncated BPTT; keep the best weights.

    Each optimiser step reads one (B, T) chunk, starting from the detached final state of the
    previous chunk (`CarriedState`); with `windows="random"` it reads B windows of T + 1
    characters from random places instead, each from a zero state (`random_window_batches`:
    for a text of a few thousand characters). Gradients are clipped to norm `clip_norm`. Every
    `eval_every` steps the validation bpc is measured (on its first `eval_characters`); when it
    has not fallen by more than `min_improvement`, the learning rate is multiplied by
    `lr_decay`, and after `patience` such evaluations in a row training stops. The weights of
    the best evaluation are restored and scored once on the test part. With `forget_bias` set,
    an LSTM starts with that forget-gate bias (1 keeps the cell's memory open until it learns to
    forget: Gers et al. 2000, Jozefowicz et al. 2015); None keeps torch's initialisation.
    `overrides` change single settings (`hidden_size=64`, ...); `splits` and `model` replace
    the ones the settings would build, and `build_optimizer(model)` the optimiser (Adam at `lr`
    on every parameter): to fine-tune, with frozen layers or a learning rate per layer, say.
    """
    settings = dataclasses.replace(settings or LanguageModelSettings(), **overrides)
    _check_settings(settings)
    device = resolve_device(device)
    splits = splits or prepare_corpus(settings.corpus, max_characters=settings.max_characters)
    if model is None:
        model = CharLanguageModel(
            splits.vocabulary.size, settings.cell, settings.embedding_dim, settings.hidden_size,
            settings.num_layers, settings.dropout, device=device, seed=settings.seed,
        )
        if settings.cell == "lstm" and settings.forget_bias is not None:
            set_forget_gate_bias(model.rnn, settings.forget_bias)
    model.to(device)
    valid = splits.valid[: settings.eval_characters] if settings.eval_characters else splits.valid
    optimizer = (build_optimizer(model) if build_optimizer is not None
                 else torch.optim.Adam(model.parameters(), lr=settings.lr))
    if settings.windows == "contiguous":  # fit trains the model with its state carried
        stepper = CarriedState(model)
        batches = carried_chunks(stepper, splits.train, settings.batch_size, settings.seq_len,
                                  seed=settings.seed, device=device)
    else:
        stepper = model  # every window starts from a zero state
        batches = random_window_batches(splits.train, settings.batch_size, settings.seq_len,
                                        seed=settings.seed, device=device)
    run = LanguageModelRun(settings, model, splits.vocabulary, History())
    best_weights = copy.deepcopy(model.state_dict())
    evaluations_without_gain = 0

    def next_batch(step: int) -> tuple[Tensor, Tensor] | None:
        return None if run.stopped_early else batches(step)  # fit ends when batches run dry

    def validate(_: torch.nn.Module) -> float:
        nonlocal best_weights, evaluations_without_gain
        bpc = evaluate_bits_per_character(model, valid, device=device)
        run.valid_bpc.append(bpc)
        run.lr.append(optimizer.param_groups[0]["lr"])
        if bpc < run.best_valid_bpc - settings.min_improvement:
            run.best_valid_bpc = bpc
            best_weights = copy.deepcopy(model.state_dict())
            evaluations_without_gain = 0
        else:  # a plateau: smaller steps, and eventually stop
            evaluations_without_gain += 1
            for group in optimizer.param_groups:
                group["lr"] *= settings.lr_decay
            if settings.patience is not None and evaluations_without_gain >= settings.patience:
                run.stopped_early = True
        return bpc

    run.history = fit(
        stepper, next_batch, next_character_loss, steps=settings.max_steps, optimizer=optimizer,
        clip_norm=settings.clip_norm, device=device, seed=settings.seed, progress=progress,
        evaluate=validate, eval_every=settings.eval_every,
    )
    if run.history.eval_step:  # the step after which the best weights were measured
        run.best_step = run.history.eval_step[run.valid_bpc.index(run.best_valid_bpc)]
    model.load_state_dict(best_weights)
    run.test_bpc = evaluate_bits_per_character(model, splits.test, device=device)
    return run

