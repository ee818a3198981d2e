"""Chapter 4's experiments: where the time of RNN training goes, and how to spend less of it.

    run_batch_size_sweep     throughput and convergence against batch size (adding problem)
    run_variable_lengths     padding + masking, packing and bucketing: padding share and cost
    run_truncated_bptt       carried (detached) state against reset state and chunk length
    run_fused_lstm_checks    the fused LSTM's backward against gradcheck and torch.nn.LSTM
    run_lstm_speed           torch.nn.LSTM, plain loop, fused (rnncourse.bench)
    run_data_parallel_check  two gloo processes with DDP against one process
    run_scan_speed           minGRU: loop against the scans, over T and widths

The mixed-precision experiment is in `rnncourse.experiments.mixed_precision`.

Times on a CPU are CPU seconds of this process by default (`timer="cpu"`): on a machine shared
with other work they move much less than wall-clock seconds, and with one thread they are the
wall-clock time of an undisturbed run. On CUDA they are wall-clock seconds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.batching import (
    bucket_batches,
    last_valid,
    packed_run,
    pad_batch,
    padding_fraction,
    random_batches,
    truncated_bptt_epoch,
)
from rnncourse.bench import BenchRow, bench_lstm, bench_min_gru, resolve_timer
from rnncourse.distributed import DataParallelConfig, run_data_parallel, run_single_process
from rnncourse.models.fused_lstm import FusedLSTMFunction, fused_lstm
from rnncourse.models.recurrent_model import RecurrentModel
from rnncourse.runtime import resolve_device, seeded_generator
from rnncourse.tasks import adding_baseline_mse, adding_problem

__all__ = [
    "BatchSizeSweep",
    "TruncatedBPTTResult",
    "VariableLengthResult",
    "delayed_recall_stream",
    "run_batch_size_sweep",
    "run_data_parallel_check",
    "run_fused_lstm_checks",
    "run_lstm_speed",
    "run_scan_speed",
    "run_truncated_bptt",
    "run_variable_lengths",
    "variable_length_adding",
]


class _Clock:
    """Seconds by `timer`: CPU time of this process, or wall-clock time after a CUDA sync."""

    def __init__(self, timer: str, device: torch.device) -> None:
        self.timer, self.device = resolve_timer(timer, device), device

    def __call__(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.process_time() if self.timer == "cpu" else time.perf_counter()


# ----------------------------------------------------------------------------------------------
# Mini-batches


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
    clock = _Clock(timer, device)
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
            inputs, targets = adding_problem(batch_size, seq_len, generator=generator)
            inputs, targets = inputs.to(device), targets.to(device)
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
    tensors and the targets (N, 1)."""
    generator = seeded_generator(seed, torch.device("cpu"))
    sequences, targets = [], []
    for length in lengths:
        inputs, target = adding_problem(1, int(length), generator=generator)
        sequences.append(inputs[0])
        targets.append(target[0])
    return sequences, torch.stack(targets)


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
    clock = _Clock(timer, device)
    generator = seeded_generator(seed, torch.device("cpu"))
    log_lengths = torch.empty(num_sequences).uniform_(
        float(torch.tensor(min_length).log()), float(torch.tensor(max_length).log()),
        generator=generator)
    lengths = log_lengths.exp().round().long().clamp(min_length, max_length)
    sequences, targets = variable_length_adding(lengths.tolist(), seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
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


# ----------------------------------------------------------------------------------------------
# Truncated backpropagation through time


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
    clock = _Clock(timer, device)
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


# ----------------------------------------------------------------------------------------------
# The fused LSTM and the speed of the recurrence


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


# ----------------------------------------------------------------------------------------------
# Several processes, and parallel scans


def run_data_parallel_check(
    config: DataParallelConfig | None = None, world_size: int = 2
) -> dict[str, float | list[float]]:
    """DDP in `world_size` gloo processes against one process on the combined batches: the
    largest difference between their final weights, and the time both took."""
    config = config or DataParallelConfig()
    parallel = run_data_parallel(config, world_size)
    single = run_single_process(config)
    difference = max(float((parallel.state_dict[name] - weight).abs().max())
                     for name, weight in single.state_dict.items())
    return {"world_size": world_size, "max_weight_difference": difference,
            "parallel_training_seconds": parallel.seconds,
            "launch_seconds": parallel.extra["launch_seconds"],
            "single_training_seconds": single.seconds, "losses_rank0": parallel.losses,
            "losses_single": single.losses}


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
