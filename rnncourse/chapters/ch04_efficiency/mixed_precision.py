"""Chapter 4, mixed precision: torch.nn.LSTM in float32 against autocast (bfloat16 on a CPU,
float16 with a gradient scaler on CUDA): speed, error, and the same training run in both.

Times on a CPU are CPU seconds of this process by default (`timer="cpu"`): on a machine shared
with other work they move much less than wall-clock seconds, and with one thread they are the
wall-clock time of an undisturbed run. On CUDA they are wall-clock seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.bench import resolve_timer, time_call
from rnncourse.data.synthetic import adding_baseline_mse, adding_problem
from rnncourse.models.recurrent_model import RecurrentModel
from rnncourse.runtime import resolve_device, seeded_generator

__all__ = ["MixedPrecisionResult", "run_mixed_precision"]


@dataclass
class MixedPrecisionResult:
    """float32 against autocast in `dtype`: time of one forward + backward, relative error of
    outputs and gradients (against float32), and validation MSE after the same training."""

    dtype: str
    device: str
    milliseconds: dict[str, float]
    output_relative_error: float
    gradient_relative_error: float
    validation_mse: dict[str, float]
    baseline_mse: float = field(default_factory=adding_baseline_mse)
    timer: str = "cpu"


def run_mixed_precision(
    *,
    dtype: torch.dtype | None = None,
    seq_len: int = 100,
    batch_size: int = 64,
    hidden_size: int = 256,
    train_steps: int = 400,
    train_seq_len: int = 20,
    repeats: int = 3,
    timer: str = "cpu",
    device: torch.device | str | None = None,
    seed: int = 0,
) -> MixedPrecisionResult:
    """torch.nn.LSTM in float32 and under `torch.autocast` (default: bfloat16 on a CPU, float16
    on CUDA, with a gradient scaler for float16), timed and compared, then trained."""
    device = resolve_device(device)
    if dtype is None:
        dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    labels = ("float32", str(dtype).removeprefix("torch."))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        lstm = nn.LSTM(hidden_size, hidden_size).to(device)
    inputs = torch.randn(seq_len, batch_size, hidden_size,
                         generator=torch.Generator().manual_seed(seed)).to(device)

    def forward_backward(low_precision: bool) -> tuple[Tensor, list[Tensor]]:
        lstm.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype, enabled=low_precision):
            output, _ = lstm(inputs)
        output.float().pow(2).mean().backward()
        return output.detach().float(), [p.grad.detach().clone() for p in lstm.parameters()]

    milliseconds = {}
    for label, low in zip(labels, (False, True), strict=True):
        timing = time_call(lambda low=low: forward_backward(low), device=device,
                           repeats=repeats, timer=timer)
        milliseconds[label] = timing.ms
    (out32, grads32), (out_low, grads_low) = forward_backward(False), forward_backward(True)
    output_error = float((out_low - out32).norm() / out32.norm())
    gradient_error = max(float((b - a).norm() / a.norm())
                         for a, b in zip(grads32, grads_low, strict=True))

    validation = adding_problem(512, train_seq_len, seed=seed + 10_000, device=device)
    validation_mse = {}
    for label, low in zip(labels, (False, True), strict=True):
        model = RecurrentModel("lstm", input_size=2, hidden_size=32, output_size=1,
                               backend="torch", device=device, seed=seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        scaler = torch.amp.GradScaler(device.type, enabled=low and dtype == torch.float16)
        generator = seeded_generator(seed + 1, torch.device("cpu"))
        for _ in range(train_steps):
            batch_inputs, batch_targets = adding_problem(32, train_seq_len, generator=generator)
            with torch.autocast(device.type, dtype=dtype, enabled=low):
                loss = F.mse_loss(model(batch_inputs.to(device)).float(), batch_targets.to(device))
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()  # float16 only: the loss is scaled so that small
            scaler.step(optimizer)  # gradients do not flush to zero, and unscaled before the step
            scaler.update()
        with torch.no_grad():
            validation_mse[label] = float(F.mse_loss(model(validation[0]), validation[1]))
    return MixedPrecisionResult(labels[1], str(device), milliseconds, output_error,
                                gradient_error, validation_mse, timer=resolve_timer(timer, device))
