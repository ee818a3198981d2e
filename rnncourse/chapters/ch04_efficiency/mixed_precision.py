"""Chapter 4, mixed precision: an LSTM in float32 and under `torch.autocast` in a
16-bit type, timed, compared and trained, on whatever the reader's machine offers.

What runs depends on the device, found out by trying (`rnncourse.runtime.low_precision_support`):

- where torch.nn.LSTM has a 16-bit kernel (cuDNN on a GPU; oneDNN's bfloat16 kernel on a CPU with
  AVX512-BF16 or AMX), both columns use torch.nn.LSTM;
- elsewhere (AVX2-only x86 CPUs, arm64), torch.nn.LSTM under autocast raises, so both columns use
  the course's from-scratch LSTM, whose matrix products autocast runs in the 16-bit type; where
  that arithmetic is emulated in software (far slower than float32), the timing uses a shorter
  sequence so that the page stays quick, and says so.

`mixed_precision_summary` writes the sentence the page prints, from the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from rnncourse.bench import resolve_timer, time_call
from rnncourse.data.synthetic import adding_baseline_mse, adding_problem
from rnncourse.models.recurrent_model import RecurrentModel, build_recurrent_core, seeded
from rnncourse.runtime import (
    LowPrecisionSupport,
    autocast_lstm_backend,
    low_precision_support,
    resolve_device,
    seeded_generator,
)

__all__ = ["MixedPrecisionResult", "mixed_precision_summary", "run_mixed_precision"]

# An emulated 16-bit product takes tens of times float32's time: time a sequence this much shorter.
EMULATED_LENGTH_DIVISOR = 5


@dataclass
class MixedPrecisionResult:
    """float32 against autocast in `dtype`, with the same LSTM (`backend`) in both: time of one
    forward + backward over `timed_seq_len` steps, relative error of outputs and gradients
    (against float32), and validation MSE after the same training."""

    dtype: str
    device: str
    backend: str  # "torch" (torch.nn.LSTM) or "rnncourse" (the from-scratch LSTM)
    support: LowPrecisionSupport
    seq_len: int  # the length asked for
    timed_seq_len: int  # the length timed: shorter where 16-bit arithmetic is emulated
    milliseconds: dict[str, float]
    output_relative_error: float
    gradient_relative_error: float
    validation_mse: dict[str, float]
    baseline_mse: float = field(default_factory=adding_baseline_mse)
    timer: str = "cpu"

    @property
    def speedup(self) -> float:
        """float32's time over the 16-bit run's: above 1, autocast was faster."""
        return self.milliseconds["float32"] / self.milliseconds[self.dtype]


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
    """An LSTM in float32 and under `torch.autocast` (default: float16 on CUDA, with a gradient
    scaler; bfloat16 elsewhere), timed and compared, then trained on the adding problem.

    The LSTM is torch.nn.LSTM where the device has a 16-bit kernel for it, else the course's
    from-scratch LSTM (`autocast_lstm_backend`); the same one runs in both precisions.
    """
    device = resolve_device(device)
    support = low_precision_support(device, dtype)
    dtype = getattr(torch, support.dtype)
    backend = autocast_lstm_backend(support)
    labels = ("float32", support.dtype)
    timed_seq_len = seq_len
    if support.emulated:
        timed_seq_len = max(1, seq_len // EMULATED_LENGTH_DIVISOR)
        repeats = 1
    with seeded(seed):
        lstm = build_recurrent_core("lstm", hidden_size, hidden_size, backend=backend).to(device)
    inputs = torch.randn(batch_size, timed_seq_len, hidden_size,
                         generator=torch.Generator().manual_seed(seed)).to(device)

    def forward_backward(low_precision: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
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
                               backend=backend, device=device, seed=seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        scaler = torch.amp.GradScaler(device.type, enabled=low and dtype == torch.float16)
        generator = seeded_generator(seed + 1, torch.device("cpu"))
        for _ in range(train_steps):
            batch_inputs, batch_targets = adding_problem(32, train_seq_len, generator=generator,
                                                         device=device)
            with torch.autocast(device.type, dtype=dtype, enabled=low):
                loss = F.mse_loss(model(batch_inputs).float(), batch_targets)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()  # float16 only: the loss is scaled so that small
            scaler.step(optimizer)  # gradients do not flush to zero, and unscaled before the step
            scaler.update()
        with torch.no_grad():
            validation_mse[label] = float(F.mse_loss(model(validation[0]), validation[1]))
    return MixedPrecisionResult(support.dtype, str(device), backend, support, seq_len,
                                timed_seq_len, milliseconds, output_error, gradient_error,
                                validation_mse, timer=resolve_timer(timer, device))


def mixed_precision_summary(result: MixedPrecisionResult) -> str:
    """One paragraph, computed from `result`: what this device offers in 16 bits, which LSTM
    therefore ran, and how its speed and accuracy compared with float32."""
    support, low = result.support, result.dtype
    where = (f"this CPU (torch's kernels use {support.cpu_capability})"
             if result.device == "cpu" else f"this device ({result.device})")
    if result.backend == "torch":
        what = (f"On {where}, torch.nn.LSTM has a {low} kernel, so it ran under autocast "
                f"itself.")
    else:
        error = support.lstm_kernel_error.split(". ")[0]
        what = (f"On {where}, torch.nn.LSTM has no {low} kernel under autocast (it raised "
                f"\"{error}\"; on a CPU, oneDNN's {low} LSTM needs "
                f"AVX512-BF16 or AMX), so both columns ran the course's from-scratch LSTM, "
                f"whose matrix products autocast runs in {low}.")
    if support.emulated:
        arithmetic = (f"Here {low} arithmetic is emulated in software: a {low} matrix product "
                      f"took {1 / support.matmul_speedup:.0f} × float32's time, so the timing "
                      f"used sequences of {result.timed_seq_len} steps instead of "
                      f"{result.seq_len}.")
    else:
        arithmetic = (f"In a quick probe, {low} matrix products ran at "
                      f"{support.matmul_speedup:.1f} × float32's speed.")
    faster = "faster" if result.speedup > 1 else "slower"
    factor = result.speedup if result.speedup > 1 else 1 / result.speedup
    timing = (f"Forward and backward under autocast took {result.milliseconds[low]:.0f} ms "
              f"against {result.milliseconds['float32']:.0f} ms in float32: {factor:.1f} × "
              f"{faster}.")
    accuracy = (f"The outputs differ from float32's by {result.output_relative_error:.1e} "
                f"(relative), the gradients by at most {result.gradient_relative_error:.1e}; after "
                f"the same training, the validation MSE is {result.validation_mse[low]:.4f} "
                f"against {result.validation_mse['float32']:.4f} in float32 (predicting 1 "
                f"gives {result.baseline_mse:.3f}).")
    return " ".join([what, arithmetic, timing, accuracy])
