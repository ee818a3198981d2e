"""Forecasting without cheating: three functions, one for each way the future can leak in.

- `split_series`: train, validation and test are consecutive periods, never shuffled samples;
- `make_windows`: input window x = v[i : i+L], targets y = v[i+L : i+L+H], so every target lies
  strictly after every input of its window;
- `SeriesScaler`: mean and spread are estimated on the training period alone, then applied to
  all periods (statistics of the test period would tell the model about its future).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rnncourse.data.timeseries import TimeSeries

__all__ = ["SeriesScaler", "make_windows", "split_series"]


def _as_1d_array(name: str, values: object) -> np.ndarray:
    if isinstance(values, TimeSeries):
        values = values.values
    if isinstance(values, Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per time step), got shape {array.shape}")
    return array


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def split_series(
    values: np.ndarray | Tensor | TimeSeries, test_length: int, valid_length: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, valid, test): the last `test_length` steps are the test period, the
    `valid_length` steps before them the validation period, everything earlier is training.

    Consecutive periods in time order, never a random split: a forecaster is judged on a
    future it has not seen.
    """
    array = _as_1d_array("values", values)
    test_length = _check_int("test_length", test_length, 1)
    valid_length = _check_int("valid_length", valid_length, 0)
    train_end = len(array) - test_length - valid_length
    if train_end < 2:
        raise ValueError(
            f"a series of {len(array)} steps is too short for test_length={test_length} and "
            f"valid_length={valid_length}: no training period is left"
        )
    valid_end = train_end + valid_length
    return array[:train_end], array[train_end:valid_end], array[valid_end:]


def make_windows(
    values: np.ndarray | Tensor | TimeSeries,
    input_length: int,
    horizon: int,
    stride: int = 1,
) -> tuple[Tensor, Tensor]:
    """All (input, target) windows of a series, as float32 tensors (N, L) and (N, H).

    Window i (i = 0, stride, 2·stride, ...) is

        inputs[i]  = v[i     : i + L]         the past the forecaster sees
        targets[i] = v[i + L : i + L + H]     the H values that follow it

    so every target comes strictly after every input of its window, and N = (n - L - H) //
    stride + 1 windows fit in a series of n steps. For test windows whose targets lie in the test
    period only, pass the test period with the last L training values in front of it.
    """
    array = _as_1d_array("values", values)
    input_length = _check_int("input_length", input_length, 1)
    horizon = _check_int("horizon", horizon, 1)
    stride = _check_int("stride", stride, 1)
    span = input_length + horizon
    if len(array) < span:
        raise ValueError(
            f"a series of {len(array)} steps holds no window of input_length={input_length} "
            f"plus horizon={horizon}"
        )
    starts = np.arange(0, len(array) - span + 1, stride)
    inputs = array[starts[:, None] + np.arange(input_length)[None, :]]
    targets = array[starts[:, None] + input_length + np.arange(horizon)[None, :]]
    return (torch.as_tensor(inputs, dtype=torch.float32),
            torch.as_tensor(targets, dtype=torch.float32))


class SeriesScaler:
    """Standardisation z = (v - mean) / scale with mean and scale of the training part only.

    `fit(train)` estimates them; `transform` and `inverse_transform` apply them to any period,
    numpy array or tensor (a tensor keeps its device and dtype). A constant training part gets
    scale 1, not 0.
    """

    def __init__(self) -> None:
        self.mean: float | None = None
        self.scale: float | None = None

    def fit(self, train: np.ndarray | Tensor | TimeSeries) -> SeriesScaler:
        array = _as_1d_array("train", train)
        if len(array) < 2:
            raise ValueError(f"train must hold at least 2 values, got {len(array)}")
        self.mean = float(array.mean())
        spread = float(array.std())
        self.scale = spread if spread > 0 else 1.0
        return self

    def _check_fitted(self) -> tuple[float, float]:
        if self.mean is None or self.scale is None:
            raise RuntimeError("call fit(train) before transform or inverse_transform")
        return self.mean, self.scale

    def transform(self, values):  # noqa: ANN001, ANN201 (array in, same kind out)
        """(values - mean) / scale, for an array or tensor of any shape."""
        mean, scale = self._check_fitted()
        return (values - mean) / scale

    def inverse_transform(self, values):  # noqa: ANN001, ANN201
        """values · scale + mean: back to the series' units."""
        mean, scale = self._check_fitted()
        return values * scale + mean

    def fit_transform(self, train: np.ndarray | Tensor) -> np.ndarray | Tensor:
        return self.fit(train).transform(train)

    def state_dict(self) -> dict[str, float | None]:
        return {"mean": self.mean, "scale": self.scale}

    @classmethod
    def from_state_dict(cls, state: dict[str, float | None]) -> SeriesScaler:
        scaler = cls()
        scaler.mean, scaler.scale = state["mean"], state["scale"]
        return scaler

    def __repr__(self) -> str:
        return f"SeriesScaler(mean={self.mean}, scale={self.scale})"
