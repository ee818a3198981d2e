"""Chapter 1, part 1: how fast the gradient through time vanishes (or explodes).

Back-propagation through time (BPTT) sends the gradient of a loss at the last step T back to an
earlier state h_k through a product of Jacobians,

    ∂L/∂h_k = ∂L/∂h_T · ∏_{t=k+1}^{T} ∂h_t/∂h_{t-1},    ∂h_t/∂h_{t-1} = diag(φ'(a_t)) W_hh,

so ‖∂L/∂h_k‖ ≤ ‖∂L/∂h_T‖ (γ σ_max(W_hh))^{T-k} with γ ≥ |φ'| (Pascanu, Mikolov, Bengio 2013).
`run_gradient_decay` measures ‖∂L/∂h_t‖ for an untrained Elman RNN under several initialisations
of W_hh, for several seeds, and sets the measured decay rate per step beside the rate γ σ_max the
bound allows. The training experiments (adding problem, copy memory) are in `memory_tasks.py`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnncourse.checks import check_int
from rnncourse.models import RecurrentModel, initialize_recurrent_weights
from rnncourse.runtime import resolve_device, seeded_generator
from rnncourse.training.diagnostics import (
    decay_rate_per_step,
    hidden_state_gradient_norms,
    jacobian_norm_bound,
    spectral_radius,
)

__all__ = [
    "CHAPTER_SETTINGS",
    "DERIVATIVE_BOUNDS",
    "GradientDecayCurve",
    "GradientDecayResult",
    "RateSummary",
    "RecurrentInit",
    "fit_resolved_decay_rate",
    "measure_gradient_decay",
    "run_gradient_decay",
]

# γ = sup |φ'(a)|: tanh'(0) = 1, σ'(0) = 1/4, relu' ∈ {0, 1}.
DERIVATIVE_BOUNDS = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}
# The RNNs of rnncourse.models (like torch.nn.RNN) offer tanh and relu; the sigmoid's γ is for
# the theory (gates of an LSTM are sigmoids).
RNN_NONLINEARITIES = ("tanh", "relu")

# Norms below this are treated as lost: the diagnostics return float32 norms, whose smallest
# normal value is about 1.2e-38; below it precision goes and 0 follows.
SMALLEST_RESOLVED_NORM = 1e-35


@dataclass(frozen=True)
class RecurrentInit:
    """One way to initialise W_hh: a scheme of `initialize_recurrent_weights` and, optionally,
    the spectral radius ρ(W_hh) = max |λ_i| it is rescaled to."""

    label: str
    scheme: str = "default"
    spectral_radius: float | None = None


# The six initialisations of the chapter: torch's uniform W_hh rescaled to four spectral radii,
# an orthogonal W_hh (all singular values 1) and the identity (the IRNN's W_hh = I).
CHAPTER_SETTINGS: tuple[RecurrentInit, ...] = (
    RecurrentInit("ρ = 0.5", "default", 0.5),
    RecurrentInit("ρ = 0.9", "default", 0.9),
    RecurrentInit("ρ = 1.0", "default", 1.0),
    RecurrentInit("ρ = 1.5", "default", 1.5),
    RecurrentInit("orthogonal", "orthogonal", None),
    RecurrentInit("identity", "identity", None),
)


@dataclass
class GradientDecayCurve:
    """‖∂L/∂h_{T-k}‖ / ‖∂L/∂h_T‖ against the lag k for one initialisation, with its rates.

    `relative_norms[k]` is the gradient k steps before the loss relative to the gradient at the
    last step (so `relative_norms[0] == 1`); by the bound it is at most `bound_rate ** k`.
    `measured_rate` is the factor per step back fitted in log space over the lags whose norm is
    resolved (above 1e-35), `bound_rate` is γ σ_max(W_hh).
    """

    init: RecurrentInit
    nonlinearity: str
    lags: torch.Tensor  # (T,) 0, 1, ..., T-1
    relative_norms: torch.Tensor  # (T,) float64
    spectral_radius: float  # ρ(W_hh)
    largest_singular_value: float  # σ_max(W_hh)
    gamma: float  # sup |φ'|
    measured_rate: float  # fitted r with norm_{k+1} ≈ r · norm_k
    fitted_lags: int  # how many lags the rate was fitted on

    @property
    def bound_rate(self) -> float:
        """γ σ_max(W_hh): the largest factor per step back the bound allows."""
        return self.gamma * self.largest_singular_value

    @property
    def label(self) -> str:
        return self.init.label


@dataclass(frozen=True)
class RateSummary:
    """The measured rates of one initialisation over the seeds: their mean and sample standard
    deviation (0 for a single seed), and the same for the bound γ σ_max."""

    label: str
    rates: tuple[float, ...]
    bounds: tuple[float, ...]

    @property
    def mean(self) -> float:
        return sum(self.rates) / len(self.rates)

    @property
    def std(self) -> float:
        """Sample standard deviation, sqrt(Σ (r_i − mean)² / (n − 1)); 0 for one seed."""
        if len(self.rates) < 2:
            return 0.0
        mean = self.mean
        return math.sqrt(sum((rate - mean) ** 2 for rate in self.rates) / (len(self.rates) - 1))

    @property
    def bound_mean(self) -> float:
        return sum(self.bounds) / len(self.bounds)

    @property
    def seeds_under_bound(self) -> int:
        """How many seeds measured a rate at most their bound (all of them, by the theory)."""
        return sum(rate <= bound for rate, bound in zip(self.rates, self.bounds, strict=True))


@dataclass
class GradientDecayResult:
    """Curves of `run_gradient_decay`: `curves_by_seed[i]` holds one curve per initialisation
    for seed `seeds[i]`; `curves` are those of the first seed."""

    curves_by_seed: list[list[GradientDecayCurve]]
    seeds: tuple[int, ...]
    seq_len: int
    hidden_size: int
    batch_size: int
    input_size: int
    nonlinearity: str

    @property
    def curves(self) -> list[GradientDecayCurve]:
        return self.curves_by_seed[0]

    @property
    def seed(self) -> int:
        return self.seeds[0]

    @property
    def labels(self) -> list[str]:
        return [curve.label for curve in self.curves]

    def summary(self, label: str) -> RateSummary:
        """The rates of initialisation `label` over every seed."""
        if label not in self.labels:
            raise KeyError(f"no initialisation {label!r}; there are {', '.join(self.labels)}")
        index = self.labels.index(label)
        curves = [curves[index] for curves in self.curves_by_seed]
        return RateSummary(label, tuple(c.measured_rate for c in curves),
                           tuple(c.bound_rate for c in curves))

    def summaries(self) -> list[RateSummary]:
        return [self.summary(label) for label in self.labels]


def _check_init(init: object) -> RecurrentInit:
    if not isinstance(init, RecurrentInit):
        raise TypeError(f"init must be a RecurrentInit, got {type(init).__name__}")
    return init


def fit_resolved_decay_rate(relative_norms: torch.Tensor) -> tuple[float, int]:
    """(rate per step, number of lags used), fitted on the leading lags whose norm is resolved.

    A gradient that has vanished below float32 resolution carries no rate any more, so the fit
    stops at the first lag under SMALLEST_RESOLVED_NORM (or at an inf, once it has exploded).
    """
    resolved = torch.isfinite(relative_norms) & (relative_norms > SMALLEST_RESOLVED_NORM)
    usable = int(resolved.cumprod(0).sum())  # the leading run of resolved values
    if usable < 2:
        return (0.0 if usable else math.nan), usable
    return decay_rate_per_step(relative_norms[:usable]), usable


def measure_gradient_decay(
    init: RecurrentInit,
    *,
    seq_len: int = 100,
    hidden_size: int = 64,
    input_size: int = 4,
    batch_size: int = 16,
    nonlinearity: str = "tanh",
    seed: int = 0,
    device: str | torch.device | None = None,
) -> GradientDecayCurve:
    """‖∂L/∂h_t‖ through an untrained Elman RNN with W_hh set by `init`; see the module doc.

    The RNN h_t = φ(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) reads inputs x_t ~ N(0, 1) for
    `seq_len` steps; the loss L = mean_b (W_out h_T + b_out - y_b)² with targets y ~ N(0, 1) looks
    at the last state only, so ∂L/∂h_{T-k} = ∂L/∂h_T ∂h_T/∂h_{T-k} and, by the bound,

        ‖∂L/∂h_{T-k}‖ / ‖∂L/∂h_T‖ ≤ ‖∂h_T/∂h_{T-k}‖ ≤ (γ σ_max(W_hh))^k.

    The model runs in float64 so that strongly vanishing gradients stay representable while
    they are computed (the diagnostics report norms in float32).
    """
    init = _check_init(init)
    check_int("seq_len", seq_len, 2)
    check_int("hidden_size", hidden_size, 1)
    check_int("input_size", input_size, 1)
    check_int("batch_size", batch_size, 1)
    if nonlinearity not in RNN_NONLINEARITIES:
        raise ValueError(
            f"nonlinearity must be one of {', '.join(map(repr, RNN_NONLINEARITIES))}, "
            f"got {nonlinearity!r}"
        )
    device = resolve_device(device)
    model = RecurrentModel(
        f"rnn_{nonlinearity}", input_size=input_size, hidden_size=hidden_size, output_size=1,
        readout="last", backend="rnncourse", seed=seed, device=device,
    ).double()  # fmt: skip
    initialize_recurrent_weights(model, init.scheme, init.spectral_radius, seed=seed)

    generator = seeded_generator(seed + 1, torch.device("cpu"))  # data on the CPU: same anywhere
    inputs = torch.randn(batch_size, seq_len, input_size, generator=generator, dtype=torch.float64)
    targets = torch.randn(batch_size, 1, generator=generator, dtype=torch.float64)
    gradients = hidden_state_gradient_norms(model, inputs.to(device), targets.to(device),
                                            F.mse_loss)
    norms_by_lag = gradients.hidden.flip(0).double()  # index k = k steps before the loss
    if not norms_by_lag[0] > 0:
        raise RuntimeError("the gradient at the last step is 0: the readout ignores h_T")
    relative_norms = norms_by_lag / norms_by_lag[0]

    weight_hh = model.rnn.weight_hh_l0
    measured_rate, fitted_lags = fit_resolved_decay_rate(relative_norms)
    return GradientDecayCurve(
        init=init,
        nonlinearity=nonlinearity,
        lags=torch.arange(seq_len),
        relative_norms=relative_norms,
        spectral_radius=spectral_radius(weight_hh),
        largest_singular_value=jacobian_norm_bound(weight_hh, steps=1),  # σ_max¹ with γ = 1
        gamma=DERIVATIVE_BOUNDS[nonlinearity],
        measured_rate=measured_rate,
        fitted_lags=fitted_lags,
    )


def run_gradient_decay(
    inits: Sequence[RecurrentInit] = CHAPTER_SETTINGS,
    *,
    seq_len: int = 100,
    hidden_size: int = 64,
    input_size: int = 4,
    batch_size: int = 16,
    nonlinearity: str = "tanh",
    num_seeds: int = 1,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> GradientDecayResult:
    """The gradient-norm-against-lag experiment: `measure_gradient_decay` for every init and
    every seed in seed, seed + 1, ..., seed + num_seeds − 1.

    Within one seed every initialisation gets the same seed, so the networks differ only in W_hh
    (and, for the identity, in the biases the IRNN sets to zero) and all read the same inputs;
    the seeds draw new weights and inputs, which gives the spread of each rate.
    """
    inits = [_check_init(init) for init in inits]
    if not inits:
        raise ValueError("inits must name at least one RecurrentInit")
    check_int("num_seeds", num_seeds, 1)
    setting = {"seq_len": seq_len, "hidden_size": hidden_size, "input_size": input_size,
               "batch_size": batch_size, "nonlinearity": nonlinearity}
    seeds = tuple(range(seed, seed + num_seeds))
    curves = [[measure_gradient_decay(init, **setting, seed=each, device=device) for init in inits]
              for each in seeds]
    return GradientDecayResult(curves_by_seed=curves, seeds=seeds, **setting)
