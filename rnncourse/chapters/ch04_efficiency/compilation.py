"""Chapter 4, what a compiler that specialises on shapes (XLA on a TPU, `torch.compile` with
`dynamic=False`) does with batches of variable length: one compilation per new shape.

    CompilationCounter        a torch.compile backend that counts the graphs it is given
    run_recompilation_count   one training epoch of a small minGRU, compiled with dynamic=False,
                              over random batches padded per batch and over static-shape buckets

The counting backend runs each graph as traced, without generating code, so the experiment costs
seconds; the number of graphs is what a real backend (inductor, or XLA) would compile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnncourse.chapters.ch04_efficiency.batches import log_uniform_lengths, variable_length_adding
from rnncourse.chapters.ch04_efficiency.clock import Clock
from rnncourse.models.minimal import MinGRU
from rnncourse.runtime import seeded
from rnncourse.training.batching import last_valid, pad_batch, padding_fraction, random_batches
from rnncourse.training.static_shapes import (
    length_boundaries,
    padded_static_batches,
    static_padding_fraction,
    static_shape_batches,
)

__all__ = [
    "CompilationCounter",
    "LastStateMinGRU",
    "RecompilationResult",
    "recompilation_summary",
    "recompilation_table",
    "run_recompilation_count",
]


class CompilationCounter:
    """A `torch.compile` backend that records the input shapes of every graph Dynamo hands it
    (one per compilation) and runs the graph unchanged."""

    def __init__(self) -> None:
        self.shapes: list[tuple[tuple[int, ...], ...]] = []

    def __call__(self, graph: torch.fx.GraphModule,
                 example_inputs: Sequence[Tensor]) -> Callable[..., object]:
        self.shapes.append(tuple(tuple(x.shape) for x in example_inputs
                                 if isinstance(x, Tensor)))
        return graph.forward

    @property
    def compilations(self) -> int:
        return len(self.shapes)


class LastStateMinGRU(nn.Module):
    """A minGRU (`rnncourse.models.MinGRU`, its recurrence a log-space scan: a few whole-tensor
    operations, whatever T) over a padded batch (B, T, I), and a linear readout of each
    sequence's h_{L_b}.

    `checked=False` gathers h_{L_b} with tensor operations only. `checked=True` uses
    `rnncourse.training.batching.last_valid`, whose argument checks read values of `lengths`
    in Python (`int(lengths.min()) < 1`): control flow that depends on data, which a compiler
    cannot keep in its graph, so the graph breaks there into pieces.
    """

    def __init__(self, input_size: int, hidden_size: int, *, checked: bool = False) -> None:
        super().__init__()
        self.rnn = MinGRU(input_size, hidden_size, batch_first=True, mode="log_scan")
        self.head = nn.Linear(hidden_size, 1)
        self.checked = checked

    def forward(self, padded: Tensor, lengths: Tensor) -> Tensor:
        outputs, _ = self.rnn(padded)
        if self.checked:
            return self.head(last_valid(outputs, lengths))
        rows = torch.arange(outputs.shape[0], device=outputs.device)
        return self.head(outputs[rows, lengths.to(outputs.device) - 1])  # h_{L_b}


@dataclass
class RecompilationResult:
    """Per run (a loader, and a model with or without Python checks on the data): batches in
    the epoch, distinct batch shapes, compilations, share of padding computed, sequences used
    and seconds of the epoch (compilations included); `boundaries`: the buckets' lengths."""

    runs: list[str]
    batches: dict[str, int]
    distinct_shapes: dict[str, int]
    compilations: dict[str, int]
    padding: dict[str, float]
    sequences_used: dict[str, int]
    seconds: dict[str, float]
    boundaries: list[int]
    timer: str = "cpu"


RANDOM = "random batches, padded per batch"
BUCKETED = "bucketed to fixed lengths"
CHECKED = "one bucketed batch, model with Python checks on the lengths"


def _compiled_epoch(model: nn.Module, tensors: list[tuple[Tensor, Tensor]], targets: list[Tensor],
                    lr: float, clock: Clock) -> tuple[int, float]:
    """One epoch of Adam with the model compiled for static shapes: (compilations, seconds)."""
    counter = CompilationCounter()
    torch._dynamo.reset()  # forget what an earlier run compiled
    # Room for a compilation per batch: past the default limit (8) Dynamo would silently run
    # the rest uncompiled, which would hide the count. Its warnings on graph breaks are muted.
    dynamo_log = logging.getLogger("torch._dynamo")
    level = dynamo_log.level
    dynamo_log.setLevel(logging.ERROR)
    try:
        with torch._dynamo.config.patch(recompile_limit=4 * len(tensors) + 8):
            compiled = torch.compile(model, backend=counter, dynamic=False)
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
            start = clock()
            for (padded, lengths), target in zip(tensors, targets, strict=True):
                loss = F.mse_loss(compiled(padded, lengths), target)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            seconds = clock() - start
    finally:
        dynamo_log.setLevel(level)
        torch._dynamo.reset()
    return counter.compilations, seconds


def run_recompilation_count(
    num_sequences: int = 128,
    *,
    batch_size: int = 16,
    buckets: int = 4,
    min_length: int = 10,
    max_length: int = 200,
    hidden_size: int = 16,
    lr: float = 1e-2,
    timer: str = "cpu",
    seed: int = 0,
) -> RecompilationResult:
    """One epoch of training (Adam) of a small minGRU (`LastStateMinGRU`) on variable-length adding
    problems, compiled with `torch.compile(dynamic=False)` and a `CompilationCounter`, over
    random batches padded to their own longest sequence, and over `buckets` static-shape buckets
    (`rnncourse.training.static_shapes`); then one bucketed batch with the model whose Python
    checks read the data (`checked=True`), whose graph breaks into pieces. On the CPU: the
    lesson is about shapes, not speed."""
    device = torch.device("cpu")
    clock = Clock(timer, device)
    lengths = log_uniform_lengths(num_sequences, min_length, max_length, seed=seed)
    sequences, targets = variable_length_adding(lengths.tolist(), seed=seed)
    boundaries = length_boundaries(lengths, buckets)
    random = random_batches(num_sequences, batch_size, seed=seed)
    static = static_shape_batches(lengths, batch_size, boundaries, seed=seed)
    random_tensors = [pad_batch([sequences[i] for i in batch]) for batch in random]
    static_tensors = list(padded_static_batches(sequences, static))
    static_indices = [indices for indices, _ in static]
    runs = {  # name: (batches, their tensors, padding computed, model with Python checks)
        RANDOM: (random, random_tensors, padding_fraction(lengths, random), False),
        BUCKETED: (static_indices, static_tensors, static_padding_fraction(lengths, static),
                   False),
        CHECKED: (static_indices[:1], static_tensors[:1],
                  static_padding_fraction(lengths, static[:1]), True),
    }
    result = RecompilationResult(list(runs), {}, {}, {}, {}, {}, {}, boundaries, clock.timer)
    for name, (batches, tensors, padding, checked) in runs.items():
        with seeded(seed):
            model = LastStateMinGRU(2, hidden_size, checked=checked)
        compilations, seconds = _compiled_epoch(
            model, tensors, [targets[indices] for indices in batches], lr, clock)
        result.batches[name] = len(tensors)
        result.distinct_shapes[name] = len({tuple(padded.shape) for padded, _ in tensors})
        result.compilations[name] = compilations
        result.padding[name] = padding
        result.sequences_used[name] = sum(len(indices) for indices in batches)
        result.seconds[name] = seconds
    return result


def recompilation_table(result: RecompilationResult) -> str:
    """Markdown: per run, batches, distinct shapes, compilations, padding and time."""
    lines = ["| batches | batches in the epoch | distinct shapes | compilations (graphs) "
             "| padding computed | time, compilations included |", "|---|---|---|---|---|---|"]
    for name in result.runs:
        lines.append(f"| {name} | {result.batches[name]} | {result.distinct_shapes[name]} | "
                     f"{result.compilations[name]} | {result.padding[name]:.0%} | "
                     f"{result.seconds[name]:.1f} s |")
    return "\n".join(lines)


def recompilation_summary(result: RecompilationResult) -> str:
    """Sentences, computed from `result`, on how many compilations each loader caused and what
    the Python checks on the data cost in graphs."""
    random, bucketed = (result.compilations[RANDOM], result.compilations[BUCKETED])
    ratio = random / bucketed if bucketed else float("inf")
    comparison = (f"{ratio:.1f} times the {bucketed}" if random > bucketed
                  else f"as many as the {bucketed}" if random == bucketed
                  else f"fewer than the {bucketed}")
    sentences = [
        f"Random batches padded to their own longest sequence came in "
        f"{result.distinct_shapes[RANDOM]} shapes over {result.batches[RANDOM]} batches and "
        f"caused {random} compilations, {comparison} of the loader bucketed to "
        f"the {len(result.boundaries)} lengths {', '.join(map(str, result.boundaries))} "
        f"({result.distinct_shapes[BUCKETED]} shapes over {result.batches[BUCKETED]} batches).",
        f"The buckets computed {result.padding[BUCKETED]:.0%} padding, random batches "
        f"{result.padding[RANDOM]:.0%}.",
    ]
    if CHECKED in result.compilations:
        graphs = result.compilations[CHECKED]
        sentences.append(
            f"With Python checks that read the lengths, a single batch of one shape was cut "
            f"into {graphs} graph{'s' if graphs != 1 else ''}"
            + (" instead of one." if graphs > 1 else ", as without them."))
    return " ".join(sentences)
