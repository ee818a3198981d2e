"""Training a recurrent forecaster (`WindowForecaster`) on the windows of one real series.

Periods: [train | valid | test] (`rnncourse.data.split_series`). The scaler is fitted on the
training period only; training windows have all their targets in it; every few steps the
validation MAE decides early stopping, and the best weights are kept. All of it runs through the
course's one fit loop.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnncourse.data.timeseries import TimeSeries, load_series
from rnncourse.data.windows import SeriesScaler, make_windows, split_series
from rnncourse.models.forecaster import WindowForecaster
from rnncourse.runtime import resolve_device
from rnncourse.training.history import History
from rnncourse.training.loop import fit

__all__ = ["ForecastRun", "ForecastSettings", "train_forecaster"]


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

