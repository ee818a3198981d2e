"""Forecasts that need no neural network, the baselines a recurrent forecaster must beat:

- naive: ŷ_{t+h} = y_t (tomorrow like today);
- seasonal naive: ŷ_{t+h} = y_{t+h-m⌈h/m⌉} (the same month last year), m = season length;
- Holt-Winters exponential smoothing (additive; trend kept if it lowers the AIC), fitted by
  statsmodels, then run forward with its parameters fixed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from torch import Tensor

from rnncourse.training.forecasting.metrics import as_array

__all__ = ["holt_winters_forecasts", "naive_forecasts", "seasonal_naive_forecasts"]


def naive_forecasts(inputs: Tensor | np.ndarray, horizon: int) -> np.ndarray:
    """ŷ_{t+h} = y_t for windows (N, L): (N, H)."""
    inputs = as_array(inputs)
    return np.repeat(inputs[:, -1:], horizon, axis=1)


def seasonal_naive_forecasts(
    inputs: Tensor | np.ndarray, horizon: int, season_length: int
) -> np.ndarray:
    """The last observed season repeated, for windows (N, L ≥ m) ending at y_T: (N, H).

        ŷ_{T+h|T} = y_{T+h-m(k+1)},  k = ⌊(h-1)/m⌋   (Hyndman & Athanasopoulos, FPP3 §5.2)
                  = y_{T+h-m⌈h/m⌉} = y_{T-m+1+(h-1) mod m}
    """
    inputs = as_array(inputs)
    if inputs.shape[1] < season_length:
        raise ValueError(f"windows of {inputs.shape[1]} steps hold no full season of "
                         f"{season_length}")
    last_season = inputs[:, -season_length:]
    return last_season[:, np.arange(horizon) % season_length]  # h = 1..H: (h-1) mod m


def holt_winters_forecasts(
    history: np.ndarray, values: np.ndarray, origins: np.ndarray, horizon: int,
    season_length: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Additive Holt-Winters fitted by statsmodels on `history`, then run forward over `values`
    (the whole series) with its parameters fixed; forecasts (len(origins), H) from each origin
    (the index of the first value forecast). The trend is kept when it lowers the AIC.

        l_t = α (y_t - s_{t-m}) + (1-α)(l_{t-1} + b_{t-1})
        b_t = β (l_t - l_{t-1}) + (1-β) b_{t-1}
        s_t = γ (y_t - l_{t-1} - b_{t-1}) + (1-γ) s_{t-m}
        ŷ_{t+h} = l_t + h b_t + s_{t+h-m⌈h/m⌉}
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = "add" if season_length > 1 else None
    fits = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter from the optimiser
        for trend in ("add", None):
            model = ExponentialSmoothing(history, trend=trend, seasonal=seasonal,
                                         seasonal_periods=season_length if seasonal else None)
            fits.append((model.fit(), trend))
    result, trend = min(fits, key=lambda pair: pair[0].aic)
    p = result.params
    alpha = float(p["smoothing_level"])
    beta = float(p["smoothing_trend"]) if trend else 0.0
    gamma = float(p["smoothing_seasonal"]) if seasonal else 0.0
    m = season_length if seasonal else 1
    level = float(p["initial_level"])
    slope = float(p["initial_trend"]) if trend else 0.0
    seasons = [float(s) for s in p["initial_seasons"]] if seasonal else [0.0]  # s_{-m}..s_{-1}
    row_of = {int(origin): row for row, origin in enumerate(origins)}
    forecasts = np.empty((len(origins), horizon))
    for t in range(max(row_of) + 1):
        if t in row_of:  # the state holds y_0 .. y_{t-1}: forecast y_t .. y_{t+H-1}
            forecasts[row_of[t]] = [level + h * slope + seasons[len(seasons) - m + (h - 1) % m]
                                    for h in range(1, horizon + 1)]
        y, old_season = float(values[t]), seasons[-m]
        new_level = alpha * (y - old_season) + (1 - alpha) * (level + slope)
        slope_next = beta * (new_level - level) + (1 - beta) * slope
        seasons.append(gamma * (y - level - slope) + (1 - gamma) * old_season)
        level, slope = new_level, slope_next
    fitted = {"trend": trend, "alpha": alpha, "beta": beta, "gamma": gamma,
              "aic": float(result.aic), "statsmodels_forecast": result.forecast(horizon)}
    return forecasts, fitted

