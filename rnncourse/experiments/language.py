"""Chapter 6, case study 1: a character-level language model on a real book.

The model reads a corpus one character at a time and predicts the next one; its quality is the
average number of bits it needs per character of held-out text,

    bpc = -(1/N) Σ_t log2 p(x_{t+1} | x_{≤t}) = cross-entropy in nats / ln 2,

which is what an ideal arithmetic coder driven by the model would spend. The pieces:

- `prepare_corpus`: one vocabulary, contiguous train / validation / test parts;
- `ngram_bits_per_character`: unigram, bigram, ... counts with add-k smoothing, the baselines
  (with the bpc metrics, in `rnncourse.experiments.language_metrics`);
- `train_language_model`: truncated BPTT with the state carried across chunks (or random
  windows, for a text too short for that), gradient-norm clipping, a learning rate halved when
  validation bpc stops improving, early stopping that keeps the best weights, all through the
  course's one fit loop;
- `sample`: text from the model, primed with a string, at a chosen temperature;
- `save_language_model` / `load_language_model`: checkpoints with their vocabulary and
  settings, loadable on any device.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnncourse.data.text import BPTTBatches, CharVocabulary, load_text, split_text
from rnncourse.experiments.language_metrics import (
    LN2,
    bits_per_character,
    evaluate_bits_per_character,
    ngram_baselines,
    ngram_bits_per_character,
)
from rnncourse.models.char_lm import CarriedState, CharLanguageModel
from rnncourse.models.init import set_forget_gate_bias
from rnncourse.runtime import resolve_device, seeded_generator
from rnncourse.training import History, fit

__all__ = [
    "CorpusSplits",
    "LanguageModelRun",
    "LanguageModelSettings",
    "LoadedLanguageModel",
    "bits_per_character",
    "evaluate_bits_per_character",
    "load_language_model",
    "ngram_baselines",
    "ngram_bits_per_character",
    "prepare_corpus",
    "random_window_batches",
    "round_weights_to_half",
    "sample",
    "sample_next",
    "save_language_model",
    "train_language_model",
]

WINDOWS = ("contiguous", "random")


# ----------------------------------------------------------------------------------------------
# Data


@dataclass
class CorpusSplits:
    """A corpus as ids: its vocabulary and three contiguous parts."""

    name: str
    vocabulary: CharVocabulary
    train: Tensor
    valid: Tensor
    test: Tensor


def prepare_corpus(
    corpus: str = "pride_and_prejudice",
    fractions: tuple[float, float, float] = (0.9, 0.05, 0.05),
    max_characters: int | None = None,
    vocabulary: CharVocabulary | None = None,
) -> CorpusSplits:
    """Encode corpus `corpus` and cut it into train, validation and test parts (in that order).

    The vocabulary is built from the whole text unless one is given (a model that is to be
    fine-tuned keeps its own); the test part is the end of the book, never seen in training.
    """
    text = load_text(corpus, max_characters)
    vocabulary = vocabulary if vocabulary is not None else CharVocabulary.from_text(text)
    train, valid, test = split_text(vocabulary.encode(text), fractions)
    return CorpusSplits(corpus, vocabulary, train, valid, test)


def random_window_batches(
    stream: Tensor,
    batch_size: int,
    seq_len: int,
    *,
    seed: int | None = None,
    device: str | torch.device | None = None,
) -> Callable[[int], tuple[Tensor, Tensor]]:
    """`step -> (inputs, targets)`: `batch_size` windows of `seq_len` + 1 consecutive ids from
    random places in `stream`; targets are the inputs shifted by one character.

    Unlike truncated BPTT over contiguous rows, this works however short the stream is (a
    few thousand characters), and every step sees fresh places in it.
    """
    if not isinstance(stream, Tensor) or stream.dim() != 1:
        raise ValueError("stream must be a 1-D tensor of ids")
    if len(stream) < seq_len + 2:
        raise ValueError(f"stream has {len(stream)} ids, fewer than seq_len + 2 = {seq_len + 2}")
    device = resolve_device(device)
    generator = seeded_generator(seed, torch.device("cpu"))
    offsets = torch.arange(seq_len + 1)

    def next_batch(step: int) -> tuple[Tensor, Tensor]:
        starts = torch.randint(len(stream) - seq_len, (batch_size, 1), generator=generator)
        rows = stream[starts + offsets]  # (B, T + 1)
        return rows[:, :-1].to(device), rows[:, 1:].to(device)

    return next_batch


def _carried_chunks(
    stepper: CarriedState, stream: Tensor, batch_size: int, seq_len: int, *, seed: int,
    device: torch.device,
) -> Callable[[int], tuple[Tensor, Tensor]]:
    """`step -> (inputs, targets)`: the chunks of `BPTTBatches` in order, pass after pass. Each
    pass starts at a random offset below `seq_len` (new chunk boundaries every time) and resets
    the stepper's carried state, since its rows jump back to their beginnings."""
    offsets = seeded_generator(seed, torch.device("cpu"))
    chunks = iter(())

    def next_chunk(step: int) -> tuple[Tensor, Tensor]:
        nonlocal chunks
        chunk = next(chunks, None)
        if chunk is None:  # a new pass: new chunk boundaries, rows start again from zero state
            offset = int(torch.randint(seq_len, (1,), generator=offsets))
            chunks = iter(BPTTBatches(stream, batch_size, seq_len, offset=offset, device=device))
            stepper.reset()
            chunk = next(chunks)
        return chunk

    return next_chunk


# ----------------------------------------------------------------------------------------------
# Training


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


def _next_character_loss(logits: Tensor, targets: Tensor) -> Tensor:
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
        batches = _carried_chunks(stepper, splits.train, settings.batch_size, settings.seq_len,
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
        stepper, next_batch, _next_character_loss, steps=settings.max_steps, optimizer=optimizer,
        clip_norm=settings.clip_norm, device=device, seed=settings.seed, progress=progress,
        evaluate=validate, eval_every=settings.eval_every,
    )
    if run.history.eval_step:  # the step after which the best weights were measured
        run.best_step = run.history.eval_step[run.valid_bpc.index(run.best_valid_bpc)]
    model.load_state_dict(best_weights)
    run.test_bpc = evaluate_bits_per_character(model, splits.test, device=device)
    return run


# ----------------------------------------------------------------------------------------------
# Sampling


def sample_next(
    logits: Tensor, temperature: float = 1.0, generator: torch.Generator | None = None
) -> Tensor:
    """Draw one id per row from softmax(logits / temperature); temperature 0 takes the argmax.

    logits (B, V) -> ids (B,). Below 1 the distribution sharpens towards its mode (safer, more
    repetitive text), above 1 it flattens towards uniform (more surprising, more misspelt).
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    probabilities = torch.softmax(logits.float() / temperature, dim=-1)  # p_i ∝ exp(z_i / τ)
    return torch.multinomial(probabilities, 1, generator=generator).squeeze(-1)


@torch.no_grad()
def sample(
    model: CharLanguageModel,
    vocabulary: CharVocabulary,
    prime: str = "\n",
    length: int = 200,
    temperature: float = 1.0,
    seed: int | None = 0,
    device: str | torch.device | None = None,
) -> str:
    """`length` characters generated after `prime` (which is read first and not repeated)."""
    if not prime:
        raise ValueError("prime must hold at least one character (the model needs a first input)")
    device = resolve_device(device) if device is not None else model.device
    generator = seeded_generator(seed, device)
    was_training = model.training
    model.eval()
    logits, state = model(vocabulary.encode(prime).to(device)[None, :], None)
    generated = []
    for _ in range(length):
        next_id = sample_next(logits[:, -1, :], temperature, generator)  # (1,)
        generated.append(int(next_id))
        logits, state = model(next_id[:, None], state)
    model.train(was_training)
    return vocabulary.decode(generated)


# ----------------------------------------------------------------------------------------------
# Checkpoints


@dataclass
class LoadedLanguageModel:
    model: CharLanguageModel
    vocabulary: CharVocabulary
    settings: LanguageModelSettings
    metrics: dict[str, Any]


@torch.no_grad()
def round_weights_to_half(model: CharLanguageModel) -> CharLanguageModel:
    """Round every floating-point weight to float16 and back, in place: the model exactly as
    `save_language_model(..., half=True)` stores it, so that scores measured now are the file's."""
    for value in model.state_dict().values():
        if value.is_floating_point():
            value.copy_(value.half().float())
    return model


def save_language_model(
    path: str | os.PathLike,
    model: CharLanguageModel,
    vocabulary: CharVocabulary,
    settings: LanguageModelSettings | None = None,
    metrics: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Weights, vocabulary, sizes, settings and metrics in one file.

    `half=True` stores the weights as float16 (half the bytes; they are read back as float32),
    which is how the book's checkpoints stay small.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = {name: (value.detach().cpu().half() if half and value.is_floating_point()
                      else value.detach().cpu())
               for name, value in model.state_dict().items()}
    torch.save({
        "format": "rnncourse-char-lm/1",
        "config": model.config.to_dict(),
        "vocabulary": vocabulary.state_dict(),
        "settings": (settings or LanguageModelSettings()).to_dict(),
        "metrics": _plain(metrics or {}),
        "model": weights,
    }, path)
    return path


def load_language_model(
    path: str | os.PathLike, device: str | torch.device | None = None
) -> LoadedLanguageModel:
    """A checkpoint of `save_language_model`, read onto the CPU first (`map_location`), so one
    saved on a GPU loads anywhere, then moved to `device` (CUDA when present by default)."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if checkpoint.get("format") != "rnncourse-char-lm/1":
        raise ValueError(f"{path} is not a checkpoint written by save_language_model")
    model = CharLanguageModel.from_config(checkpoint["config"], device="cpu")
    model.load_state_dict({name: value.float() if value.is_floating_point() else value
                           for name, value in checkpoint["model"].items()})
    model.to(resolve_device(device))
    return LoadedLanguageModel(
        model, CharVocabulary.from_state_dict(checkpoint["vocabulary"]),
        LanguageModelSettings.from_dict(checkpoint["settings"]), checkpoint["metrics"],
    )


def _plain(value: Any) -> Any:
    """Numbers, strings, lists and dicts only (what `torch.load(weights_only=True)` accepts)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (np.generic, Tensor)):
        return value.item()
    return str(value)
