"""A trained forecaster in one file: weights, scaler and settings; it loads on any device."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from rnncourse.data.windows import SeriesScaler
from rnncourse.models.forecaster import WindowForecaster
from rnncourse.runtime import resolve_device
from rnncourse.training.forecasting.train import ForecastRun, ForecastSettings
from rnncourse.training.history import History

__all__ = ["load_forecaster", "save_forecaster"]


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
