"""Chapter 4, truncated backpropagation through time: what carrying and detaching the state
between chunks teaches, on delayed recall (y_t = x_{t-lag}) over long streams.

Times on a CPU are CPU seconds of this process by default (`timer="cpu"`): on a machine shared
with other work they move much less than wall-clock seconds, and with one thread they are the
wall-clock time of an undisturbed run. On CUDA they are wall-clock seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from rnncourse.chapters.ch04_efficiency.clock import Clock
from rnncourse.models.recurrent_model import RecurrentModel
from rnncourse.runtime import resolve_device, seeded_generator
from rnncourse.training.batching import (
    truncated_bptt_epoch,
)

__all__ = ["TruncatedBPTTResult", "delayed_recall_stream", "run_truncated_bptt"]


def delayed_recall_stream(
    batch_size: int, length: int, lag: int, *, seed: int
) -> tuple[Tensor, Tensor]:
    """Streams of random bits s_t; the target at step t is the input of step t − lag:

        x_t = s_t,   y_t = s_{t−lag}   (y_t for t < lag: bits from before the stream, unknowable)

    Returns inputs and targets of shape (B, length, 1), float 0/1.
    """
    generator = seeded_generator(seed, torch.device("cpu"))
    bits = torch.randint(0, 2, (batch_size, length + lag), generator=generator).float()
    return bits[:, lag:].unsqueeze(-1), bits[:, :length].unsqueeze(-1)


@dataclass
class TruncatedBPTTResult:
    """Per variant (name): chunk length K, whether the state was carried, updates made,
    training seconds, accuracy on a fresh stream (after the first `lag` steps), accuracy on the
    first `lag` steps of every chunk, and accuracy at each of the first steps of the stream."""

    variants: list[str]
    chunk_length: dict[str, int]
    carried: dict[str, bool]
    updates: dict[str, int]
    seconds: dict[str, float]
    accuracy: dict[str, float]
    accuracy_at_chunk_start: dict[str, float]
    accuracy_by_step: dict[str, Tensor]
    lag: int
    stream_length: int
    timer: str = "cpu"


def run_truncated_bptt(
    *,
    lag: int = 5,
    chunk_length: int = 10,
    short_chunk_length: int | None = None,
    stream_length: int = 1024,
    passes: int = 6,
    batch_size: int = 32,
    hidden_size: int = 32,
    lr: float = 1e-2,
    timer: str = "cpu",
    device: torch.device | str | None = None,
    seed: int = 0,
) -> TruncatedBPTTResult:
    """Learn delayed recall (y_t = x_{t−lag}) on long streams with four training schemes, each
    seeing the same data (`passes` streams of `stream_length` steps):

    * chunks of K = `chunk_length` ≥ lag, state carried and detached (truncated BPTT);
    * chunks of K, state reset to zero at every chunk;
    * chunks shorter than the lag (`short_chunk_length`, default lag − 1), state carried;
    * no truncation: one update per whole stream (full BPTT).

    Each model is then run over a fresh stream the way it was trained (in chunks of its K,
    carrying or resetting the state).
    """
    device = resolve_device(device)
    clock = Clock(timer, device)
    short = short_chunk_length or max(1, lag - 1)
    schemes = {
        f"K={chunk_length}, state carried": (chunk_length, True),
        f"K={chunk_length}, state reset": (chunk_length, False),
        f"K={short} (< lag), state carried": (short, True),
        f"full BPTT (K={stream_length})": (stream_length, True),
    }
    evaluation_inputs, evaluation_targets = delayed_recall_stream(256, 200, lag, seed=seed + 999)
    evaluation_inputs = evaluation_inputs.to(device)
    result = TruncatedBPTTResult(list(schemes), {}, {}, {}, {}, {}, {}, {}, lag, stream_length,
                                 clock.timer)
    for name, (chunk, carry) in schemes.items():
        model = RecurrentModel("lstm", input_size=1, hidden_size=hidden_size, output_size=1,
                               readout="all", backend="torch", device=device, seed=seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)

        def run_chunk(inputs: Tensor, state, model: RecurrentModel = model):
            return model(inputs, state, return_state=True)

        updates, elapsed = 0, 0.0
        for stream in range(passes):
            inputs, targets = delayed_recall_stream(batch_size, stream_length, lag,
                                                    seed=seed + stream)
            start = clock()
            losses = truncated_bptt_epoch(
                run_chunk, inputs.to(device), targets.to(device), chunk_length=chunk,
                loss_fn=F.binary_cross_entropy_with_logits, optimizer=optimizer,
                carry_state=carry)
            elapsed += clock() - start
            updates += len(losses)
        with torch.no_grad():  # evaluate the way it was trained: chunks of K, carry or reset
            state, logits = None, []
            for inputs in evaluation_inputs.split(chunk, dim=1):
                output, final_state = model(inputs, state, return_state=True)
                logits.append(output)
                state = final_state if carry else None
        correct = ((torch.cat(logits, 1) > 0).float().cpu() == evaluation_targets)[..., 0].float()
        steps = torch.arange(correct.shape[1])
        knowable = steps >= lag
        chunk_start = knowable & (steps % chunk < lag)
        result.chunk_length[name], result.carried[name] = chunk, carry
        result.updates[name], result.seconds[name] = updates, elapsed
        result.accuracy[name] = float(correct[:, knowable].mean())
        result.accuracy_at_chunk_start[name] = (
            float(correct[:, chunk_start].mean()) if bool(chunk_start.any()) else float("nan"))
        result.accuracy_by_step[name] = correct.mean(0)
    return result
