"""Chapter 2, part 2: normalisation and initialisation, each measured on several seeds.

* `run_normalization_comparison`: plain, layer-norm and recurrent batch-norm LSTMs on the 8×8
  digits read a few pixels at a time, in order and permuted (the offline stand-in for
  Cooijmans et al.'s sequential and permuted MNIST, Table 1, quoted in `COOIJMANS_TABLE_1`).
  Each model runs every reading order and seed as one stacked model (`Ensemble` of the
  from-scratch cells, Python loops over time): here that is faster than torch's fused LSTM
  kernel run six times, one model after the other.
* `run_initialization_comparison`: default, orthogonal and identity (IRNN, Le et al. 2015)
  recurrent weights: gradients through time at initialisation, then training (one ensemble per
  cell type, `adding_sweeps.train_adding_members`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnncourse.chapters.ch02_exploding_gradients.adding_sweeps import (
    AddingMember,
    train_adding_members,
)
from rnncourse.chapters.ch02_exploding_gradients.divergence import TrainingRun
from rnncourse.data.digits import DigitSequences, load_digit_sequences
from rnncourse.data.synthetic import AddingTask
from rnncourse.models import (
    RecurrentBatchNorm,
    initialize_recurrent_weights,
    normalized_lstm_model,
)
from rnncourse.models.ensemble import Ensemble
from rnncourse.runtime import resolve_device
from rnncourse.training import History
from rnncourse.training.diagnostics import decay_rate_per_step, hidden_state_gradient_norms
from rnncourse.training.diagnostics import spectral_radius as spectral_radius_of
from rnncourse.training.ensemble_fit import fit_ensemble
from rnncourse.training.task_training import build_task_model

__all__ = [
    "COOIJMANS_TABLE_1",
    "INITIALIZATIONS",
    "InitializationRun",
    "NormalizationRun",
    "read_digits",
    "run_initialization_comparison",
    "run_normalization_comparison",
    "set_population_statistics_",
]

# Test accuracy (%) on MNIST read pixel by pixel (784 steps), Cooijmans et al. 2016, Table 1.
COOIJMANS_TABLE_1 = {
    "pixels": {"none": 98.9, "batch": 99.0},
    "permuted": {"none": 90.2, "batch": 95.4},
}

# --------------------------------------------------------------------------------------------
# Normalisation


@dataclass
class NormalizationRun:
    """One LSTM ("none", "layer" or "batch" normalised) trained on digits in one `order`."""

    normalization: str
    order: str
    seed: int
    history: History
    test_accuracy: float

    def final_loss(self, window: int = 20) -> float:
        """Mean training loss over the last `window` steps."""
        last = self.history.loss[-window:]
        return sum(last) / len(last)


def read_digits(order: str, pixels_per_step: int = 1, device: torch.device | None = None
                ) -> DigitSequences:
    """The digits in `order` ("pixels" or "permuted"; the split of seed 0), read
    `pixels_per_step` pixels at a time: T = 64 / pixels_per_step steps of that many inputs."""
    if order not in ("pixels", "permuted", "rows"):
        raise ValueError(f"order must be 'pixels', 'permuted' or 'rows', got {order!r}")
    data = load_digit_sequences(order, seed=0, device=device)
    if pixels_per_step == 1 or order == "rows":
        return data
    pixels = data.train_inputs.shape[1] * data.train_inputs.shape[2]
    if isinstance(pixels_per_step, bool) or not isinstance(pixels_per_step, int) or (
            pixels_per_step < 1 or pixels % pixels_per_step):
        raise ValueError(f"pixels_per_step must divide {pixels}, got {pixels_per_step!r}")
    shape = (pixels // pixels_per_step, pixels_per_step)
    return DigitSequences(data.train_inputs.reshape(-1, *shape), data.train_targets,
                          data.test_inputs.reshape(-1, *shape), data.test_targets, order)


def _accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    return (logits.argmax(dim=-1) == targets).float().mean().item()


def run_normalization_comparison(
    orders: tuple[str, ...] = ("pixels", "permuted"),
    normalizations: tuple[str, ...] = ("none", "layer", "batch"),
    hidden_size: int = 32,
    steps: int = 100,
    batch_size: int = 32,
    lr: float = 1e-2,
    clip_norm: float | None = 1.0,
    pixels_per_step: int = 2,
    seed: int = 0,
    num_seeds: int = 3,
    device: str | torch.device | None = None,
) -> dict[tuple[str, str], list[NormalizationRun]]:
    """Train each normalisation on each reading order with each seed (Adam, `lr`, clipping at
    `clip_norm`); keyed by (order, normalization), one run per seed. Under one seed every model
    starts from the same LSTM weights and sees the same batches (from a generator seeded with
    seed + 1). Test accuracy is measured once, after the last step."""
    device = resolve_device(device)
    data = {order: read_digits(order, pixels_per_step, device) for order in orders}
    seeds = range(seed, seed + num_seeds)
    members = [(order, s) for order in orders for s in seeds]
    results: dict[tuple[str, str], list[NormalizationRun]] = {}
    for normalization in normalizations:
        models = [normalized_lstm_model(
            normalization, input_size=data[order].input_size, hidden_size=hidden_size,
            output_size=data[order].num_classes, max_steps=data[order].seq_len, device=device,
            seed=member_seed,
        ) for order, member_seed in members]  # fmt: skip
        histories, accuracies = _train_stacked(models, members, data, batch_size, steps, lr,
                                               clip_norm)
        for (order, member_seed), history, accuracy in zip(members, histories, accuracies,
                                                           strict=True):
            results.setdefault((order, normalization), []).append(
                NormalizationRun(normalization, order, member_seed, history, accuracy))
    return results


def _train_stacked(models, members, data, batch_size, steps, lr, clip_norm):
    """`fit_ensemble` for the normalised LSTMs of all (order, seed) members at once, each on
    its own batches; then test accuracy in evaluation mode."""
    ensemble = Ensemble(models)
    streams = [data[order].batches(batch_size, seed=s + 1) for order, s in members]

    def batches(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        drawn = [stream(step) for stream in streams]
        return torch.stack([x for x, _ in drawn]), torch.stack([y for _, y in drawn])

    def member_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        losses = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none")
        return losses.view(len(members), -1).mean(1)

    run = fit_ensemble(ensemble, batches, member_losses, steps=steps, optimizer="adam", lr=lr,
                       clip_norm=clip_norm, per_member_inputs=True)
    accuracies = []
    for k, (order, _) in enumerate(members):
        model = ensemble.member(k)
        set_population_statistics_(model, data[order].train_inputs)
        model.eval()
        with torch.no_grad():
            accuracies.append(_accuracy(model(data[order].test_inputs), data[order].test_targets))
    return run.histories, accuracies


def set_population_statistics_(model: torch.nn.Module, inputs: torch.Tensor) -> None:
    """Set the running statistics of every `RecurrentBatchNorm` in `model` to the statistics of
    `inputs` (the whole training set), step by step: one forward pass in training mode with
    momentum 1, so that running ← the batch statistic of that pass.

    A stacked model does not keep the running averages a single model updates in place during
    training (`vmap` runs the forward pass on copies of the buffers), so the members of an
    `Ensemble` get their population statistics this way after training. Other models are left
    alone."""
    norms = [module for module in model.modules() if isinstance(module, RecurrentBatchNorm)]
    if not norms:
        return
    momenta = [norm.momentum for norm in norms]
    was_training = model.training
    for norm in norms:
        norm.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(inputs)
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    model.train(was_training)


# --------------------------------------------------------------------------------------------
# Initialisation

# label -> (cell, scheme of initialize_recurrent_weights)
INITIALIZATIONS = {
    "tanh, default": ("rnn_tanh", "default"),
    "tanh, orthogonal": ("rnn_tanh", "orthogonal"),
    "IRNN (ReLU, identity)": ("rnn_relu", "identity"),
}


@dataclass
class InitializationRun:
    """One initialisation and seed: ρ(W_hh) and ‖∂L/∂h_t‖ at the start, then a training run."""

    label: str
    cell: str
    scheme: str
    seed: int
    initial_spectral_radius: float
    gradient_norms_at_init: torch.Tensor  # (T,), ‖∂L/∂h_t‖ for t = 1..T
    decay_per_step: float  # factor lost per step back in time, fitted in log space
    run: TrainingRun

    @property
    def gradient_ratio(self) -> float:
        """‖∂L/∂h_1‖ / ‖∂L/∂h_T‖: how much of the gradient reaches the first step."""
        return (self.gradient_norms_at_init[0] / self.gradient_norms_at_init[-1]).item()


def run_initialization_comparison(
    initializations: dict[str, tuple[str, str]] | None = None,
    seq_len: int = 30,
    hidden_size: int = 32,
    steps: int = 300,
    optimizer: str = "rmsprop",
    lr: float = 1e-3,
    clip_norm: float | None = 1.0,
    seed: int = 0,
    num_seeds: int = 3,
    device: str | torch.device | None = None,
) -> dict[str, list[InitializationRun]]:
    """For each (cell, scheme) and seed: measure ‖∂L/∂h_t‖ through time on one batch of the
    adding problem at initialisation, then train on it (RMSProp 1e-3, clipping at 1, as
    Arjovsky et al. 2016). Keyed by label, one run per seed."""
    initializations = initializations or INITIALIZATIONS
    device = resolve_device(device)
    seeds = range(seed, seed + num_seeds)
    task = AddingTask(seq_len)
    runs: dict[tuple[str, int], TrainingRun] = {}
    for cell in dict.fromkeys(cell for cell, _ in initializations.values()):
        members = [AddingMember(label, s, lr=lr, clip_norm=clip_norm, init=scheme,
                                spectral_radius=None)
                   for label, (c, scheme) in initializations.items() if c == cell
                   for s in seeds]
        trained = train_adding_members(members, cell=cell, seq_len=seq_len,
                                       hidden_size=hidden_size, steps=steps,
                                       optimizer=optimizer, device=device)
        runs.update({(run.label, run.settings["seed"]): run for run in trained})
    results: dict[str, list[InitializationRun]] = {}
    for label, (cell, scheme) in initializations.items():
        for s in seeds:
            inputs, targets = task.sample(64, seed=s + 100, device=device)
            model = build_task_model(cell, task, hidden_size, forget_gate_bias=None,
                                     backend="rnncourse", device=device, seed=s)
            initialize_recurrent_weights(model, scheme, seed=s)
            norms = hidden_state_gradient_norms(model, inputs, targets, task.loss).hidden
            positive = norms[norms > 0]
            decay = (decay_rate_per_step(positive.flip(0)) if positive.numel() > 1
                     else math.nan)
            results.setdefault(label, []).append(InitializationRun(
                label=label, cell=cell, scheme=scheme, seed=s,
                initial_spectral_radius=spectral_radius_of(model.rnn.weight_hh_l0),
                gradient_norms_at_init=norms, decay_per_step=decay, run=runs[label, s],
            ))  # fmt: skip
    return results
