"""Real time series from the data sets statsmodels installs, windows that never see the future,
and a scaler fitted on the training part only.

| name              | what                                              | step    |   n | season |
|-------------------|---------------------------------------------------|---------|----:|-------:|
| `sunspots`        | yearly mean sunspot number, 1700-2008             | year    | 309 |     11 |
| `co2`             | Mauna Loa CO2 (ppm), monthly means, 1958-2001     | month   | 526 |     12 |
| `nile`            | yearly Nile flow at Aswan (10^8 m^3), 1871-1970   | year    | 100 |      1 |
| `elnino`          | Nino 1+2 sea-surface temperature (C), 1950-2010   | month   | 732 |     12 |
| `us_unemployment` | US unemployment rate (%), 1959Q1-2009Q3           | quarter | 203 |      4 |

`season_length` is what a seasonal-naive forecast repeats: 12 months, 4 quarters, and for the
sunspots the length of the solar cycle rounded to whole years (11; the cycle varies from about
9 to 14 years, so a seasonal-naive forecast of sunspots is a rough one). The Nile has no season (1).

Forecasting without cheating means three things, each a function here:

- `split_series`: train, validation and test are consecutive periods, never shuffled samples;
- `make_windows`: input window x = v[i : i+L], targets y = v[i+L : i+L+H], so every target lies
  strictly after every input of its window;
- `SeriesScaler`: mean and spread are estimated on the training period alone, then applied to
  all periods (statistics of the test period would tell the model about its future).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "SERIES",
    "SeriesScaler",
    "TimeSeries",
    "available_series",
    "load_series",
    "make_windows",
    "split_series",
]


@dataclass(frozen=True)
class TimeSeries:
    """One real series: `values[i]` was observed at `time[i]` (decimal years, e.g. 1958.25).

    `frequency` is "year", "quarter" or "month"; `season_length` the period of its seasonal cycle
    in steps (1 when it has none); `source` and `licence` say where it comes from.
    """

    name: str
    title: str
    values: np.ndarray = field(repr=False)
    time: np.ndarray = field(repr=False)
    frequency: str
    season_length: int
    units: str
    source: str
    licence: str

    def __len__(self) -> int:
        return len(self.values)

    def as_tensor(self, dtype: torch.dtype = torch.float32) -> Tensor:
        """The values as a 1-D torch tensor."""
        return torch.tensor(self.values, dtype=dtype)  # a copy: the cached array is read-only


@dataclass(frozen=True)
class _SeriesRecipe:
    title: str
    frequency: str
    season_length: int
    units: str
    statsmodels_dataset: str
    source: str


SERIES: dict[str, _SeriesRecipe] = {
    "sunspots": _SeriesRecipe(
        "Yearly mean sunspot number", "year", 11, "sunspot number", "sunspots",
        "NOAA National Geophysical Data Center, via statsmodels.datasets.sunspots",
    ),
    "co2": _SeriesRecipe(
        "Atmospheric CO2 at Mauna Loa", "month", 12, "ppm", "co2",
        "Keeling and Whorf (2004), Scripps flask samples at Mauna Loa, via "
        "statsmodels.datasets.co2 (weekly; averaged here to months, the few empty months "
        "filled by linear interpolation)",
    ),
    "nile": _SeriesRecipe(
        "Yearly flow of the Nile at Aswan", "year", 1, "10^8 m^3", "nile",
        "Cobb (1978), via statsmodels.datasets.nile",
    ),
    "elnino": _SeriesRecipe(
        "Nino 1+2 sea-surface temperature", "month", 12, "deg C", "elnino",
        "NOAA National Weather Service, ERSST.V3B Nino 1+2 index, via "
        "statsmodels.datasets.elnino",
    ),
    "us_unemployment": _SeriesRecipe(
        "US unemployment rate", "quarter", 4, "percent", "macrodata",
        "US Bureau of Labor Statistics, compiled in statsmodels.datasets.macrodata",
    ),
}


def available_series() -> list[str]:
    """Names of the series `load_series` knows, in alphabetical order."""
    return sorted(SERIES)


def _import_datasets():  # noqa: ANN202 (a module)
    try:
        from statsmodels import datasets
    except ImportError as error:  # pragma: no cover - statsmodels is in the [data] extra
        raise ImportError(
            "the time series come from statsmodels' bundled data sets: "
            "pip install 'rnncourse[data]' (or statsmodels)"
        ) from error
    return datasets


def _read(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(time in decimal years, values) of one series, read from statsmodels' files."""
    datasets = _import_datasets()
    if name == "sunspots":
        frame = datasets.sunspots.load_pandas().data
        return frame["YEAR"].to_numpy(float), frame["SUNACTIVITY"].to_numpy(float)
    if name == "nile":
        frame = datasets.nile.load_pandas().data
        return frame["year"].to_numpy(float), frame["volume"].to_numpy(float)
    if name == "co2":
        weekly = datasets.co2.load_pandas().data["co2"]
        monthly = weekly.resample("MS").mean().interpolate(method="linear")
        time = monthly.index.year + (monthly.index.month - 1) / 12
        return np.asarray(time, dtype=float), monthly.to_numpy(float)
    if name == "elnino":
        frame = datasets.elnino.load_pandas().data
        table = frame.drop(columns="YEAR").to_numpy(float)  # (years, 12 months)
        years = frame["YEAR"].to_numpy(float)
        time = (years[:, None] + np.arange(12)[None, :] / 12).reshape(-1)
        return time, table.reshape(-1)
    if name == "us_unemployment":
        frame = datasets.macrodata.load_pandas().data
        time = frame["year"].to_numpy(float) + (frame["quarter"].to_numpy(float) - 1) / 4
        return time, frame["unemp"].to_numpy(float)
    raise AssertionError(name)  # pragma: no cover - names are checked before


def _licence(statsmodels_dataset: str) -> str:
    module = getattr(_import_datasets(), statsmodels_dataset)
    note = " ".join(str(getattr(module, "COPYRIGHT", "")).split())
    return f"public domain (statsmodels' note: {note!r})" if note else "public domain"


@lru_cache(maxsize=16)
def _load(name: str) -> TimeSeries:
    recipe = SERIES[name]
    time, values = _read(name)
    if not np.isfinite(values).all():
        raise RuntimeError(f"series {name!r} has missing values after loading")
    values.setflags(write=False)
    time.setflags(write=False)
    return TimeSeries(
        name=name, title=recipe.title, values=values, time=time, frequency=recipe.frequency,
        season_length=recipe.season_length, units=recipe.units, source=recipe.source,
        licence=_licence(recipe.statsmodels_dataset),
    )


def load_series(name: str) -> TimeSeries:
    """Series `name` (see `available_series()`), read offline from statsmodels' data files.

    The arrays are read-only (they are cached and shared); copy before changing them.
    """
    if name not in SERIES:
        raise ValueError(f"name must be one of {', '.join(available_series())}; got {name!r}")
    return _load(name)


# ----------------------------------------------------------------------------------------------
# Splits, windows, scaling


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
