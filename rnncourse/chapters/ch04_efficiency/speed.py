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

from rnncourse.bench import BenchRow, bench_lstm, bench_min_gru
from rnncourse.models.fused_lstm import FusedLSTMFunction, fused_lstm

__all__ = ["run_fused_lstm_checks", "run_lstm_speed", "run_lstm_speeds", "run_scan_speed"]


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

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
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


def run_lstm_speed(
    seq_len: int = 100,
    batch_size: int = 64,
    input_size: int = 256,
    hidden_size: int = 256,
    *,
    variants: Sequence[str] = ("torch", "loop", "fused"),
    repeats: int = 3,
    timer: str = "cpu",
    device: torch.device | str | None = None,
    seed: int = 0,
) -> list[BenchRow]:
    """`rnncourse.bench.bench_lstm` with the page's defaults (no compiled variant: compiling
    takes longer than the page may)."""
    return bench_lstm(seq_len, batch_size, input_size, hidden_size, device=device,
                      variants=variants, repeats=repeats, timer=timer, seed=seed)


def run_lstm_speeds(
    sizes: Mapping[str, tuple[int, int, int, int]],
    *,
    variants: Sequence[str] = ("torch", "loop", "fused"),
    repeats: int = 3,
    timer: str = "cpu",
    device: torch.device | str | None = None,
    seed: int = 0,
) -> dict[str, list[BenchRow]]:
    """`run_lstm_speed` at each named size (T, B, I, H) of `sizes`, in order."""
    return {name: run_lstm_speed(*size, variants=variants, repeats=repeats, timer=timer,
                                 device=device, seed=seed)
            for name, size in sizes.items()}


def run_scan_speed(
    lengths: Sequence[int] = (256, 512, 1024, 2048, 4096),
    shapes: Sequence[tuple[int, int]] = ((1, 32), (8, 16), (8, 64)),
    *,
    repeats: int = 3,
    timer: str = "cpu",
    device: torch.device | str | None = None,
    seed: int = 0,
) -> dict[tuple[int, int], list[BenchRow]]:
    """minGRU forward + backward (`rnncourse.bench.bench_min_gru`), the loop against both scans,
    over the sequence lengths, for each (batch size, hidden size) in `shapes` (input = hidden)."""
    return {(batch, hidden): bench_min_gru(lengths, batch, hidden, device=device,
                                           repeats=repeats, timer=timer, seed=seed)
            for batch, hidden in shapes}
