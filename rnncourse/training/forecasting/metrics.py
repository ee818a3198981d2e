"""Errors of point forecasts: MAE and RMSE in the series' units, MASE against the in-sample
seasonal-naive forecast (Hyndman and Koehler 2006), and the skill score against a baseline."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import Tensor

__all__ = ["as_array", "mae", "mase", "rmse", "skill_score"]


def as_array(values: np.ndarray | Tensor | Any) -> np.ndarray:
    """`values` (a tensor, an array, a list) as a float numpy array."""
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


def _pair(forecasts: np.ndarray | Tensor, truth: np.ndarray | Tensor) -> tuple[np.ndarray, ...]:
    forecasts, truth = as_array(forecasts), as_array(truth)
    if forecasts.shape != truth.shape:
        raise ValueError(f"forecasts {forecasts.shape} and truth {truth.shape} must match")
    return forecasts, truth


def mae(forecasts: np.ndarray | Tensor, truth: np.ndarray | Tensor) -> float:
    """Mean absolute error, mean |ŷ - y|."""
    forecasts, truth = _pair(forecasts, truth)
    return float(np.abs(forecasts - truth).mean())


def rmse(forecasts: np.ndarray | Tensor, truth: np.ndarray | Tensor) -> float:
    """Root mean squared error, sqrt(mean (ŷ - y)²)."""
    forecasts, truth = _pair(forecasts, truth)
    return float(np.sqrt(((forecasts - truth) ** 2).mean()))


def mase(
    forecasts: np.ndarray | Tensor,
    truth: np.ndarray | Tensor,
    train: np.ndarray | Tensor,
    season_length: int = 1,
) -> float:
    """Mean absolute scaled error (Hyndman and Koehler 2006):

        MASE = mean |ŷ - y|  /  (1/(n-m)) Σ_{t=m+1..n} |y_t - y_{t-m}|   (on the training part)

    Below 1: better than the in-sample one-step seasonal-naive forecast (naive for m = 1).
    """
    train = as_array(train)
    if season_length < 1 or len(train) <= season_length:
        raise ValueError(
            f"train ({len(train)} values) must be longer than season_length={season_length} >= 1"
        )
    scale = np.abs(train[season_length:] - train[:-season_length]).mean()
    if scale == 0:
        raise ValueError("the training part repeats itself exactly: MASE is undefined")
    return mae(forecasts, truth) / float(scale)


def skill_score(error: float, baseline_error: float) -> float:
    """1 - error / baseline error: 1 is perfect, 0 no better than the baseline, < 0 worse."""
    return 1.0 - error / baseline_error

