"""Chapter 4, the speed of the recurrence: the fused LSTM's hand-written backward checked,
torch.nn.LSTM against the plain loop and the fused LSTM, and minGRU's loop against its scans
(timed by `rnncourse.bench`).

Times on a CPU are CPU seconds of this process by default (`timer="cpu"`): on a machine shared
with other work they move much less than wall-clock seconds, and with one thread they are the
wall-clock time of an undisturbed run. On CUDA they are wall-clock seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from rnncourse.bench import (
    LSTMProfile,
    ScanSweep,
    profile_lstm,
    scan_speedup_by_length,
    scan_speedup_by_width,
)
from rnncourse.models.fused_lstm import FusedLSTMFunction, fused_lstm
from rnncourse.runtime import seeded

__all__ = [
    "run_fused_lstm_checks",
    "run_lstm_profiles",
    "run_scan_crossover",
]


def run_fused_lstm_checks(seed: int = 0) -> dict[str, float | bool]:
    """The hand-written backward, checked two ways.

    gradcheck: finite differences in float64 against the analytic backward, for every input
    (sequence, h_0, c_0, both weights, both biases). Parity: torch.nn.LSTM with the same weights
    in float32; the largest absolute differences of outputs and of all gradients.
    """
    generator = torch.Generator().manual_seed(seed)

    def draw(*shape: int) -> Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()

    steps, batch, inputs, hidden = 6, 3, 4, 5
    arguments = (draw(steps, batch, inputs), draw(batch, hidden), draw(batch, hidden),
                 draw(4 * hidden, inputs), draw(4 * hidden, hidden), draw(4 * hidden),
                 draw(4 * hidden))
    passed = torch.autograd.gradcheck(FusedLSTMFunction.apply, arguments, eps=1e-6, atol=1e-6)

    with seeded(seed):
        reference = nn.LSTM(8, 16)
    sequence = torch.randn(50, 4, 8, generator=generator, requires_grad=True)
    weights = [p.detach().clone().requires_grad_() for p in reference.parameters()]
    state = (torch.zeros(4, 16), torch.zeros(4, 16))
    ours, (h_ours, _) = fused_lstm(sequence, state, *weights)
    theirs, (h_theirs, _) = reference(sequence)
    (ours.pow(2).sum() + h_ours.sum()).backward()
    grads_ours = [sequence.grad.clone(), *[w.grad for w in weights]]
    sequence.grad = None
    (theirs.pow(2).sum() + h_theirs.sum()).backward()
    grads_theirs = [sequence.grad, *[p.grad for p in reference.parameters()]]
    return {
        "gradcheck_float64": bool(passed),
        "output_max_difference": float((ours - theirs).detach().abs().max()),
        "gradient_max_difference": max(float((a - b).abs().max())
                                       for a, b in zip(grads_ours, grads_theirs, strict=True)),
    }


def run_lstm_profiles(
    sizes: Mapping[str, tuple[int, int, int, int]],
    *,
    variants: Sequence[str] = ("loop", "fused_torch", "fused", "fused_c", "torch"),
    repeats: int = 2,
    seed: int = 0,
) -> dict[str, LSTMProfile]:
    """`rnncourse.bench.profile_lstm` at each named size (T, B, I, H), one thread, on the CPU:
    each implementation's forward + backward CPU time split into matrix products, element-wise
    work and framework overhead."""
    return {name: profile_lstm(*size, variants=variants, repeats=repeats, seed=seed)
            for name, size in sizes.items()}


def run_scan_crossover(
    lengths: Sequence[int] = (64, 256, 1024, 4096),
    shape: tuple[int, int] = (8, 64),
    widths: Sequence[tuple[int, int]] = ((1, 32), (8, 64), (16, 128), (64, 256)),
    width_seq_len: int = 256,
    *,
    level: str = "recurrence",
    repeats: int = 3,
    timer: str = "cpu",
    device: torch.device | str | None = None,
    seed: int = 0,
) -> tuple[ScanSweep, ScanSweep]:
    """Each scan's speed-up over the loop against T at one (B, H) = `shape`, and against the
    width B·H of a step over `widths` at T = `width_seq_len` (`rnncourse.bench`'s sweeps;
    `level` "recurrence": h_t = a_t ⊙ h_{t-1} + b_t alone, or "layer": the whole minGRU)."""
    options = {"level": level, "repeats": repeats, "timer": timer, "device": device,
               "seed": seed}
    by_length = scan_speedup_by_length(lengths, *shape, **options)
    by_width = scan_speedup_by_width(widths, width_seq_len, **options)
    return by_length, by_width
