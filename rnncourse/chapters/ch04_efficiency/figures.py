"""Chapter 4's figures and tables: throughput, padding, truncated BPTT, speed of recurrences."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from torch import Tensor

from rnncourse.chapters.ch04_efficiency.batches import BatchSizeSweep, VariableLengthResult
from rnncourse.chapters.ch04_efficiency.mixed_precision import MixedPrecisionResult
from rnncourse.chapters.ch04_efficiency.truncated_bptt import TruncatedBPTTResult
from rnncourse.chapters.plotting import PALETTE, new_figure, series_styles

__all__ = [
    "mixed_precision_table",
    "plot_batch_size_sweep",
    "plot_padding",
    "plot_truncated_bptt",
    "plot_variable_lengths",
    "published_speed_table",
    "truncated_bptt_table",
    "variable_length_table",
]


def _time_unit(timer: str) -> str:
    return "CPU seconds" if timer == "cpu" else "seconds"


def plot_batch_size_sweep(result: BatchSizeSweep) -> plt.Figure:
    """Three panels: throughput against B; validation MSE against sequences seen and against
    training time, one curve per batch size, with the predict-the-mean baseline."""
    figure, (speed, by_examples, by_time) = new_figure(ncols=3, width=4.2, height=3.6)
    sizes = result.batch_sizes
    speed.plot(sizes, [result.throughput[b] for b in sizes], marker="o", color=PALETTE[0])
    speed.set_xscale("log", base=2)
    speed.set_xticks(sizes, [str(b) for b in sizes])
    speed.set_xlabel("batch size B")
    speed.set_ylabel(f"training sequences per {_time_unit(result.timer)[:-1]}")
    speed.set_title("throughput")
    for batch_size, style in zip(sizes, series_styles(), strict=False):
        label = f"B = {batch_size}"
        by_examples.plot(result.examples_seen[batch_size], result.validation_mse[batch_size],
                         label=label, **style)
        by_time.plot(result.seconds[batch_size], result.validation_mse[batch_size], label=label,
                     **style)
    for axis, label in ((by_examples, "training sequences seen"),
                        (by_time, f"training time ({_time_unit(result.timer)})")):
        axis.axhline(result.baseline_mse, color="grey", linewidth=1, linestyle=":")
        axis.set_yscale("log")
        axis.set_xlabel(label)
        axis.set_ylabel("validation MSE")
    by_examples.set_title("per example")
    by_time.set_title("per second")
    by_time.text(0.98, result.baseline_mse * 1.15, "predict 1 (MSE 1/6)", ha="right",
                 va="bottom", fontsize=8, color="grey", transform=by_time.get_yaxis_transform())
    by_examples.legend(fontsize=8)
    return figure


def plot_variable_lengths(result: VariableLengthResult) -> plt.Figure:
    """Left, the lengths of the data set; right, seconds per epoch of each strategy, with the
    share of padding it computes."""
    figure, (lengths, cost) = new_figure(ncols=2, width=5.2, height=3.6)
    lengths.hist(result.lengths.numpy(), bins=30, color=PALETTE[0])
    lengths.set_xlabel("sequence length")
    lengths.set_ylabel("sequences")
    lengths.set_title(f"{len(result.lengths)} sequences")
    names = result.strategies
    seconds = [result.seconds_per_epoch[name] for name in names]
    positions = range(len(names))
    cost.barh(list(positions), seconds, color=[PALETTE[i % len(PALETTE)] for i in positions])
    cost.set_yticks(list(positions), [name.replace(", ", ",\n") for name in names], fontsize=8)
    cost.invert_yaxis()
    cost.set_xlabel(f"{_time_unit(result.timer)} per epoch (forward + backward)")
    for position, name, value in zip(positions, names, seconds, strict=True):
        cost.text(value, position, f" {result.padding[name]:.0%} padding", va="center",
                  fontsize=8)
    cost.set_xlim(0, max(seconds) * 1.45)
    return figure


def variable_length_table(result: VariableLengthResult) -> str:
    """Markdown: strategy, share of padding computed, time per epoch, relative to the best."""
    best = min(result.seconds_per_epoch.values())
    lines = ["| batching and padding | padding computed | time per epoch | × fastest |",
             "|---|---|---|---|"]
    for name in result.strategies:
        seconds = result.seconds_per_epoch[name]
        lines.append(f"| {name} | {result.padding[name]:.0%} | {seconds * 1e3:.0f} ms "
                     f"| {seconds / best:.1f} |")
    return "\n".join(lines)


def plot_padding(lengths: Tensor | Sequence[int], batches: Sequence[Sequence[int]],
                 *, max_batches: int = 12, title: str = "") -> plt.Figure:
    """Each batch as a row of its sequences: the valid steps filled, the padding hatched."""
    lengths = torch.as_tensor(lengths)
    figure, axis = new_figure(width=6.4, height=3.8)
    row = 0
    for index, batch in enumerate(batches[:max_batches]):
        longest = int(lengths[list(batch)].max())
        for item in batch:
            length = int(lengths[item])
            axis.barh(row, length, height=0.9, color=PALETTE[index % 2 * 2], linewidth=0)
            axis.barh(row, longest - length, left=length, height=0.9, color="white",
                      edgecolor="grey", hatch="////", linewidth=0.3)
            row += 1
        row += 1  # a gap between batches
    axis.invert_yaxis()
    axis.set_yticks([])
    axis.set_xlabel("time step")
    axis.set_ylabel("sequences, batch by batch")
    axis.set_title(title)
    axis.grid(False)
    return figure


def plot_truncated_bptt(result: TruncatedBPTTResult, steps: int = 60) -> plt.Figure:
    """Accuracy at each of the first `steps` steps of a fresh stream, one curve per scheme."""
    figure, axis = new_figure(width=7.5, height=3.6)
    time_steps = range(result.lag, min(steps, result.accuracy_by_step[result.variants[0]].numel()))
    for name, style in zip(result.variants, series_styles(), strict=False):
        accuracy = result.accuracy_by_step[name]
        axis.plot(list(time_steps), [float(accuracy[t]) for t in time_steps], label=name,
                  marker=".", **style)
    chunk = result.chunk_length[result.variants[0]]
    for boundary in range(chunk, steps, chunk):
        axis.axvline(boundary - 0.5, color="grey", linewidth=0.6, linestyle=":")
    axis.axhline(0.5, color="grey", linewidth=1)
    axis.set_xlabel(f"time step t of a fresh stream (dotted: chunk boundaries of K = {chunk})")
    axis.set_ylabel(f"accuracy of $y_t = x_{{t-{result.lag}}}$")
    axis.set_ylim(0.3, 1.05)
    axis.legend(fontsize=8, loc="lower right")
    return figure


def truncated_bptt_table(result: TruncatedBPTTResult) -> str:
    """Markdown: scheme, updates, training time, accuracy overall and at chunk starts."""
    lines = [f"| training scheme | updates | training time | accuracy | accuracy in the first "
             f"{result.lag} steps of a chunk |", "|---|---|---|---|---|"]
    for name in result.variants:
        start = result.accuracy_at_chunk_start[name]
        lines.append(f"| {name} | {result.updates[name]} | {result.seconds[name]:.2f} s | "
                     f"{result.accuracy[name]:.1%} | "
                     f"{'—' if start != start else f'{start:.1%}'} |")
    return "\n".join(lines)


def published_speed_table() -> str:
    """Markdown: the published GPU measurements this chapter quotes, with their sources.

    fastrnns (pull request 45591 of PyTorch, the "PE/TE" column, per-iteration times as printed):
    cuDNN 11.42 + 17.88 = 29.30 forward + backward; `jit_premul_bias` 13.82 + 25.70 = 39.53,
    1.35 x; `py` 40.38 + 55.49 = 95.87, 3.27 x."""
    return "\n".join([
        "| measurement | published | setting | source |",
        "|---|---|---|---|",
        "| TorchScript LSTM `jit_premul_bias` (input product for all steps, bias folded in), "
        "forward + backward | 1.35 × cuDNN (39.5 against 29.3 per iteration) | GPU, T = 100, "
        "B = 64, I = H = 512 | PyTorch `benchmarks/fastrnns`, as printed in pull request 45591 "
        "(its profiling-executor column) |",
        "| Python-loop LSTM cell (`py`), forward + backward | 3.3 × cuDNN (95.9 against 29.3) "
        "| same | same |",
        "| minimal GRU and LSTM (minGRU, minLSTM), trained with a parallel scan, against the "
        "traditional GRU and LSTM | \"175x faster for a sequence of length 512\" (training) | "
        "GPU (model, batch size, width and what was timed not checked here) | Feng et al. 2024, "
        "abstract of arXiv v1 and v2 (the v3 abstract drops the figure) |",
    ])


def mixed_precision_table(result: MixedPrecisionResult) -> str:
    """Markdown: float32 against the low-precision autocast, time and final validation MSE."""
    low = result.dtype
    lstm = "torch.nn.LSTM" if result.backend == "torch" else "from-scratch LSTM"
    lines = [f"| | float32 | {low} autocast |", "|---|---|---|",
             f"| {lstm}, forward + backward, T = {result.timed_seq_len} | "
             f"{result.milliseconds['float32']:.0f} ms | {result.milliseconds[low]:.0f} ms |",
             f"| validation MSE after the same training (baseline {result.baseline_mse:.3f}) | "
             f"{result.validation_mse['float32']:.4f} | {result.validation_mse[low]:.4f} |"]
    return "\n".join(lines)
