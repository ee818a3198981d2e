"""Chapter 2, part 2: remedies beyond clipping, each measured.

* `run_normalization_comparison`: plain, layer-norm and recurrent batch-norm LSTMs on the
  8×8 digits read one pixel at a time, in order and permuted (the offline stand-in for
  Cooijmans et al.'s sequential and permuted MNIST, Table 1, quoted in `COOIJMANS_TABLE_1`).
* `run_weight_decay`: the adding-problem RNN of `exploding.py` trained with weight decay λ;
  ρ(W_hh), gradient norms and loss along the way.
* `run_initialization_comparison`: default, orthogonal and identity (IRNN, Le et al. 2015)
  recurrent weights: gradients through time at initialisation, then training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnncourse.chapters.ch02_exploding_gradients.divergence import TrainingRun, train_adding_rnn
from rnncourse.data.digits import load_digit_sequences
from rnncourse.data.synthetic import AddingTask
from rnncourse.models import initialize_recurrent_weights, normalized_lstm_model
from rnncourse.runtime import resolve_device
from rnncourse.training import History, fit
from rnncourse.training.diagnostics import decay_rate_per_step, hidden_state_gradient_norms
from rnncourse.training.diagnostics import spectral_radius as spectral_radius_of
from rnncourse.training.task_training import build_task_model

__all__ = [
    "COOIJMANS_TABLE_1",
    "INITIALIZATIONS",
    "InitializationRun",
    "NormalizationRun",
    "run_initialization_comparison",
    "run_normalization_comparison",
    "run_weight_decay",
]

# Test accuracy (%) on MNIST read pixel by pixel (784 steps), Cooijmans et al. 2016, Table 1.
COOIJMANS_TABLE_1 = {
    "pixels": {"none": 98.9, "batch": 99.0},
    "permuted": {"none": 90.2, "batch": 95.4},
}

# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


@dataclass
class NormalizationRun:
    """One LSTM ("none", "layer" or "batch" normalised) trained on digits in one `order`."""

    normalization: str
    order: str
    history: History
    test_accuracy: float
    seconds: float


def _accuracy(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of sequences whose largest logit is the right class (model in eval mode)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        correct = (model(inputs).argmax(dim=-1) == targets).float().mean().item()
    model.train(was_training)
    return correct


def run_normalization_comparison(
    orders: tuple[str, ...] = ("pixels", "permuted"),
    normalizations: tuple[str, ...] = ("none", "layer", "batch"),
    hidden_size: int = 32,
    steps: int = 300,
    batch_size: int = 64,
    lr: float = 3e-3,
    clip_norm: float | None = 1.0,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> dict[tuple[str, str], NormalizationRun]:
    """Train each normalisation on each reading order of the digits (Adam, `lr`, clipping at
    `clip_norm`), from the same initial LSTM weights and on the same batches; keyed by
    (order, normalization). Test accuracy is measured once, after the last step."""
    device = resolve_device(device)
    results = {}
    for order in orders:
        data = load_digit_sequences(order, seed=seed, device=device)
        for normalization in normalizations:
            model = normalized_lstm_model(
                normalization, input_size=data.input_size, hidden_size=hidden_size,
                output_size=data.num_classes, max_steps=data.seq_len, device=device, seed=seed,
                backend="torch",  # the plain LSTM runs on torch's fused kernel: same weights
            )  # fmt: skip
            history = fit(
                model, data.batches(batch_size, seed=seed + 1), F.cross_entropy, steps=steps,
                optimizer="adam", lr=lr, clip_norm=clip_norm, device=device, progress=False,
            )  # fmt: skip
            accuracy = _accuracy(model, data.test_inputs, data.test_targets)
            results[order, normalization] = NormalizationRun(
                normalization, order, history, accuracy, history.seconds
            )
    return results


# --------------------------------------------------------------------------------------------
# Weight decay
# --------------------------------------------------------------------------------------------


def run_weight_decay(
    decays: tuple[float, ...] = (0.0, 1e-3, 1e-2),
    lr: float = 0.1,
    clip_norm: float | None = 1.0,
    initial_spectral_radius: float = 1.2,
    steps: int = 1500,
    seq_len: int = 20,
    track_every: int = 50,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> dict[float, TrainingRun]:
    """The adding-problem RNN (`train_adding_rnn`), W_hh orthogonal with ρ = 1.2 (a start in
    the regime where gradients can explode), trained by SGD with each weight decay λ:
    θ ← θ - lr (g + λ θ). ρ(W_hh) is measured every `track_every` steps; keyed by λ."""
    return {
        decay: train_adding_rnn(
            lr=lr, clip_norm=clip_norm, weight_decay=decay, steps=steps, seq_len=seq_len,
            spectral_radius=initial_spectral_radius, track_spectral_radius_every=track_every,
            label=f"λ = {decay:g}", seed=seed, device=device,
        )  # fmt: skip
        for decay in decays
    }


# --------------------------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------------------------

# label -> (cell, scheme of initialize_recurrent_weights)
INITIALIZATIONS = {
    "tanh, default": ("rnn_tanh", "default"),
    "tanh, orthogonal": ("rnn_tanh", "orthogonal"),
    "IRNN (ReLU, identity)": ("rnn_relu", "identity"),
}


@dataclass
class InitializationRun:
    """One initialisation: ρ(W_hh) and ‖∂L/∂h_t‖ at the start, then a training run."""

    label: str
    cell: str
    scheme: str
    initial_spectral_radius: float
    gradient_norms_at_init: torch.Tensor  # (T,), ‖∂L/∂h_t‖ for t = 1..T
    decay_per_step: float  # factor lost per step back in time, fitted in log space
    run: TrainingRun


def run_initialization_comparison(
    initializations: dict[str, tuple[str, str]] | None = None,
    seq_len: int = 50,
    hidden_size: int = 32,
    steps: int = 1000,
    optimizer: str = "rmsprop",
    lr: float = 1e-3,
    clip_norm: float | None = 1.0,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> dict[str, InitializationRun]:
    """For each (cell, scheme): measure ‖∂L/∂h_t‖ through time on one batch of the adding
    problem at initialisation, then train on it (RMSProp 1e-3, clipping at 1, as Arjovsky et
    al. 2016). Same seed, data and readout for all; keyed by label."""
    initializations = initializations or INITIALIZATIONS
    device = resolve_device(device)
    task = AddingTask(seq_len)
    inputs, targets = task.sample(64, seed=seed + 100, device=device)
    results = {}
    for label, (cell, scheme) in initializations.items():
        # The from-scratch core records every h_t; torch's fused one trains faster.
        model = build_task_model(cell, task, hidden_size, forget_gate_bias=None,
                                 backend="rnncourse", device=device, seed=seed)
        initialize_recurrent_weights(model, scheme, seed=seed)
        norms = hidden_state_gradient_norms(model, inputs, targets, task.loss).hidden
        positive = norms[norms > 0]
        decay = decay_rate_per_step(positive.flip(0)) if positive.numel() > 1 else math.nan
        run = train_adding_rnn(
            lr=lr, clip_norm=clip_norm, seq_len=seq_len, hidden_size=hidden_size, steps=steps,
            cell=cell, init=scheme, spectral_radius=None, optimizer=optimizer, label=label,
            seed=seed, device=device,
        )  # fmt: skip
        results[label] = InitializationRun(
            label=label, cell=cell, scheme=scheme,
            initial_spectral_radius=spectral_radius_of(model.rnn.weight_hh_l0),
            gradient_norms_at_init=norms, decay_per_step=decay, run=run,
        )  # fmt: skip
    return results
