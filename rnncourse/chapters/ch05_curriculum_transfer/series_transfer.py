"""Chapter 5, transfer learning for time series: the experiment behind the page.

A forecaster (chapter 6's `WindowForecaster`) is pretrained on many synthetic seasonal series and
then used as it is, or fine-tuned, on a short stretch of a real series (yearly sunspots), against
the same network trained from scratch on that stretch and the naive and seasonal-naive forecasts.

Every learned model here is a small GRU written as a Python loop over time (the "rnncourse"
backend), and all the models of one kind train at once as an `Ensemble` (`train_together`): the
seeds' pretrained models in one, the nine scratch models (three seeds, three histories) in
another, the nine fine-tuned ones in a third. On a CPU, torch's GRU backward pass is a chain of
small operations per time step, so one model after another pays that fixed cost 9 times; the
stacked ensemble pays it once.
"""

from __future__ import annotations

import copy
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.models.ensemble import Ensemble, clip_grad_norm_per_member_
from rnncourse.runtime import resolve_device, seeded_generator

__all__ = [
    "LEARNED_METHODS",
    "SeriesTransferResult",
    "run_series_transfer",
    "synthetic_seasonal_series",
    "train_together",
]

LEARNED_METHODS = ("from scratch", "pretrained, not fine-tuned", "pretrained + fine-tuned")


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


def _synthetic_windows(count: int, length: int, input_length: int, horizon: int, seed: int,
                       periods: tuple[float, float]) -> tuple[Tensor, Tensor]:
    """Every window (stride 1) of `count` synthetic series, stacked."""
    series = synthetic_seasonal_series(count, length, min_period=periods[0],
                                       max_period=periods[1], seed=seed)
    windows = series.unfold(1, input_length + horizon, 1).reshape(-1, input_length + horizon)
    return windows[:, :input_length].contiguous(), windows[:, input_length:].contiguous()


def train_together(
    models: Sequence[nn.Module],
    windows: Sequence[tuple[Tensor, Tensor]],
    seeds: Sequence[int],
    *,
    steps: int,
    lr: float,
    batch_size: int,
    clip_norm: float = 1.0,
) -> list[nn.Module]:
    """Train K same-shaped forecasters at once, as one `Ensemble`, and return them trained.

    Member k draws `batch_size` of its own windows `windows[k]` = (inputs (N_k, L), targets
    (N_k, H)) at random each step, with a generator seeded by `seeds[k]`, and takes an Adam step
    on its mean squared error, its gradient clipped to norm `clip_norm` on its own:

        L = Σ_k L_k,   ∂L/∂θ_k = ∂L_k/∂θ_k,   g_k ← g_k · min(1, c / ‖g_k‖₂)

    Adam works element by element, so this is exactly K separate trainings.
    """
    if not len(models) == len(windows) == len(seeds):
        raise ValueError(f"need one windows pair and one seed per model, got {len(models)} "
                         f"models, {len(windows)} windows and {len(seeds)} seeds")
    ensemble = Ensemble(models)
    device = next(ensemble.parameters()).device
    optimizer = torch.optim.Adam(ensemble.parameters(), lr=lr)
    generators = [seeded_generator(seed, torch.device("cpu")) for seed in seeds]
    ensemble.train()
    for _ in range(steps):
        rows = [torch.randint(len(inputs), (batch_size,), generator=generator)
                for (inputs, _), generator in zip(windows, generators, strict=True)]
        inputs = torch.stack([x[r] for (x, _), r in zip(windows, rows, strict=True)]).to(device)
        targets = torch.stack([y[r] for (_, y), r in zip(windows, rows, strict=True)]).to(device)
        optimizer.zero_grad(set_to_none=True)
        forecasts = ensemble(inputs, per_member_inputs=True)  # (K, B, H)
        losses = F.mse_loss(forecasts, targets, reduction="none").flatten(1).mean(1)  # L_k
        losses.sum().backward()
        clip_grad_norm_per_member_(ensemble, clip_norm)
        optimizer.step()
    return [ensemble.member(k).to(device).eval() for k in range(len(ensemble))]


@dataclass
class SeriesTransferResult:
    """Test MAE (in the series' units) of each method, for each length of real history.

    `per_seed[method][s][i]` is seed s's MAE with `history_lengths[i]` years; `mae` and
    `mae_std` their mean and standard deviation over seeds. "naive" and "seasonal naive" need
    no training and do not depend on the history. `example` holds the first seed's forecasts
    with the shortest history, for a figure.
    """

    series: str
    input_length: int
    horizon: int
    season_length: int
    test_years: tuple[float, float]
    history_lengths: list[int]
    seeds: list[int]
    per_seed: dict[str, list[list[float]]]
    pretrain_windows: int
    example: dict[str, Any] = field(default_factory=dict)

    @property
    def mae(self) -> dict[str, list[float]]:
        return {method: [statistics.fmean(column) for column in zip(*runs, strict=True)]
                for method, runs in self.per_seed.items()}

    @property
    def mae_std(self) -> dict[str, list[float]]:
        return {method: [statistics.stdev(column) if len(column) > 1 else 0.0
                         for column in zip(*runs, strict=True)]
                for method, runs in self.per_seed.items()}


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
    pretrain_steps: int = 200,
    steps: int = 100,
    lr: float = 3e-3,
    fine_tune_lr: float = 1e-3,
    batch_size: int = 32,
    seeds: Sequence[int] = (0, 1, 2),
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
    only. Scratch and fine-tuning runs take the same number of `steps` on the same batches.
    One pretrained model per entry of `seeds` (offset by `seed`); the models of one kind train
    together (`train_together`).
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
    run_seeds = [seed + s for s in seeds]
    # Test windows: every origin whose whole horizon lies in the test period.
    test_inputs, test_truth = make_windows(values[test_start - input_length:], input_length,
                                           horizon)
    m = data.season_length
    per_seed: dict[str, list[list[float]]] = {
        "naive": [[mae(naive_forecasts(test_inputs, horizon), test_truth)]],
        "seasonal naive": [[mae(seasonal_naive_forecasts(test_inputs, horizon, m), test_truth)]],
    }

    def forecaster(model_seed: int) -> WindowForecaster:
        return WindowForecaster(horizon, "gru", hidden_size, backend="rnncourse", device=device,
                                seed=model_seed)

    # Pretraining: one model per seed, on the synthetic windows (in their own scale).
    pretrain = _synthetic_windows(synthetic_series, synthetic_length, input_length, horizon,
                                  seed, periods)
    pretrained = train_together([forecaster(s) for s in run_seeds], [pretrain] * len(run_seeds),
                                run_seeds, steps=pretrain_steps, lr=lr, batch_size=batch_size)
    # One scratch and one fine-tuned model per (seed, history), on that history's windows.
    runs = [(index, length) for index in range(len(run_seeds)) for length in history_lengths]
    scalers, windows = [], []
    for _, length in runs:
        history = values[test_start - length:test_start]
        scalers.append(SeriesScaler().fit(history.numpy()))
        windows.append(make_windows(scalers[-1].transform(history), input_length, horizon))
    batch_seeds = [run_seeds[index] for index, _ in runs]
    trained = {
        "from scratch": train_together(
            [forecaster(run_seeds[index]) for index, _ in runs], windows, batch_seeds,
            steps=steps, lr=lr, batch_size=batch_size),
        "pretrained, not fine-tuned": [pretrained[index] for index, _ in runs],
        "pretrained + fine-tuned": train_together(
            [copy.deepcopy(pretrained[index]) for index, _ in runs], windows, batch_seeds,
            steps=steps, lr=fine_tune_lr, batch_size=batch_size),
    }
    example: dict[str, Any] = {}
    for method, models in trained.items():
        per_seed[method] = [[] for _ in run_seeds]
        for (index, length), model, scaler in zip(runs, models, scalers, strict=True):
            with torch.no_grad():
                forecast = scaler.inverse_transform(
                    model(scaler.transform(test_inputs).to(device)).cpu())
            per_seed[method][index].append(mae(forecast, test_truth))
            if index == 0 and length == min(history_lengths):
                example[method] = forecast
    for method in ("naive", "seasonal naive"):  # the same for every history length
        per_seed[method] = [per_seed[method][0] * len(history_lengths)]
    example.update(
        truth=test_truth, inputs=test_inputs,
        naive=naive_forecasts(test_inputs, horizon),
        time=data.time[test_start - input_length:], values=data.values[test_start - input_length:],
    )
    return SeriesTransferResult(
        series, input_length, horizon, m,
        (float(data.time[test_start]), float(data.time[-1])), list(history_lengths), run_seeds,
        per_seed, len(pretrain[0]), example)
