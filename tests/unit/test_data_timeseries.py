"""Real series from statsmodels' files, leak-free splits and windows, train-only scaling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnncourse.data.timeseries import TimeSeries, available_series, load_series
from rnncourse.data.windows import SeriesScaler, make_windows, split_series


@pytest.mark.parametrize("name", available_series())
def test_every_series_loads_offline(name: str) -> None:
    series = load_series(name)
    assert isinstance(series, TimeSeries)
    assert len(series) == len(series.values) == len(series.time) >= 100
    assert np.isfinite(series.values).all()
    assert np.all(np.diff(series.time) > 0)
    assert series.season_length >= 1
    assert series.frequency in ("year", "quarter", "month")
    assert "public domain" in series.licence
    assert "statsmodels" in series.source
    assert series.as_tensor().dtype == torch.float32


def test_known_values() -> None:
    sunspots = load_series("sunspots")
    assert (sunspots.time[0], sunspots.values[0]) == (1700.0, 5.0)
    assert len(sunspots) == 309 and sunspots.season_length == 11
    co2 = load_series("co2")
    assert co2.season_length == 12 and len(co2) == 526
    assert 310 < co2.values[0] < 320 and 365 < co2.values[-1] < 375
    assert len(load_series("nile")) == 100
    assert len(load_series("elnino")) == 61 * 12


def test_loaded_series_is_read_only_and_cached() -> None:
    series = load_series("nile")
    assert load_series("nile") is series
    with pytest.raises(ValueError):
        series.values[0] = 0.0


def test_unknown_series() -> None:
    with pytest.raises(ValueError, match="name must be one of"):
        load_series("dow jones")


def test_split_series_is_in_time_order() -> None:
    values = np.arange(100.0)
    train, valid, test = split_series(values, test_length=10, valid_length=15)
    assert (len(train), len(valid), len(test)) == (75, 15, 10)
    assert train[-1] < valid[0] and valid[-1] < test[0]
    train, valid, test = split_series(load_series("co2"), test_length=24)
    assert len(valid) == 0 and len(test) == 24
    with pytest.raises(ValueError, match="too short"):
        split_series(values, test_length=99)
    with pytest.raises(ValueError, match="test_length"):
        split_series(values, test_length=0)


def test_windows_never_see_the_future() -> None:
    values = np.arange(20.0)  # value = time index, so leaks are visible
    inputs, targets = make_windows(values, input_length=5, horizon=3)
    assert inputs.shape == (13, 5) and targets.shape == (13, 3)
    assert inputs.dtype == targets.dtype == torch.float32
    assert torch.all(inputs.max(dim=1).values < targets.min(dim=1).values)
    assert torch.equal(targets[:, 0], inputs[:, -1] + 1)  # the first target follows the input
    assert torch.equal(inputs[0], torch.arange(5.0))
    assert torch.equal(targets[-1], torch.tensor([17.0, 18.0, 19.0]))  # the last value is used


def test_windows_stride_and_tensor_input() -> None:
    inputs, targets = make_windows(torch.arange(20.0), input_length=4, horizon=2, stride=3)
    assert inputs.shape == (5, 4)
    assert torch.equal(inputs[:, 0], torch.tensor([0.0, 3.0, 6.0, 9.0, 12.0]))


def test_windows_bad_arguments() -> None:
    with pytest.raises(ValueError, match="no window"):
        make_windows(np.arange(5.0), input_length=4, horizon=2)
    with pytest.raises(ValueError, match="horizon"):
        make_windows(np.arange(10.0), input_length=4, horizon=0)
    with pytest.raises(ValueError, match="1-D"):
        make_windows(np.zeros((3, 4)), input_length=1, horizon=1)


def test_scaler_uses_the_training_part_only() -> None:
    train, _, test = split_series(np.r_[np.zeros(50), np.ones(50) * 10], test_length=50)
    scaler = SeriesScaler().fit(train)
    assert scaler.mean == 0.0 and scaler.scale == 1.0  # constant train: scale 1, not 0
    np.testing.assert_allclose(scaler.transform(test), 10.0)

    values = np.random.default_rng(0).normal(5.0, 2.0, size=200)
    scaler = SeriesScaler().fit(values[:150])
    scaled = scaler.transform(values[:150])
    assert abs(scaled.mean()) < 1e-12 and abs(scaled.std() - 1) < 1e-12
    assert abs(scaler.transform(values[150:]).mean()) > 1e-6  # not refitted on the test part
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(values)), values)


def test_scaler_on_tensors_and_state() -> None:
    scaler = SeriesScaler().fit(torch.tensor([1.0, 2.0, 3.0]))
    scaled = scaler.transform(torch.tensor([[2.0]], dtype=torch.float32))
    assert scaled.dtype == torch.float32 and scaled.item() == 0.0
    again = SeriesScaler.from_state_dict(scaler.state_dict())
    assert again.mean == scaler.mean and again.scale == scaler.scale
    with pytest.raises(RuntimeError, match="fit"):
        SeriesScaler().transform(np.zeros(3))
