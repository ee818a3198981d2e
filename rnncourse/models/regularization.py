"""Regularisers made for recurrent networks, as small functions of tensors.

Plain dropout (Srivastava et al. 2014) draws a fresh mask for every number it sees. Applied to
the recurrent state h_{t-1} at every step, that noise is multiplied in again and again along
the sequence, and the network cannot keep a memory. The regularisers that made RNNs work leave
the recurrence alone, or disturb it in a way that does not compound:

    dropout(x, p)                 x ⊙ m,  m_i = b_i / (1 - p),  b_i ~ Bernoulli(1 - p)
        fresh at every step, used on the non-recurrent connections only: the input of each
        layer and the output of the last (Zaremba, Sutskever and Vinyals 2014)
    variational_dropout(x, p)     x_{b,t} ⊙ m_b: ONE mask per sequence, the same at every step,
        on inputs, outputs and the recurrent state h_{t-1} (Gal and Ghahramani 2016)
    drop_weights(W_hh, p)         W_hh ⊙ M / (1 - p), M_ij ~ Bernoulli(1 - p): DropConnect on the
        recurrent weights, one mask per forward pass (weight drop; Merity, Keskar, Socher 2018)
    zoneout(h_{t-1}, h̃_t, z)       d ⊙ h_{t-1} + (1 - d) ⊙ h̃_t, d_i ~ Bernoulli(z): each unit keeps
        its previous value with probability z; at test time the expectation
        z h_{t-1} + (1 - z) h̃_t (Krueger et al. 2017)

All masks are "inverted": scaled by 1/(1 - p) in training, so that E[m] = 1 and nothing is
rescaled at test time (zoneout's test-time rule is its own expectation). In evaluation mode
(`training=False`) the dropouts are the identity.

A rate is a float in [0, 1) or a 0-dim tensor. A tensor rate is always used (a rate of 0 draws
a mask of ones), so that `torch.func.vmap` can run models with different rates side by side
(`rnncourse.models.ensemble.Ensemble`: one stacked model, one rate per member). Random numbers
come from torch's global generator: `torch.manual_seed` makes them repeatable.
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor

__all__ = [
    "Rate",
    "check_rate",
    "dropout",
    "dropout_mask",
    "drop_weights",
    "variational_dropout",
    "zoneout",
]

Rate = float | Tensor


def check_rate(name: str, rate: Rate) -> Rate:
    """A float rate in [0, 1), or a tensor rate (not checked: it may be a per-member value)."""
    if isinstance(rate, Tensor):
        if rate.dim() != 0 or not rate.is_floating_point():
            raise ValueError(f"{name} must be a float or a 0-dim float tensor, "
                             f"got a tensor of shape {tuple(rate.shape)} and dtype {rate.dtype}")
        return rate
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {type(rate).__name__}")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {rate!r}")
    return float(rate)


def _inactive(rate: Rate, training: bool) -> bool:
    """True when a regulariser has nothing to do: evaluation, or a float rate of 0."""
    return not training or (not isinstance(rate, Tensor) and rate == 0.0)


def dropout_mask(shape: tuple[int, ...], p: Rate, like: Tensor) -> Tensor:
    """An inverted dropout mask of `shape`, dtype and device of `like`:

        m_i = b_i / (1 - p),   b_i ~ Bernoulli(1 - p),   so E[m_i] = 1.
    """
    keep = 1.0 - torch.as_tensor(p, dtype=like.dtype, device=like.device)  # 1 - p
    return torch.bernoulli(keep.expand(shape)) / keep  # b / (1 - p)


def dropout(x: Tensor, p: Rate, training: bool = True) -> Tensor:
    """Dropout with a fresh mask for every element: x ⊙ m (Srivastava et al. 2014).

    Over a whole sequence (B, T, F) that is a new mask at every step, the dropout of Zaremba et
    al. (2014), who use it on the non-recurrent connections only (layer inputs and outputs).
    """
    p = check_rate("p", p)
    if _inactive(p, training):
        return x
    return x * dropout_mask(tuple(x.shape), p, x)  # x ⊙ m


def variational_dropout(x: Tensor, p: Rate, training: bool = True, time_dim: int = 1) -> Tensor:
    """Dropout with one mask per sequence, the same at every step (Gal and Ghahramani 2016):

        y_{b,t,:} = x_{b,t,:} ⊙ m_{b,:},   m_{b,i} = Bernoulli(1 - p) / (1 - p)

    `x` is a batch of sequences with time along `time_dim` (1 for (B, T, F), 0 for (T, B, F)).
    """
    p = check_rate("p", p)
    if x.dim() < 2:
        raise ValueError(f"x must be a batch of sequences with a time dimension, got shape "
                         f"{tuple(x.shape)}")
    if _inactive(p, training):
        return x
    shape = list(x.shape)
    shape[time_dim] = 1  # one mask, broadcast over every step
    return x * dropout_mask(tuple(shape), p, x)  # x_t ⊙ m for every t


def drop_weights(weight: Tensor, p: Rate, training: bool = True) -> Tensor:
    """DropConnect on a weight matrix (Wan et al. 2013), as weight drop uses it on W_hh:

        W̃ = W ⊙ M / (1 - p),   M_ij ~ Bernoulli(1 - p)

    Called once per forward pass, so that every step of the sequence sees the same W̃: the
    recurrence is disturbed, but the same way at every step. At test time W̃ = W.
    """
    p = check_rate("p", p)
    if _inactive(p, training):
        return weight
    return weight * dropout_mask(tuple(weight.shape), p, weight)  # W ⊙ M / (1 - p)


def zoneout(
    previous: Tensor,
    candidate: Tensor,
    rate: Rate,
    training: bool = True,
    keep: Tensor | None = None,
) -> Tensor:
    """Zoneout (Krueger et al. 2017): each unit keeps its previous value with probability z.

        training:  h_t = d ⊙ h_{t-1} + (1 - d) ⊙ h̃_t,   d_i ~ Bernoulli(z)
        test:      h_t = z h_{t-1} + (1 - z) h̃_t        (the expectation of the line above)

    `previous` is h_{t-1} (or c_{t-1}), `candidate` the new value h̃_t the cell computed. `keep`
    is d, drawn here when None (pass it to draw the masks of a whole sequence at once).
    """
    rate = check_rate("rate", rate)
    if previous.shape != candidate.shape:
        raise ValueError(f"previous and candidate must have the same shape, got "
                         f"{tuple(previous.shape)} and {tuple(candidate.shape)}")
    if not training:
        return rate * previous + (1.0 - rate) * candidate  # z h_{t-1} + (1 - z) h̃_t
    if keep is None:
        if not isinstance(rate, Tensor) and rate == 0.0:
            return candidate
        keep = torch.bernoulli(torch.as_tensor(rate, dtype=previous.dtype,
                                               device=previous.device).expand(previous.shape))
    return keep * previous + (1.0 - keep) * candidate  # d ⊙ h_{t-1} + (1 - d) ⊙ h̃_t
