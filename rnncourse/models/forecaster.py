"""`WindowForecaster`: a recurrent network that reads L past values and forecasts the next H.

    d_i   = x_i - x_L                      the window relative to its last value, i = 1..L
    h_L   = core(d_1 .. d_L)               RNN, LSTM or GRU over the window
    ŷ_k   = x_L + (W_out h_L + b_out)_k    k = 1..H: all H steps at once (a "direct" forecast)

Forecasting changes from the last value, not levels, is what lets the network follow a trend
beyond the range of values it was trained on (CO2 keeps rising; a network that outputs levels
would have to produce numbers it never saw). Inputs and outputs are in scaled units
(`rnncourse.data.SeriesScaler`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnncourse.models.recurrent_model import RecurrentModel

__all__ = ["WindowForecaster"]


class WindowForecaster(nn.Module):
    """Windows (B, L) of one series -> forecasts (B, H) of its next H values.

    Args:
        horizon: H, the number of future steps forecast at once.
        cell, hidden_size, num_layers: the recurrent core (see `RecurrentModel`).
        relative: forecast changes from the window's last value (True) or levels (False).
        backend: "torch" (fused kernels; the default here) or "rnncourse".
        device, seed: as for `RecurrentModel`.
    """

    def __init__(
        self,
        horizon: int,
        cell: str = "gru",
        hidden_size: int = 64,
        num_layers: int = 1,
        relative: bool = True,
        backend: str = "torch",
        device: str | torch.device | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.horizon = horizon
        self.relative = bool(relative)
        self.network = RecurrentModel(
            cell, input_size=1, hidden_size=hidden_size, output_size=horizon,
            num_layers=num_layers, readout="last", backend=backend, device=device, seed=seed,
        )

    @property
    def device(self) -> torch.device:
        return self.network.device

    def num_parameters(self) -> int:
        return self.network.num_parameters()

    def forward(self, windows: Tensor) -> Tensor:
        if windows.dim() != 2:
            raise ValueError(
                f"windows must have shape (batch, input_length), got {tuple(windows.shape)}"
            )
        last = windows[:, -1:] if self.relative else torch.zeros_like(windows[:, -1:])
        change = self.network((windows - last).unsqueeze(-1))  # (B, H) from h_L
        return last + change  # ŷ_k = x_L + Δ̂_k
