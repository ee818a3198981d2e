"""Chapter 2: divergence, and what clipping does to an update.

* `train_adding_rnn`: one training run of a small RNN on the adding problem (torch's fused
  kernel), what the widget trains; `TrainingRun`, what one run recorded, also for the runs of
  the seeded sweeps of `adding_sweeps.py` (divergence, weight decay, initialisation).
* `clipping_directions`: how far each kind of clipping turns a gradient away from itself.

The cliff of a one-unit RNN is in `cliff.py`; normalisation and initialisation in
`remedies.py`; regularisation in `regularization.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from rnncourse.data.synthetic import AddingTask
from rnncourse.models import RecurrentModel, initialize_recurrent_weights
from rnncourse.runtime import resolve_device
from rnncourse.training import OPTIMIZERS, History, fit
from rnncourse.training.diagnostics import spectral_radius as spectral_radius_of
from rnncourse.training.task_training import build_task_model, training_batches

__all__ = [
    "ClippingDirections",
    "TrainingRun",
    "clipping_directions",
    "clipping_label",
    "train_adding_rnn",
]

# --------------------------------------------------------------------------------------------
# Training a small RNN on the adding problem
# --------------------------------------------------------------------------------------------


@dataclass
class TrainingRun:
    """One run of `train_adding_rnn`: its settings, `fit`'s history and, when tracked, the
    spectral radius ρ(W_hh) after the numbers of updates in `spectral_radius_steps` (0 for the
    initial weights) and the raw gradients (all parameters flattened into one vector, before
    clipping, on the CPU) of the steps in `gradient_steps`."""

    label: str
    settings: dict
    history: History
    baseline_loss: float
    spectral_radius_steps: list[int] = field(default_factory=list)
    spectral_radii: list[float] = field(default_factory=list)
    gradient_steps: list[int] = field(default_factory=list)
    gradients: list[torch.Tensor] = field(default_factory=list)
    gradient_names: list[str] = field(default_factory=list)
    gradient_sizes: list[int] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return self.history.diverged

    def gradient_shares(self, index: int) -> dict[str, float]:
        """‖g_p‖ / ‖g‖ for each parameter p of the `index`-th recorded gradient: where the
        gradient's norm sits (the squares of the shares add up to 1)."""
        gradient = self.gradients[index].double()
        total = gradient.norm()
        parts = torch.split(gradient, self.gradient_sizes)
        return {name: (part.norm() / total).item()
                for name, part in zip(self.gradient_names, parts, strict=True)}

    def gradient_share(self, index: int, name_part: str) -> float:
        """The share of ‖g‖ in the parameters whose names contain `name_part` ("weight_hh": the
        recurrent weights; "head.": the readout): sqrt(Σ_p (‖g_p‖/‖g‖)²) over those p."""
        shares = self.gradient_shares(index)
        return math.sqrt(sum(share**2 for name, share in shares.items() if name_part in name))

    def final_loss(self, window: int = 100) -> float:
        """Mean training loss over the last `window` steps; inf when the run diverged."""
        if self.history.diverged or not self.history.loss:
            return math.inf
        last = self.history.loss[-window:]
        return sum(last) / len(last)


def train_adding_rnn(
    *,
    lr: float,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    seq_len: int = 20,
    hidden_size: int = 32,
    batch_size: int = 32,
    steps: int = 1500,
    cell: str = "rnn_tanh",
    init: str = "orthogonal",
    spectral_radius: float | None = 1.0,
    optimizer: str = "sgd",
    weight_decay: float = 0.0,
    track_spectral_radius_every: int | None = None,
    record_gradients_every: int | None = None,
    label: str | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> TrainingRun:
    """Train a one-layer RNN (torch's fused kernel) on the adding problem of length `seq_len`.

    W_hh starts from `initialize_recurrent_weights(init, spectral_radius)`. The optimiser is
    "sgd", "adam" or "rmsprop" with learning rate `lr` and weight decay `weight_decay` (the
    gradient of (λ/2)‖θ‖² added to every parameter's: θ ← θ - lr (g + λ θ) for SGD).
    `clip_norm` or `clip_value` clip as in `rnncourse.training.fit`, which stops the run at the
    first non-finite loss. With `track_spectral_radius_every`, ρ(W_hh) is measured that often;
    with `record_gradients_every`, the raw gradient (before clipping) is kept that often.
    Batches come from a generator seeded with seed + 1, the same for every setting.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be non-negative, got {weight_decay!r}")
    device = resolve_device(device)
    task = AddingTask(seq_len)
    model = build_task_model(cell, task, hidden_size, forget_gate_bias=None, device=device,
                             seed=seed)
    initialize_recurrent_weights(model, init, spectral_radius=spectral_radius, seed=seed)
    optimizer_object = OPTIMIZERS[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)

    def recurrent_spectral_radius(trained: RecurrentModel) -> float:
        return spectral_radius_of(trained.rnn.weight_hh_l0)  # ρ(W_hh)

    # fit's evaluate hook records any number every few steps: here ρ(W_hh), not a loss.
    tracking = track_spectral_radius_every is not None
    initial_radius = recurrent_spectral_radius(model) if tracking else math.nan
    recorder = _GradientRecorder(model, optimizer_object, record_gradients_every)
    with recorder:
        history = fit(
            model, training_batches(task, batch_size, seed + 1), task.loss, steps=steps,
            optimizer=optimizer_object, lr=lr, clip_norm=clip_norm, clip_value=clip_value,
            device=device, progress=False, evaluate=recurrent_spectral_radius if tracking else None,
            eval_every=track_spectral_radius_every,
        )  # fmt: skip
    settings = {
        "lr": lr, "clip_norm": clip_norm, "clip_value": clip_value, "seq_len": seq_len,
        "hidden_size": hidden_size, "batch_size": batch_size, "steps": steps, "cell": cell,
        "init": init, "spectral_radius": spectral_radius, "optimizer": optimizer,
        "weight_decay": weight_decay, "seed": seed,
    }  # fmt: skip
    run = TrainingRun(
        label=label or clipping_label(clip_norm, clip_value),
        settings=settings,
        history=history,
        baseline_loss=task.baseline_loss(),
        gradient_steps=recorder.steps,
        gradients=recorder.gradients,
        gradient_names=recorder.names,
        gradient_sizes=[p.numel() for p in recorder.parameters],
    )
    if tracking:  # x: updates made so far (0 = the initial weights)
        run.spectral_radius_steps = [0] + [step + 1 for step in history.eval_step]
        run.spectral_radii = [initial_radius] + list(history.eval_loss)
    return run


class _GradientRecorder:
    """Keeps the raw gradient of every `every`-th step while `fit` runs.

    A hook on each parameter sees its gradient as backpropagation delivers it, before `fit`
    clips it; a hook on the optimiser, called just before each update, stores the lot as one
    flat vector. Nothing is kept (and no hook is added) when `every` is None.
    """

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 every: int | None) -> None:
        if every is not None and (isinstance(every, bool) or not isinstance(every, int)
                                  or every < 1):
            raise ValueError(f"record_gradients_every must be a positive int, got {every!r}")
        named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self.names = [name for name, _ in named]
        self.parameters = [p for _, p in named]
        self.optimizer = optimizer
        self.every = every
        self.latest: dict[int, torch.Tensor] = {}
        self.steps: list[int] = []
        self.gradients: list[torch.Tensor] = []
        self.handles: list = []
        self.step = 0

    def _keep(self, index: int, gradient: torch.Tensor) -> None:
        self.latest[index] = gradient.detach().clone()  # fit clips .grad in place later

    def _store(self, optimizer, args, kwargs) -> None:
        if self.step % self.every == 0 and len(self.latest) == len(self.parameters):
            flat = torch.cat([self.latest[i].flatten() for i in range(len(self.parameters))])
            self.steps.append(self.step)
            self.gradients.append(flat.cpu())
        self.step += 1

    def __enter__(self) -> _GradientRecorder:
        if self.every is not None:
            for index, parameter in enumerate(self.parameters):
                self.handles.append(
                    parameter.register_hook(lambda grad, index=index: self._keep(index, grad)))
            self.handles.append(self.optimizer.register_step_pre_hook(self._store))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handle in self.handles:
            handle.remove()


def clipping_label(clip_norm: float | None, clip_value: float | None) -> str:
    """"clip by norm, c = 1", "clip by value, c = 0.1" or "no clipping"."""
    if clip_norm is not None:
        return f"clip by norm, c = {clip_norm:g}"
    if clip_value is not None:
        return f"clip by value, c = {clip_value:g}"
    return "no clipping"


# --------------------------------------------------------------------------------------------
# Clipping and the direction of the update
# --------------------------------------------------------------------------------------------


@dataclass
class ClippingDirections:
    """For recorded gradients g: cos∠(g, clip(g)) and ‖clip(g)‖ for each kind of clipping.

    Norm clipping, g · min(1, c/‖g‖), only rescales: its cosine is 1. Value clipping,
    clamp(g_i, -c, c), caps each coordinate on its own: the large coordinates lose weight
    against the small ones, so the update turns away from g (the cosine drops below 1), and
    once every coordinate is capped it points along sign(g). `source[k]` names the run that
    gradient k came from.
    """

    source: list[str]
    gradient_norms: list[float]
    num_parameters: int
    clip_norm: float
    cosine_norm: list[float]
    clipped_norm_norm: list[float]
    cosine_value: dict[float, list[float]]
    clipped_norm_value: dict[float, list[float]]


def clipping_directions(
    runs: TrainingRun | list[TrainingRun],
    clip_norm: float = 1.0,
    clip_values: tuple[float, ...] = (1.0, 0.1),
) -> ClippingDirections:
    """Clip every gradient the runs recorded (`train_adding_rnn(record_gradients_every=...)`)
    by norm at `clip_norm` and by value at each of `clip_values`, and measure the result."""
    runs = [runs] if isinstance(runs, TrainingRun) else list(runs)
    source = [run.label for run in runs for _ in run.gradients]
    if not source:
        raise ValueError("no run recorded gradients: train with record_gradients_every")
    gradients = torch.stack([g for run in runs for g in run.gradients]).double()  # (N, P)
    norms = gradients.norm(dim=1, keepdim=True)  # ‖g‖
    cosine = torch.nn.functional.cosine_similarity
    by_norm = gradients * torch.clamp(clip_norm / norms, max=1.0)  # g min(1, c/‖g‖)
    result = ClippingDirections(
        source=source, gradient_norms=norms.squeeze(1).tolist(),
        num_parameters=gradients.shape[1], clip_norm=clip_norm,
        cosine_norm=cosine(gradients, by_norm, dim=1).tolist(),
        clipped_norm_norm=by_norm.norm(dim=1).tolist(), cosine_value={}, clipped_norm_value={},
    )  # fmt: skip
    for value in clip_values:
        by_value = gradients.clamp(-value, value)  # clamp(g_i, -c, c)
        result.cosine_value[value] = cosine(gradients, by_value, dim=1).tolist()
        result.clipped_norm_value[value] = by_value.norm(dim=1).tolist()
    return result
