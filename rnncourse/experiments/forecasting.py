"""Chapter 6, case study 2: multi-step forecasting of a real series against honest baselines.

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
import math
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnncourse.data.timeseries import (
    SeriesScaler,
    TimeSeries,
    load_series,
    make_windows,
    split_series,
)
from rnncourse.models.forecaster import WindowForecaster
from rnncourse.runtime import resolve_device
from rnncourse.training import History, fit

__all__ = [
    "ForecastRun",
    "ForecastSettings",
    "ForecastStudy",
    "holt_winters_forecasts",
    "load_forecaster",
    "mae",
    "mase",
    "naive_forecasts",
    "rmse",
    "run_forecasting_study",
    "save_forecaster",
    "seasonal_naive_forecasts",
    "skill_score",
    "train_forecaster",
]


# ----------------------------------------------------------------------------------------------
# Errors


def _numpy(values: np.ndarray | Tensor | Any) -> np.ndarray:
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


def _pair(forecasts: np.ndarray | Tensor, truth: np.ndarray | Tensor) -> tuple[np.ndarray, ...]:
    forecasts, truth = _numpy(forecasts), _numpy(truth)
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
    train = _numpy(train)
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


# ----------------------------------------------------------------------------------------------
# Baselines


def naive_forecasts(inputs: Tensor | np.ndarray, horizon: int) -> np.ndarray:
    """ŷ_{t+h} = y_t for windows (N, L): (N, H)."""
    inputs = _numpy(inputs)
    return np.repeat(inputs[:, -1:], horizon, axis=1)


def seasonal_naive_forecasts(
    inputs: Tensor | np.ndarray, horizon: int, season_length: int
) -> np.ndarray:
    """ŷ_{t+h} = y_{t+h-m⌈h/m⌉}: the last observed season repeated, for windows (N, L ≥ m)."""
    inputs = _numpy(inputs)
    if inputs.shape[1] < season_length:
        raise ValueError(f"windows of {inputs.shape[1]} steps hold no full season of "
                         f"{season_length}")
    last_season = inputs[:, -season_length:]
    return last_season[:, np.arange(horizon) % season_length]


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


# ----------------------------------------------------------------------------------------------
# The recurrent forecaster


@dataclass
class ForecastSettings:
    """One forecasting run; lengths default to multiples of the series' season (see `resolved`)."""

    series: str = "co2"
    cell: str = "gru"
    input_length: int | None = None
    horizon: int | None = None
    test_length: int | None = None
    valid_length: int | None = None
    hidden_size: int = 64
    num_layers: int = 1
    relative: bool = True
    batch_size: int = 32
    lr: float = 3e-3
    clip_norm: float = 1.0
    max_steps: int = 600
    eval_every: int = 25
    patience: int = 8
    seed: int = 0

    def resolved(self, season_length: int) -> ForecastSettings:
        """Defaults filled in: L = 3 seasons, H = 2 seasons, test and validation 4 seasons
        (for a series without season, a "season" of 5 steps)."""
        season = season_length if season_length > 1 else 5
        return dataclasses.replace(
            self,
            input_length=self.input_length or 3 * season,
            horizon=self.horizon or 2 * season,
            test_length=self.test_length or 4 * season,
            valid_length=self.valid_length or 4 * season,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ForecastRun:
    """A trained forecaster, the scaler it needs, and its training record.

    `valid_mae[j]` (scaled units) was measured after `history.eval_step[j]`.
    """

    settings: ForecastSettings
    model: WindowForecaster
    scaler: SeriesScaler
    history: History
    valid_mae: list[float] = field(default_factory=list)
    best_step: int = -1
    stopped_early: bool = False

    @torch.no_grad()
    def forecast(self, windows: Tensor | np.ndarray) -> np.ndarray:
        """Forecasts (N, H) in the series' units from windows (N, L) in the series' units."""
        self.model.eval()
        scaled = self.scaler.transform(torch.as_tensor(np.asarray(windows), dtype=torch.float32))
        predicted = self.model(scaled.to(self.model.device)).cpu()
        return np.asarray(self.scaler.inverse_transform(predicted), dtype=float)


def train_forecaster(
    settings: ForecastSettings | None = None,
    *,
    data: TimeSeries | None = None,
    device: str | torch.device | None = None,
    progress: bool | None = False,
    **overrides: Any,
) -> ForecastRun:
    """Train a `WindowForecaster` on the training period of a series; keep the best weights.

    Periods: [train | valid | test] (`split_series`). The scaler is fitted on train only;
    training windows have all their targets in train, validation windows all theirs in valid
    (their inputs may reach back into train: the past is allowed). `data` replaces the series
    that `settings.series` names (a series of one's own, say). Mini-batches of windows are
    drawn at random; the loss is the mean squared error in scaled units; every `eval_every`
    steps the validation MAE is measured, and training stops after `patience` evaluations
    without improvement, keeping the best weights.
    """
    settings = dataclasses.replace(settings or ForecastSettings(), **overrides)
    series = data if data is not None else load_series(settings.series)
    settings = settings.resolved(series.season_length)
    device = resolve_device(device)
    train, valid, _ = split_series(series, settings.test_length, settings.valid_length)
    scaler = SeriesScaler().fit(train)  # the training period's statistics only
    length, horizon = settings.input_length, settings.horizon
    train_inputs, train_targets = make_windows(scaler.transform(train), length, horizon)
    valid_inputs, valid_targets = make_windows(
        scaler.transform(np.r_[train[-length:], valid]), length, min(horizon, len(valid)))
    valid_inputs, valid_targets = valid_inputs.to(device), valid_targets.to(device)
    train_inputs, train_targets = train_inputs.to(device), train_targets.to(device)

    model = WindowForecaster(horizon, settings.cell, settings.hidden_size, settings.num_layers,
                             relative=settings.relative, device=device, seed=settings.seed)
    run = ForecastRun(settings, model, scaler, History())
    best = {"mae": math.inf, "weights": None, "without_gain": 0}
    order = torch.Generator().manual_seed(settings.seed)

    def next_batch(step: int) -> tuple[Tensor, Tensor] | None:
        if run.stopped_early:
            return None  # ends the fit loop
        rows = torch.randint(len(train_inputs), (settings.batch_size,), generator=order)
        rows = rows.to(device)
        return train_inputs[rows], train_targets[rows]

    def validate(_: torch.nn.Module) -> float:
        predicted = model(valid_inputs)[:, : valid_targets.shape[1]]
        value = float((predicted - valid_targets).abs().mean())
        run.valid_mae.append(value)
        if value < best["mae"] - 1e-6:
            best.update(mae=value, without_gain=0,
                        weights={k: v.detach().clone() for k, v in model.state_dict().items()})
        else:
            best["without_gain"] += 1
            run.stopped_early = best["without_gain"] >= settings.patience
        return value

    run.history = fit(
        model, next_batch, torch.nn.functional.mse_loss, steps=settings.max_steps,
        lr=settings.lr, clip_norm=settings.clip_norm, device=device, seed=settings.seed,
        progress=progress, evaluate=validate, eval_every=settings.eval_every,
    )
    if best["weights"] is not None:
        model.load_state_dict(best["weights"])
        run.best_step = run.history.eval_step[run.valid_mae.index(best["mae"])]
    model.eval()
    return run


# ----------------------------------------------------------------------------------------------
# The study: every method on the held-out period


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


# ----------------------------------------------------------------------------------------------
# Checkpoints


def save_forecaster(path: str | os.PathLike, run: ForecastRun) -> Path:
    """Weights, scaler and settings of a trained forecaster in one file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "format": "rnncourse-forecaster/1",
        "settings": run.settings.to_dict(),
        "scaler": run.scaler.state_dict(),
        "model": {k: v.detach().cpu() for k, v in run.model.state_dict().items()},
    }, path)
    return path


def load_forecaster(path: str | os.PathLike, device: str | torch.device | None = None
                    ) -> ForecastRun:
    """A forecaster saved by `save_forecaster`, read via the CPU (`map_location`) so that a GPU
    checkpoint loads anywhere, then moved to `device`."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if checkpoint.get("format") != "rnncourse-forecaster/1":
        raise ValueError(f"{path} is not a checkpoint written by save_forecaster")
    settings = ForecastSettings(**checkpoint["settings"])
    model = WindowForecaster(settings.horizon, settings.cell, settings.hidden_size,
                             settings.num_layers, relative=settings.relative, device="cpu")
    model.load_state_dict(checkpoint["model"])
    model.to(resolve_device(device)).eval()
    return ForecastRun(settings, model, SeriesScaler.from_state_dict(checkpoint["scaler"]),
                       History())
