"""`fit_ensemble`: the fit loop for an `Ensemble`, K small models trained as one stacked model.

Each step, for the K members at once (their outputs and losses stacked on a leading axis):

    L = Σ_k L_k                  summing keeps the members apart: ∂L/∂θ_k = ∂L_k/∂θ_k
    record L_k and ‖g_k‖₂         before clipping, one History per member, as `fit` records
    g_k ← clip_k(g_k)             by norm, g_k · min(1, c_k / ‖g_k‖), or by value, clamp(g_k, ±v_k)
    g_k ← g_k + λ_k θ_k           weight decay, the gradient of (λ_k / 2) ‖θ_k‖²
    θ_k ← optimizer(θ_k, g_k)     SGD θ_k - η_k g_k, or Adam / RMSProp (element-wise, one η)

so every member can have its own clipping, weight decay and (with SGD) learning rate: one
stacked model runs a whole sweep. A member whose loss or gradient norm stops being finite is
frozen there, as `fit` stops (the step is recorded, `History.diverged` is set, its weights are
left as they were); the others train on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from rnncourse.models.ensemble import Ensemble, member_gradient_norms
from rnncourse.training.history import History
from rnncourse.training.loop import OPTIMIZERS, move_to_device

__all__ = ["EnsembleRun", "fit_ensemble", "per_member", "update_members_"]

PerMember = float | None | Sequence[float | None]


def per_member(name: str, value: PerMember, size: int, none: float) -> Tensor:
    """A (K,) float tensor from one value for all members or one per member (None → `none`)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * size
    if len(values) != size:
        raise ValueError(f"{name} must be one value or {size} values (one per member), "
                         f"got {len(values)}")
    numbers = [none if v is None else float(v) for v in values]
    if any(math.isnan(v) or v < 0 for v in numbers):
        raise ValueError(f"{name} must be non-negative, got {values}")
    return torch.tensor(numbers)


@dataclass
class EnsembleRun:
    """What `fit_ensemble` recorded: one `History` per member and, when asked, raw gradients
    (before clipping, all parameters flattened in `names` order) of the members in
    `gradients`, keyed by member, with the steps they were taken at."""

    histories: list[History]
    names: list[str]
    sizes: list[int]
    gradient_steps: dict[int, list[int]] = field(default_factory=dict)
    gradients: dict[int, list[Tensor]] = field(default_factory=dict)


def _by_member(values: Tensor, like: Tensor) -> Tensor:
    """(K,) → (K, 1, ..., 1), to broadcast one value per member over a stacked parameter."""
    return values.view(-1, *([1] * (like.dim() - 1)))


@torch.no_grad()
def update_members_(parameters: Sequence[Tensor], norms: Tensor, *, rates: Tensor,
                    norms_cap: Tensor, values_cap: Tensor, decays: Tensor, alive: Tensor,
                    optimizer: torch.optim.Optimizer | None = None) -> None:
    """One update of K stacked members, each with its own settings ((K,) tensors; `norms` are
    the members' gradient norms before clipping, `alive` False for a frozen member):

        g_k ← g_k · min(1, c_k / ‖g_k‖)        clip by norm (c_k = inf: no clipping)
        g_k,i ← max(-v_k, min(v_k, g_k,i))     clip by value (v_k = inf: no clipping)
        g_k ← g_k + λ_k θ_k                    weight decay
        θ_k ← θ_k - η_k g_k                    SGD, or `optimizer.step()` (Adam, RMSProp)

    A frozen member gets no gradient and keeps its weights, whatever the optimiser.
    """
    scale = torch.clamp(norms_cap / (norms + 1e-6), max=1.0)  # min(1, c_k / ‖g_k‖)
    for parameter in parameters:
        grad = parameter.grad
        grad.mul_(_by_member(scale, grad))  # g_k ← g_k · min(1, c_k / ‖g_k‖)
        limit = _by_member(values_cap, grad)
        grad.copy_(torch.clamp(grad, -limit, limit))  # g_k,i ← max(-v_k, min(v_k, g_k,i))
        grad.add_(_by_member(decays, grad) * parameter)  # g_k ← g_k + λ_k θ_k
        grad.copy_(torch.where(_by_member(alive, grad), grad, 0.0))  # frozen: no gradient
    before = [p.detach().clone() for p in parameters] if not alive.all() else None
    if optimizer is None:
        for parameter in parameters:
            parameter.sub_(_by_member(rates, parameter) * parameter.grad)  # θ_k - η_k g_k
    else:
        optimizer.step()
    if before is not None:  # frozen members keep their weights, whatever the optimiser
        for parameter, old in zip(parameters, before, strict=True):
            parameter.copy_(torch.where(_by_member(alive, parameter), parameter, old))


def fit_ensemble(
    ensemble: Ensemble,
    batches: Callable[[int], tuple[Tensor, Tensor]],
    member_losses: Callable[[Tensor, Tensor], Tensor],
    *,
    steps: int,
    optimizer: str = "adam",
    lr: PerMember = 1e-3,
    clip_norm: PerMember = None,
    clip_value: PerMember = None,
    weight_decay: PerMember = 0.0,
    per_member_inputs: bool = False,
    evaluate: Callable[[Ensemble], Tensor] | None = None,
    eval_every: int | None = None,
    record_gradients: Sequence[int] = (),
    record_every: int = 1,
) -> EnsembleRun:
    """Train `ensemble` in place for `steps` steps; see the module for the update.

    - `batches(step)` gives (inputs, targets), moved to the ensemble's device as `fit` does:
      shared by every member, or with a leading axis of size K when `per_member_inputs`.
      `member_losses(outputs, targets)` maps the stacked outputs (K, ...) to the K losses,
      shape (K,).
    - `optimizer`: "sgd", "adam" or "rmsprop". `lr`, `clip_norm`, `clip_value` and
      `weight_decay` are one value or one per member (None: no clipping); a learning rate per
      member needs SGD. A member may clip by norm or by value, not both.
    - `evaluate(ensemble) -> (K,)` runs in eval mode without gradients after every `eval_every`
      steps and after the last; each value goes to its member's `History.eval_loss`.
    - `record_gradients`: members whose raw gradient is kept every `record_every` steps.
    """
    size = len(ensemble)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    rates = per_member("lr", lr, size, none=0.0)
    if optimizer != "sgd" and not bool((rates == rates[0]).all()):
        raise ValueError("a learning rate per member needs optimizer='sgd'")
    norms_cap = per_member("clip_norm", clip_norm, size, none=math.inf)
    values_cap = per_member("clip_value", clip_value, size, none=math.inf)
    if bool((norms_cap.isfinite() & values_cap.isfinite()).any()):
        raise ValueError("a member may clip by norm or by value, not both")
    decays = per_member("weight_decay", weight_decay, size, none=0.0)
    parameters = list(ensemble.stacked.values())
    device = parameters[0].device
    rates, norms_cap, values_cap, decays = (t.to(device) for t in (rates, norms_cap, values_cap,
                                                                 decays))
    torch_optimizer = (None if optimizer == "sgd"
                       else OPTIMIZERS[optimizer](parameters, lr=float(rates[0])))
    histories = [History() for _ in range(size)]
    run = EnsembleRun(histories, list(ensemble._names), [p[0].numel() for p in parameters],
                      {k: [] for k in record_gradients}, {k: [] for k in record_gradients})
    alive = torch.ones(size, dtype=torch.bool, device=device)

    def run_evaluation(step: int) -> None:
        ensemble.eval()
        with torch.no_grad():
            values = evaluate(ensemble).tolist()
        ensemble.train()
        for k in alive.nonzero().flatten().tolist():
            histories[k].eval_step.append(step)
            histories[k].eval_loss.append(float(values[k]))

    start = time.perf_counter()
    ensemble.train()
    last_evaluation = None
    for step in range(steps):
        inputs, targets = move_to_device(batches(step), device)  # to the members' device
        for parameter in parameters:
            parameter.grad = None
        losses = member_losses(ensemble(inputs, per_member_inputs=per_member_inputs), targets)
        losses.sum().backward()  # ∂(Σ_k L_k)/∂θ_k = ∂L_k/∂θ_k
        norms = member_gradient_norms(ensemble)  # ‖g_k‖₂, before clipping
        finite = losses.detach().isfinite() & norms.isfinite()
        for k, (loss, norm) in enumerate(zip(losses.tolist(), norms.tolist(), strict=True)):
            if bool(alive[k]):
                histories[k].step.append(step)
                histories[k].loss.append(loss)
                histories[k].grad_norm.append(norm)
                histories[k].diverged |= not bool(finite[k])
                if k in run.gradients and step % record_every == 0 and bool(finite[k]):
                    flat = torch.cat([p.grad[k].detach().flatten() for p in parameters])
                    run.gradient_steps[k].append(step)
                    run.gradients[k].append(flat.cpu())
        alive &= finite
        update_members_(parameters, norms, rates=rates, norms_cap=norms_cap,
                        values_cap=values_cap, decays=decays, alive=alive,
                        optimizer=torch_optimizer)
        if evaluate is not None and eval_every is not None and (step + 1) % eval_every == 0:
            run_evaluation(step)
            last_evaluation = step
        if not alive.any():
            break
    if evaluate is not None and last_evaluation != step:
        run_evaluation(step)
    seconds = time.perf_counter() - start
    for history in histories:
        history.seconds = seconds
    return run
