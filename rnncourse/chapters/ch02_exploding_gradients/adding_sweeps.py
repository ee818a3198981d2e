"""Chapter 2: sweeps of small RNNs on the adding problem, every setting and seed trained at once.

A sweep is a list of `AddingMember`s (one setting, one seed each) that share an architecture:
cell, sequence length, hidden size and batch size. They are stacked into one
`rnncourse.models.ensemble.Ensemble` of the from-scratch RNN and trained by
`rnncourse.training.ensemble_fit.fit_ensemble`, each with its own learning rate, clipping,
weight decay and initial W_hh; members of the same seed see the same batches. A run per
member comes back as the `TrainingRun` that `train_adding_rnn` returns for one model, so the
tables and figures read both.

`group_by_label` turns the runs into {label: [run of each seed]}, and `seed_summary` into the
numbers a table shows: mean and standard deviation of the final loss, how many seeds diverged.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from rnncourse.chapters.ch02_exploding_gradients.divergence import TrainingRun, clipping_label
from rnncourse.data.synthetic import AddingTask
from rnncourse.models import initialize_recurrent_weights
from rnncourse.models.ensemble import Ensemble
from rnncourse.runtime import resolve_device
from rnncourse.training.diagnostics import spectral_radius as spectral_radius_of
from rnncourse.training.ensemble_fit import fit_ensemble
from rnncourse.training.task_training import build_task_model, training_batches

__all__ = ["AddingMember", "ClippingSweep", "SeedSummary", "group_by_label",
           "run_clipping_sweep", "seed_summary", "train_adding_members"]


@dataclass(frozen=True)
class AddingMember:
    """One member of a sweep: its label (shared by the seeds of one setting), seed, SGD (or
    RMSProp) learning rate, clipping (by norm or by value, or neither), weight decay λ, and the
    initial W_hh: `initialize_recurrent_weights(init, spectral_radius)`."""

    label: str
    seed: int = 0
    lr: float = 0.2
    clip_norm: float | None = None
    clip_value: float | None = None
    weight_decay: float = 0.0
    init: str = "orthogonal"
    spectral_radius: float | None = 1.0
    record_gradients: bool = False


def train_adding_members(
    members: Sequence[AddingMember],
    *,
    cell: str = "rnn_tanh",
    seq_len: int = 20,
    hidden_size: int = 32,
    batch_size: int = 32,
    steps: int = 800,
    optimizer: str = "sgd",
    track_spectral_radius_every: int | None = None,
    device: str | torch.device | None = None,
) -> list[TrainingRun]:
    """Train every member on the adding problem of length `seq_len` at once; one run each.

    Member k starts from `build_task_model(cell, ..., seed=k's seed)` with W_hh re-initialised
    by its `init` and `spectral_radius`; the batches of seed s come from `training_batches(
    task, batch_size, s + 1)`, as in `train_adding_rnn`. With `track_spectral_radius_every`,
    ρ(W_hh) of every member is measured that often.
    """
    if not members:
        raise ValueError("members must hold at least one AddingMember")
    device = resolve_device(device)
    task = AddingTask(seq_len)
    models = []
    for member in members:
        model = build_task_model(cell, task, hidden_size, forget_gate_bias=None,
                                 backend="rnncourse", device=device, seed=member.seed)
        initialize_recurrent_weights(model, member.init, spectral_radius=member.spectral_radius,
                                     seed=member.seed)
        models.append(model)
    ensemble = Ensemble(models)
    seeds = sorted({member.seed for member in members})
    streams = {seed: training_batches(task, batch_size, seed + 1) for seed in seeds}
    rows = torch.tensor([seeds.index(member.seed) for member in members], device=device)

    def batches(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        drawn = [streams[seed](step) for seed in seeds]  # one batch per seed
        inputs = torch.stack([x for x, _ in drawn]).to(device)[rows]  # (K, B, T, 2)
        targets = torch.stack([y for _, y in drawn]).to(device)[rows]  # (K, B, 1)
        return inputs, targets

    def member_losses(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (outputs - targets).pow(2).flatten(1).mean(1)  # MSE of each member, (K,)

    weight_name = "rnn.weight_hh_l0"

    def radii(stack: Ensemble) -> torch.Tensor:  # ρ(W_hh) of every member
        weights = stack.stacked[weight_name.replace(".", "__")].detach().cpu()
        return torch.tensor([spectral_radius_of(w) for w in weights])

    initial_radii = radii(ensemble) if track_spectral_radius_every else None
    recorded = [k for k, member in enumerate(members) if member.record_gradients]
    run = fit_ensemble(
        ensemble, batches, member_losses, steps=steps, optimizer=optimizer,
        lr=[m.lr for m in members], clip_norm=[m.clip_norm for m in members],
        clip_value=[m.clip_value for m in members],
        weight_decay=[m.weight_decay for m in members], per_member_inputs=True,
        evaluate=radii if track_spectral_radius_every else None,
        eval_every=track_spectral_radius_every, record_gradients=recorded,
    )  # fmt: skip
    runs = []
    for k, member in enumerate(members):
        history = run.histories[k]
        settings = {"lr": member.lr, "clip_norm": member.clip_norm,
                    "clip_value": member.clip_value, "seq_len": seq_len,
                    "hidden_size": hidden_size, "batch_size": batch_size, "steps": steps,
                    "cell": cell, "init": member.init, "spectral_radius": member.spectral_radius,
                    "optimizer": optimizer, "weight_decay": member.weight_decay,
                    "seed": member.seed}
        result = TrainingRun(label=member.label, settings=settings, history=history,
                             baseline_loss=task.baseline_loss(),
                             gradient_steps=run.gradient_steps.get(k, []),
                             gradients=run.gradients.get(k, []),
                             gradient_names=run.names, gradient_sizes=run.sizes)
        if initial_radii is not None:  # x: updates made so far (0 = the initial weights)
            result.spectral_radius_steps = [0] + [step + 1 for step in history.eval_step]
            result.spectral_radii = [initial_radii[k].item()] + list(history.eval_loss)
            history.eval_step, history.eval_loss = [], []  # ρ is not a loss
        runs.append(result)
    return runs


def group_by_label(runs: Sequence[TrainingRun]) -> dict[str, list[TrainingRun]]:
    """{label: [the run of each seed, in seed order]}, labels in order of first appearance."""
    groups: dict[str, list[TrainingRun]] = {}
    for run in runs:
        groups.setdefault(run.label, []).append(run)
    for group in groups.values():
        group.sort(key=lambda run: run.settings["seed"])
    return groups


@dataclass(frozen=True)
class SeedSummary:
    """The final training losses of one setting over seeds (inf for a diverged run)."""

    label: str
    final_losses: tuple[float, ...]

    @property
    def seeds(self) -> int:
        return len(self.final_losses)

    @property
    def diverged(self) -> int:
        return sum(not math.isfinite(loss) for loss in self.final_losses)

    @property
    def finite(self) -> list[float]:
        return [loss for loss in self.final_losses if math.isfinite(loss)]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.finite) if self.finite else math.inf

    @property
    def spread(self) -> float:
        """Standard deviation over the seeds that did not diverge (0 with one)."""
        return statistics.stdev(self.finite) if len(self.finite) > 1 else 0.0


def seed_summary(groups: Mapping[str, Sequence[TrainingRun]], window: int = 100
                 ) -> dict[str, SeedSummary]:
    """For each label: the mean training loss of every seed over its last `window` steps."""
    return {label: SeedSummary(label, tuple(run.final_loss(window) for run in runs))
            for label, runs in groups.items()}


@dataclass
class ClippingSweep:
    """The divergence experiment ({clipping label: [run of each seed]}) and the weight-decay
    experiment ({λ: [run of each seed]}), trained as one ensemble."""

    divergence: dict[str, list[TrainingRun]]
    weight_decay: dict[float, list[TrainingRun]]


def run_clipping_sweep(
    lr: float = 0.2,
    clip_norm: float = 1.0,
    clip_values: tuple[float, ...] = (1.0, 0.1),
    decays: tuple[float, ...] = (0.0, 1e-3, 1e-2),
    initial_spectral_radius: float = 1.2,
    steps: int = 600,
    seq_len: int = 20,
    hidden_size: int = 32,
    batch_size: int = 32,
    seed: int = 0,
    num_seeds: int = 3,
    track_every: int = 50,
    device: str | torch.device | None = None,
) -> ClippingSweep:
    """Two experiments on the adding-problem RNN (SGD at `lr`, W_hh orthogonal), every seed:

    * divergence: no clipping, norm clipping at `clip_norm`, value clipping at each of
      `clip_values`, from ρ(W_hh) = 1; the first seed's members keep every raw gradient;
    * weight decay: norm clipping at `clip_norm` from ρ(W_hh) = `initial_spectral_radius`
      (where gradients can grow), with each weight decay λ; ρ(W_hh) is measured every
      `track_every` steps.

    They share the architecture, so they train as one ensemble of
    (2 + len(clip_values) + len(decays)) · num_seeds members, seeds seed, seed + 1, ....
    """
    settings = [(None, None), (clip_norm, None)] + [(None, value) for value in clip_values]
    members = []
    for member_seed in range(seed, seed + num_seeds):
        members += [AddingMember(clipping_label(norm, value), member_seed, lr=lr,
                                 clip_norm=norm, clip_value=value,
                                 record_gradients=member_seed == seed)
                    for norm, value in settings]
        members += [AddingMember(f"λ = {decay:g}", member_seed, lr=lr, clip_norm=clip_norm,
                                 weight_decay=decay, spectral_radius=initial_spectral_radius)
                    for decay in decays]
    runs = group_by_label(train_adding_members(
        members, seq_len=seq_len, hidden_size=hidden_size, batch_size=batch_size, steps=steps,
        track_spectral_radius_every=track_every, device=device))
    divergence = {clipping_label(norm, value): runs[clipping_label(norm, value)]
                  for norm, value in settings}
    weight_decay = {decay: runs[f"λ = {decay:g}"] for decay in decays}
    return ClippingSweep(divergence, weight_decay)
