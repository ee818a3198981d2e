"""Forecasting a real series with a recurrent network, against honest baselines: the second case
study of chapter 6, the series transfer of chapter 5, and `rnncourse train forecast`.

    metrics.py      MAE, RMSE, MASE, skill score
    baselines.py    naive, seasonal naive and Holt-Winters forecasts
    train.py        train_forecaster: windows, a training-only scaler, early stopping
    study.py        run_forecasting_study: every method from every origin of the test period
    checkpoints.py  save_forecaster / load_forecaster

The model is `rnncourse.models.WindowForecaster`; the series and windows are in `rnncourse.data`.
"""

from rnncourse.training.forecasting.baselines import (
    holt_winters_forecasts,
    naive_forecasts,
    seasonal_naive_forecasts,
)
from rnncourse.training.forecasting.checkpoints import load_forecaster, save_forecaster
from rnncourse.training.forecasting.metrics import mae, mase, rmse, skill_score
from rnncourse.training.forecasting.study import ForecastStudy, run_forecasting_study
from rnncourse.training.forecasting.train import ForecastRun, ForecastSettings, train_forecaster

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
