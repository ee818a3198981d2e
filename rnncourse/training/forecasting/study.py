"""The forecasting study: multi-step forecasts of a real series against honest baselines.

The last `test_length` steps of a series are held out. From every forecast origin t in that
period whose whole horizon fits in it, each method forecasts y_{t+1} .. y_{t+H} from y_{≤t}:

- naive: ŷ_{t+h} = y_t (tomorrow like today);
- seasonal naive: ŷ_{t+h} = y_{t+h-m⌈h/m⌉} (the same month last year), m = season length;
- Holt-Winters exponential smoothing (additive; trend kept if it lowers the AIC), fitted by
  statsmodels on everything before the test period, then run forward with fixed parameters;
- a recurrent network (`WindowForecaster`) trained on windows of the training period with
  early stopping on the validation period, inputs scaled with training statistics only.

Errors (`mae`, `rmse`) are in the series' units; `mase` divides the MAE by the in-sample MAE of
the one-step seasonal-naive forecast on the training period (Hyndman and Koehler 2006), so 1
means "as good as repeating last season, one step ahead", and `skill_score` = 1 - MAE / MAE of
a baseline (positive: better than the baseline).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rnncourse.data.timeseries import TimeSeries, load_series
from rnncourse.training.forecasting.baselines import (
    holt_winters_forecasts,
    naive_forecasts,
    seasonal_naive_forecasts,
)
from rnncourse.training.forecasting.metrics import mae, mase, rmse, skill_score
from rnncourse.training.forecasting.train import ForecastRun, ForecastSettings, train_forecaster

__all__ = ["ForecastStudy", "run_forecasting_study"]


@dataclass
class ForecastStudy:
    """Forecasts of every method from every origin in the test period, and their errors.

    `origins[i]` is the index (into `series.values`) of the first value forecast from origin i;
    `truth[i]` and `forecasts[method][i]` are the H values from there on.
    """

    series: TimeSeries
    settings: ForecastSettings
    run: ForecastRun
    origins: np.ndarray
    truth: np.ndarray
    forecasts: dict[str, np.ndarray]
    errors: dict[str, dict[str, float]]
    classical: dict[str, Any]

    def metrics(self) -> dict[str, Any]:
        """Plain numbers for a metrics file."""
        return {
            "series": self.series.name, "settings": self.settings.to_dict(),
            "parameters": self.run.model.num_parameters(), "best_step": self.run.best_step,
            "steps": len(self.run.history.step), "seconds": self.run.history.seconds,
            "valid_mae_scaled": self.run.valid_mae, "eval_step": self.run.history.eval_step,
            "errors": self.errors,
            "holt_winters": {k: v for k, v in self.classical.items() if k != "forecast"},
            "test_origins": self.origins.tolist(),
        }

    def error_by_horizon(self, method: str) -> np.ndarray:
        """MAE at each step ahead h = 1..H, averaged over origins."""
        return np.abs(self.forecasts[method] - self.truth).mean(axis=0)


def run_forecasting_study(
    settings: ForecastSettings | None = None,
    *,
    device: str | torch.device | None = None,
    progress: bool | None = False,
    **overrides: Any,
) -> ForecastStudy:
    """Train the recurrent forecaster and compare it with the baselines on the test period."""
    settings = dataclasses.replace(settings or ForecastSettings(), **overrides)
    series = load_series(settings.series)
    settings = settings.resolved(series.season_length)
    run = train_forecaster(settings, data=series, device=device, progress=progress)
    values = np.asarray(series.values, dtype=float)
    m, length, horizon = series.season_length, settings.input_length, settings.horizon
    test_start = len(values) - settings.test_length
    # Test windows: every origin whose whole horizon lies in the test period.
    origins = test_start + np.arange(settings.test_length - horizon + 1)
    inputs = values[origins[:, None] - length + np.arange(length)[None, :]]  # y_{t-L} .. y_{t-1}
    truth = values[origins[:, None] + np.arange(horizon)[None, :]]  # y_t .. y_{t+H-1}
    holt_winters, classical = holt_winters_forecasts(values[:test_start], values, origins,
                                                     horizon, m)
    forecasts = {
        "naive": naive_forecasts(inputs, horizon),
        "seasonal naive": seasonal_naive_forecasts(inputs, horizon, m),
        "Holt-Winters": holt_winters,
        settings.cell.upper().replace("RNN_TANH", "RNN"): run.forecast(inputs),
    }
    train = values[:test_start]
    naive_mae = mae(forecasts["naive"], truth)
    seasonal_mae = mae(forecasts["seasonal naive"], truth)
    errors = {}
    for method, predicted in forecasts.items():
        error = mae(predicted, truth)
        errors[method] = {
            "mae": error, "rmse": rmse(predicted, truth), "mase": mase(predicted, truth, train, m),
            "skill_vs_naive": skill_score(error, naive_mae),
            "skill_vs_seasonal_naive": skill_score(error, seasonal_mae),
        }
    classical["forecast"] = classical.pop("statsmodels_forecast")
    return ForecastStudy(series, settings, run, origins, truth, forecasts, errors, classical)

