"""Real time series from the data sets statsmodels installs.

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
Windows, splits and scaling that never see the future are in `windows.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

__all__ = ["SERIES", "TimeSeries", "available_series", "load_series"]


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
