"""Chapter 6's forecasting study: errors, baselines, Holt-Winters, the recurrent forecaster."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.timeseries import load_series
from rnncourse.models.forecaster import WindowForecaster
from rnncourse.training.forecasting.baselines import (
    holt_winters_forecasts,
    naive_forecasts,
    seasonal_naive_forecasts,
)
from rnncourse.training.forecasting.checkpoints import load_forecaster, save_forecaster
from rnncourse.training.forecasting.metrics import mae, mase, rmse, skill_score
from rnncourse.training.forecasting.study import run_forecasting_study
from rnncourse.training.forecasting.train import ForecastSettings, train_forecaster

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"hidden_size": 8, "max_steps": 40, "eval_every": 10, "batch_size": 16}


def test_errors_by_hand() -> None:
    forecasts, truth = np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]])
    assert mae(forecasts, truth) == pytest.approx(1.5)
    assert rmse(forecasts, truth) == pytest.approx(np.sqrt(2.5))
    train = np.array([0.0, 1.0, 0.0, 1.0, 0.0])  # one-step naive error 1, seasonal (m=2) error 0
    assert mase(forecasts, truth, train, 1) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="MASE is undefined"):
        mase(forecasts, truth, train, 2)
    assert skill_score(1.0, 4.0) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="must match"):
        mae(forecasts, truth[:, :1])


def test_naive_and_seasonal_naive() -> None:
    windows = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    assert naive_forecasts(windows, 3).tolist() == [[6.0, 6.0, 6.0]]
    assert seasonal_naive_forecasts(windows, 5, 4).tolist() == [[3.0, 4.0, 5.0, 6.0, 3.0]]
    with pytest.raises(ValueError, match="full season"):
        seasonal_naive_forecasts(windows, 2, 7)


@pytest.mark.parametrize(("season", "horizon"), [(1, 3), (4, 11), (12, 24), (12, 37)])
def test_seasonal_naive_is_hyndman_and_athanasopoulos_formula(season: int, horizon: int) -> None:
    """ŷ_{T+h|T} = y_{T+h-m(k+1)} with k = ⌊(h-1)/m⌋ (FPP3 §5.2), never a value after y_T."""
    series = np.arange(100.0) ** 1.5  # all values distinct, so a wrong index cannot pass
    windows = np.stack([series[:50], series[10:60]])  # windows ending at T = 49 and T = 59
    forecasts = seasonal_naive_forecasts(windows, horizon, season)
    for row, last in enumerate((49, 59)):
        for h in range(1, horizon + 1):
            k = (h - 1) // season
            index = last + h - season * (k + 1)
            assert index <= last
            assert forecasts[row, h - 1] == series[index]
            assert index == last + h - season * -(-h // season)  # the ⌈h/m⌉ form


def test_holt_winters_follows_a_trend_and_season() -> None:
    steps = np.arange(120)
    values = 10 + 0.5 * steps + 3 * np.sin(2 * np.pi * steps / 12)
    forecasts, fitted = holt_winters_forecasts(values[:96], values, np.array([96, 100]), 12, 12)
    assert fitted["trend"] == "add"
    np.testing.assert_allclose(forecasts[0], values[96:108], atol=0.2)
    np.testing.assert_allclose(forecasts[1], values[100:112], atol=0.2)


def test_forecaster_shapes_and_relative_output() -> None:
    model = WindowForecaster(horizon=5, hidden_size=4, device="cpu", seed=0)
    windows = torch.randn(3, 10)
    assert model(windows).shape == (3, 5)
    # Relative: shifting the window shifts the forecast by the same amount.
    torch.testing.assert_close(model(windows + 100.0), model(windows) + 100.0, atol=1e-4,
                               rtol=0)
    with pytest.raises(ValueError, match="batch, input_length"):
        model(torch.randn(10))


def test_train_forecaster_learns_and_stops(device: str) -> None:
    run = train_forecaster(series="co2", device=device, **TINY)
    assert run.settings.input_length == 36 and run.settings.horizon == 24
    assert len(run.valid_mae) == 4 and run.best_step in run.history.eval_step
    assert run.scaler.mean < 340  # the training period's mean, before the test years
    assert min(run.valid_mae) < run.valid_mae[0] or run.best_step == 9


def test_study_compares_all_methods_on_the_test_period() -> None:
    study = run_forecasting_study(series="co2", device="cpu", **TINY)
    series = load_series("co2")
    assert set(study.forecasts) == {"naive", "seasonal naive", "Holt-Winters", "GRU"}
    test_start = len(series) - 48
    assert study.origins[0] == test_start and study.origins[-1] == len(series) - 24
    np.testing.assert_array_equal(study.truth[0], series.values[test_start:test_start + 24])
    for errors in study.errors.values():
        assert errors["mae"] > 0 and errors["rmse"] >= errors["mae"]
    assert study.errors["naive"]["skill_vs_naive"] == pytest.approx(0.0)
    # CO2's season is strong and its trend steady: Holt-Winters beats both naive forecasts.
    assert study.errors["Holt-Winters"]["mae"] < study.errors["seasonal naive"]["mae"] / 2
    assert study.error_by_horizon("naive").shape == (24,)
    metrics = study.metrics()
    assert metrics["errors"]["GRU"]["mase"] == study.errors["GRU"]["mase"]


def test_checkpoint_round_trip(tmp_path, device: str) -> None:
    run = train_forecaster(ForecastSettings(series="nile", cell="lstm"), device="cpu",
                           **{**TINY, "max_steps": 10})
    windows = torch.tensor(load_series("nile").values[:15], dtype=torch.float32)[None]
    loaded = load_forecaster(save_forecaster(tmp_path / "f.pt", run), device=device)
    assert loaded.model.device.type == device
    np.testing.assert_allclose(loaded.forecast(windows), run.forecast(windows), rtol=1e-5)
    torch.save({}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="save_forecaster"):
        load_forecaster(tmp_path / "other.pt")
