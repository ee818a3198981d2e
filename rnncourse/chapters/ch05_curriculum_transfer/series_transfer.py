"""Chapter 5, transfer learning for time series: the experiment behind the page.

A forecaster (chapter 6's `WindowForecaster`) is pretrained on many synthetic seasonal series and
then used as it is, or fine-tuned, on a short stretch of a real series (yearly sunspots), against
the same network trained from scratch on that stretch and the naive and seasonal-naive forecasts.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from rnncourse.runtime import resolve_device, seeded_generator
from rnncourse.training import fit

__all__ = [
    "SeriesTransferResult",
    "run_series_transfer",
    "synthetic_seasonal_series",
]



def synthetic_seasonal_series(
    count: int, length: int, *, min_period: float = 4.0, max_period: float = 30.0,
    seed: int | None = None,
) -> Tensor:
    """`count` random series of `length` steps, each scaled to mean 0 and standard deviation 1:

        x_t = β t + Σ_{k=1,2} a_k sin(2π t / P_k + φ_k) + ε_t,   ε_t = 0.5 ε_{t-1} + 0.3 η_t

    with periods P_k drawn log-uniformly in [min_period, max_period], amplitudes a_k ~ U[0, 1]
    (the first at least 0.5), phases φ_k ~ U[0, 2π), a small trend β and Gaussian η_t. They share
    no data with any real series, only the idea that values rise and fall in cycles.
    """
    if count < 1 or length < 2:
        raise ValueError(f"need count >= 1 and length >= 2, got {count} and {length}")
    generator = seeded_generator(seed, torch.device("cpu"))
    t = torch.arange(length, dtype=torch.float32)
    log_periods = torch.empty(count, 2).uniform_(math.log(min_period), math.log(max_period),
                                                 generator=generator)
    amplitudes = torch.rand(count, 2, generator=generator)
    amplitudes[:, 0] = 0.5 + 0.5 * amplitudes[:, 0]
    phases = 2 * math.pi * torch.rand(count, 2, 1, generator=generator)
    waves = torch.sin(2 * math.pi * t / log_periods.exp().unsqueeze(-1) + phases)  # (N, 2, T)
    series = (amplitudes.unsqueeze(-1) * waves).sum(dim=1)
    series += 0.01 * torch.randn(count, 1, generator=generator) * t  # β t
    shocks = 0.3 * torch.randn(count, length, generator=generator)
    noise = torch.zeros(count)
    for step in range(length):  # ε_t = 0.5 ε_{t-1} + 0.3 η_t
        noise = 0.5 * noise + shocks[:, step]
        series[:, step] += noise
    return (series - series.mean(1, keepdim=True)) / series.std(1, keepdim=True)


def _window_batches(inputs: Tensor, targets: Tensor, batch_size: int, seed: int):
    """`step -> (inputs, targets)`: `batch_size` windows drawn at random (with replacement)."""
    generator = seeded_generator(seed, torch.device("cpu"))

    def next_batch(step: int) -> tuple[Tensor, Tensor]:
        rows = torch.randint(len(inputs), (batch_size,), generator=generator)
        return inputs[rows], targets[rows]

    return next_batch


def _synthetic_windows(count: int, length: int, input_length: int, horizon: int, seed: int,
                       periods: tuple[float, float]) -> tuple[Tensor, Tensor]:
    """Every window (stride 1) of `count` synthetic series, stacked."""
    series = synthetic_seasonal_series(count, length, min_period=periods[0],
                                       max_period=periods[1], seed=seed)
    windows = series.unfold(1, input_length + horizon, 1).reshape(-1, input_length + horizon)
    return windows[:, :input_length].contiguous(), windows[:, input_length:].contiguous()


@dataclass
class SeriesTransferResult:
    """Test MAE (in the series' units) of each method, for each length of real history.

    `mae[method][i]` is the mean over seeds for `history_lengths[i]`; `per_seed` keeps each
    seed's value. "naive" and "seasonal naive" need no training and do not depend on the
    history length. `example` holds one test origin's forecasts, for a figure.
    """

    series: str
    input_length: int
    horizon: int
    season_length: int
    test_years: tuple[float, float]
    history_lengths: list[int]
    mae: dict[str, list[float]]
    per_seed: dict[str, list[list[float]]]
    pretrain_windows: int
    example: dict[str, Any] = field(default_factory=dict)


def run_series_transfer(
    series: str = "sunspots",
    *,
    history_lengths: Sequence[int] = (32, 64, 128),
    test_length: int = 44,
    input_length: int = 20,
    horizon: int = 10,
    hidden_size: int = 32,
    synthetic_series: int = 400,
    synthetic_length: int = 120,
    periods: tuple[float, float] = (8.0, 16.0),
    pretrain_steps: int = 600,
    steps: int = 200,
    lr: float = 3e-3,
    fine_tune_lr: float = 1e-3,
    batch_size: int = 64,
    seeds: Sequence[int] = (0, 1),
    device: str | torch.device | None = None,
    seed: int = 0,
) -> SeriesTransferResult:
    """Forecast the last `test_length` steps of a real series from `input_length` past values,
    `horizon` steps at once, having trained on only the `history_lengths[i]` steps before them.

    Methods: the forecaster trained from scratch on that history; the same network pretrained
    on windows of `synthetic_series` synthetic series (`synthetic_seasonal_series`), used as it
    is ("pretrained, not fine-tuned") and fine-tuned on the history; the naive and seasonal
    naive forecasts. The synthetic series cycle with periods drawn in `periods`, the range a
    forecaster of the target is expected to meet. Every learned model is a `WindowForecaster`
    (GRU, `hidden_size`); inputs are scaled with the history's mean and standard deviation
    only. Scratch and fine-tuning runs take the same number of `steps`.
    """
    from rnncourse.data.timeseries import load_series
    from rnncourse.data.windows import SeriesScaler, make_windows
    from rnncourse.models.forecaster import WindowForecaster
    from rnncourse.training.forecasting.baselines import naive_forecasts, seasonal_naive_forecasts
    from rnncourse.training.forecasting.metrics import mae

    device = resolve_device(device)
    data = load_series(series)
    values = torch.tensor(data.values, dtype=torch.float32)  # a copy: the arrays are read-only
    test_start = len(values) - test_length
    if max(history_lengths) > test_start or min(history_lengths) < input_length + horizon:
        raise ValueError(f"history_lengths must lie in [{input_length + horizon}, {test_start}]")
    # Test windows: every origin whose whole horizon lies in the test period.
    test_inputs, test_truth = make_windows(values[test_start - input_length:], input_length,
                                           horizon)
    m = data.season_length
    per_seed: dict[str, list[list[float]]] = {
        "naive": [[mae(naive_forecasts(test_inputs, horizon), test_truth)]],
        "seasonal naive": [[mae(seasonal_naive_forecasts(test_inputs, horizon, m), test_truth)]],
    }
    pretrain_inputs, pretrain_targets = _synthetic_windows(
        synthetic_series, synthetic_length, input_length, horizon, seed, periods)
    example: dict[str, Any] = {}
    for run_seed in (seed + s for s in seeds):
        # Pretraining: one model per seed, on the synthetic windows (in their own scale).
        pretrained = WindowForecaster(horizon, "gru", hidden_size, device=device, seed=run_seed)
        fit(pretrained, _window_batches(pretrain_inputs.to(device), pretrain_targets.to(device),
                                        batch_size, run_seed),
            F.mse_loss, steps=pretrain_steps, lr=lr, clip_norm=1.0, device=device,
            seed=run_seed, progress=False)
        for method in ("from scratch", "pretrained, not fine-tuned", "pretrained + fine-tuned"):
            per_seed.setdefault(method, []).append([])
        for length in history_lengths:
            history = values[test_start - length:test_start]
            scaler = SeriesScaler().fit(history.numpy())
            inputs, targets = make_windows(scaler.transform(history), input_length, horizon)
            batches = _window_batches(inputs.to(device), targets.to(device), batch_size,
                                      run_seed)
            scratch = WindowForecaster(horizon, "gru", hidden_size, device=device, seed=run_seed)
            fit(scratch, batches, F.mse_loss, steps=steps, lr=lr, clip_norm=1.0,
                device=device, seed=run_seed, progress=False)
            tuned = copy.deepcopy(pretrained)
            fit(tuned, batches, F.mse_loss, steps=steps, lr=fine_tune_lr, clip_norm=1.0,
                device=device, seed=run_seed, progress=False)
            models = {"from scratch": scratch, "pretrained, not fine-tuned": pretrained,
                      "pretrained + fine-tuned": tuned}
            scaled_test = scaler.transform(test_inputs).to(device)
            for method, model in models.items():
                model.eval()
                with torch.no_grad():
                    forecast = scaler.inverse_transform(model(scaled_test).cpu())
                per_seed[method][-1].append(mae(forecast, test_truth))
                if run_seed == seed and length == min(history_lengths):
                    example[method] = forecast
    example.update(
        truth=test_truth, inputs=test_inputs,
        naive=naive_forecasts(test_inputs, horizon),
        time=data.time[test_start - input_length:], values=data.values[test_start - input_length:],
    )
    mean = {method: torch.tensor(runs, dtype=torch.float64).mean(0).tolist()
            for method, runs in per_seed.items()}
    for method in ("naive", "seasonal naive"):  # the same for every history length
        mean[method] = mean[method] * len(history_lengths)
    return SeriesTransferResult(
        series, input_length, horizon, m,
        (float(data.time[test_start]), float(data.time[-1])), list(history_lengths), mean,
        per_seed, len(pretrain_inputs), example)
