"""Chapter 4, mini-batches and sequences of different lengths.

    run_batch_size_sweep   throughput and convergence against batch size (adding problem)
    run_variable_lengths   padding + masking, packing and bucketing: padding share and cost

Times on a CPU are CPU seconds of this process by default (`timer="cpu"`): on a machine shared
with other work they move much less than wall-clock seconds, and with one thread they are the
wall-clock time of an undisturbed run. On CUDA they are wall-clock seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.chapters.ch04_efficiency.clock import Clock
from rnncourse.data.synthetic import adding_baseline_mse, adding_problem
from rnncourse.models.recurrent_model import RecurrentModel
from rnncourse.runtime import resolve_device, seeded, seeded_generator
from rnncourse.training.batching import (
    bucket_batches,
    last_valid,
    packed_run,
    pad_batch,
    padding_fraction,
    random_batches,
)

__all__ = [
    "STRATEGIES",
    "BatchSizeSweep",
    "VariableLengthResult",
    "run_batch_size_sweep",
    "log_uniform_lengths",
    "run_variable_lengths",
    "variable_length_adding",
]


@dataclass
class BatchSizeSweep:
    """Per batch size B: validation MSE after `examples_seen[B][k]` training sequences, which took
    `seconds[B][k]` of training; `throughput[B]` in sequences per second."""

    batch_sizes: list[int]
    examples_seen: dict[int, list[int]]
    seconds: dict[int, list[float]]
    validation_mse: dict[int, list[float]]
    throughput: dict[int, float]
    seq_len: int
    baseline_mse: float = field(default_factory=adding_baseline_mse)
    timer: str = "cpu"


def run_batch_size_sweep(
    batch_sizes: Sequence[int] = (8, 32, 128, 512),
    *,
    examples: int = 12288,
    seq_len: int = 20,
    hidden_size: int = 32,
    lr: float = 1e-2,
    evaluations: int = 16,
    timer: str = "cpu",
    device: torch.device | str | None = None,
    seed: int = 0,
) -> BatchSizeSweep:
    """Train the same LSTM (torch.nn) on the adding problem with each batch size, Adam at `lr`,
    for the same number of training sequences, `examples` (so a batch of B makes examples / B
    updates); evaluate on one fixed validation batch `evaluations` times along the way."""
    device = resolve_device(device)
    clock = Clock(timer, device)
    validation_inputs, validation_targets = adding_problem(512, seq_len, seed=seed + 10_000,
                                                           device=device)
    result = BatchSizeSweep(list(batch_sizes), {}, {}, {}, {}, seq_len, timer=clock.timer)
    for batch_size in batch_sizes:
        model = RecurrentModel("lstm", input_size=2, hidden_size=hidden_size, output_size=1,
                               backend="torch", device=device, seed=seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        generator = seeded_generator(seed + 1, torch.device("cpu"))  # the same data stream
        steps = max(1, examples // batch_size)
        every = max(1, steps // evaluations)
        seen, seconds, losses, training_seconds = [], [], [], 0.0
        for step in range(steps):
            inputs, targets = adding_problem(batch_size, seq_len, generator=generator,
                                             device=device)
            start = clock()
            loss = F.mse_loss(model(inputs), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            training_seconds += clock() - start
            if (step + 1) % every == 0 or step == steps - 1:
                with torch.no_grad():
                    loss = F.mse_loss(model(validation_inputs), validation_targets)
                seen.append((step + 1) * batch_size)
                seconds.append(training_seconds)
                losses.append(float(loss))
        result.examples_seen[batch_size] = seen
        result.seconds[batch_size] = seconds
        result.validation_mse[batch_size] = losses
        result.throughput[batch_size] = steps * batch_size / training_seconds
    return result



# ----------------------------------------------------------------------------------------------
# Variable-length sequences


def variable_length_adding(
    lengths: Sequence[int], *, seed: int = 0
) -> tuple[list[Tensor], Tensor]:
    """One adding-problem sequence per length (markers inside its own length): a list of (L, 2)
    tensors and the targets (N, 1), on the CPU (a data set; its batches are moved)."""
    cpu = torch.device("cpu")
    generator = seeded_generator(seed, cpu)
    sequences, targets = [], []
    for length in lengths:
        inputs, target = adding_problem(1, int(length), generator=generator, device=cpu)
        sequences.append(inputs[0])
        targets.append(target[0])
    return sequences, torch.stack(targets)


def log_uniform_lengths(count: int, min_length: int, max_length: int, *, seed: int = 0) -> Tensor:
    """`count` lengths spread evenly on a log scale between min_length and max_length
    (int64): log ℓ ~ U(log min_length, log max_length), rounded."""
    generator = seeded_generator(seed, torch.device("cpu"))
    log_lengths = torch.empty(count).uniform_(
        float(torch.tensor(min_length).log()), float(torch.tensor(max_length).log()),
        generator=generator)
    return log_lengths.exp().round().long().clamp(min_length, max_length)


@dataclass
class VariableLengthResult:
    """Per strategy: share of computed steps that are padding, and seconds per epoch (forward +
    backward); plus how far the padded-and-masked and the packed results differ."""

    strategies: list[str]
    padding: dict[str, float]
    seconds_per_epoch: dict[str, float]
    loss_difference: float
    gradient_difference: float
    lengths: Tensor
    batch_size: int
    timer: str = "cpu"


STRATEGIES = {
    # name: (how batches are formed, how the padding is handled)
    "pad to the longest in the data set, random batches": ("random", "global"),
    "pad per batch, random batches": ("random", "batch"),
    "pack (pack_padded_sequence), random batches": ("random", "pack"),
    "pad per batch, bucketed by length": ("bucket", "batch"),
    "pack, bucketed by length": ("bucket", "pack"),
}


def _last_state_loss(rnn: nn.LSTM, head: nn.Linear, padded: Tensor, lengths: Tensor,
                     targets: Tensor, method: str) -> Tensor:
    """MSE of a readout of h_{L_b}: run over the padding then gather it, or pack."""
    if method == "pack":
        _, (h_n, _) = packed_run(rnn, padded, lengths)
        final = h_n[-1]  # the state after each sequence's own last step
    else:
        outputs, _ = rnn(padded)
        final = last_valid(outputs, lengths)  # h_{L_b}: what came after is ignored
    return F.mse_loss(head(final), targets)


def run_variable_lengths(
    num_sequences: int = 512,
    *,
    batch_size: int = 32,
    min_length: int = 10,
    max_length: int = 400,
    hidden_size: int = 32,
    epochs: int = 1,
    timer: str = "cpu",
    device: torch.device | str | None = None,
    seed: int = 0,
) -> VariableLengthResult:
    """One LSTM (torch.nn) over a data set of sequences with log-uniform lengths in
    [min_length, max_length], batched and padded by each strategy of `STRATEGIES`; each is timed
    over `epochs` epochs after one untimed warm-up epoch (the first use of a tensor shape costs
    extra, e.g. oneDNN's kernel set-up)."""
    device = resolve_device(device)
    clock = Clock(timer, device)
    lengths = log_uniform_lengths(num_sequences, min_length, max_length, seed=seed)
    sequences, targets = variable_length_adding(lengths.tolist(), seed=seed)
    with seeded(seed):
        rnn = nn.LSTM(2, hidden_size, batch_first=True).to(device)
        head = nn.Linear(hidden_size, 1).to(device)
    longest = int(lengths.max())

    def batch_tensors(indices: list[int], padding: str) -> tuple[Tensor, Tensor, Tensor]:
        padded, batch_lengths = pad_batch([sequences[i] for i in indices])
        if padding == "global":  # every batch as long as the longest sequence of the data set
            padded = F.pad(padded, (0, 0, 0, longest - padded.shape[1]))
        return padded.to(device), batch_lengths, targets[indices].to(device)

    padding, seconds = {}, {}
    for name, (batching, method) in STRATEGIES.items():
        if batching == "random":
            batches = random_batches(num_sequences, batch_size, seed=seed)
        else:
            batches = bucket_batches(lengths, batch_size, seed=seed)
        prepared = [batch_tensors(batch, method) for batch in batches]
        if method == "global":
            padding[name] = 1 - float(lengths.sum()) / (num_sequences * longest)
        else:  # packing computes no padding at all
            padding[name] = 0.0 if method == "pack" else padding_fraction(lengths, batches)
        elapsed = 0.0
        for epoch in range(1 + epochs):  # epoch 0 warms up: kernels for every new shape
            start = clock()
            for padded, batch_lengths, batch_targets in prepared:
                rnn.zero_grad(set_to_none=True)
                _last_state_loss(rnn, head, padded, batch_lengths, batch_targets,
                                 "pack" if method == "pack" else "mask").backward()
            if epoch:
                elapsed += clock() - start
        seconds[name] = elapsed / epochs

    # Masking and packing compute the same loss and gradient (on one random batch).
    padded, batch_lengths, batch_targets = batch_tensors(
        random_batches(num_sequences, batch_size, seed=seed)[0], "batch")
    results = []
    for method in ("mask", "pack"):
        rnn.zero_grad(set_to_none=True)
        loss = _last_state_loss(rnn, head, padded, batch_lengths, batch_targets, method)
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in rnn.parameters()]))
    (loss_mask, grads_mask), (loss_pack, grads_pack) = results
    gradient_difference = max(float((a - b).abs().max()) for a, b in zip(grads_mask, grads_pack,
                                                                          strict=True))
    return VariableLengthResult(list(STRATEGIES), padding, seconds,
                                float((loss_mask - loss_pack).abs()), gradient_difference,
                                lengths, batch_size, clock.timer)
