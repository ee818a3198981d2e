"""Chapter 4's figures on where a recurrence's time goes: the LSTM profile (matrix products,
element-wise work, framework overhead per implementation) and the scans' speed-up against the
sequence length and the width of a step, with the crossover where the loop starts to win."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

from rnncourse.bench import SCAN_LABELS, LSTMProfile, ScanSweep
from rnncourse.chapters.plotting import PALETTE, new_figure, series_styles
from rnncourse.models.scan_kernel import scan_kernel_path

__all__ = ["ceiling_sentence", "crossover_sentences", "kernel_scan_sentence", "lstm_profile_table",
           "plot_lstm_profile", "plot_scan_crossover"]

# (attribute of TimeBreakdown, label, colour, hatch): hatches keep the parts apart in greyscale.
PARTS = (
    ("matmul_ms", "matrix products", PALETTE[0], ""),
    ("fused_ms", "oneDNN LSTM call (products and element-wise, not separable)", PALETTE[5], "xx"),
    ("elementwise_ms", "element-wise work", PALETTE[1], "//"),
    ("overhead_ms", "framework overhead (Python, dispatch, autograd)", PALETTE[6], ".."),
)
SHORT_NAMES = {"loop": "plain loop", "fused_torch": "FusedLSTM, torch.matmul",
               "fused": "FusedLSTM, oneDNN products", "fused_compiled": "FusedLSTM, compiled",
               "fused_c": "FusedLSTM, C step", "torch": "torch.nn.LSTM"}


def plot_lstm_profile(profiles: dict[str, LSTMProfile]) -> plt.Figure:
    """One panel per size: a horizontal stacked bar per implementation, its forward + backward
    CPU time split into matrix products, element-wise work and overhead (and, for
    torch.nn.LSTM, oneDNN's single LSTM call, which the profiler cannot split)."""
    figure, axes = new_figure(ncols=len(profiles), width=5.0, height=3.4)
    axes = list(axes) if len(profiles) > 1 else [axes]
    for axis, (title, profile) in zip(axes, profiles.items(), strict=True):
        names = [SHORT_NAMES.get(row.variant, row.variant) for row in profile.rows]
        left = [0.0] * len(profile.rows)
        for attribute, label, colour, hatch in PARTS:
            widths = [getattr(row, attribute) for row in profile.rows]
            if not any(widths):
                continue
            axis.barh(names, widths, left=left, color=colour, hatch=hatch, edgecolor="white",
                      linewidth=0.5, label=label)
            left = [a + b for a, b in zip(left, widths, strict=True)]
        axis.invert_yaxis()
        axis.set_xlabel("forward + backward (CPU ms)")
        axis.set_title(title, fontsize=9)
        axis.grid(axis="y", visible=False)
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
                  fontsize=8)
    return figure


def _plot_speedups(axis: plt.Axes, sweep: ScanSweep) -> None:
    for (mode, speedups), style in zip(sweep.speedup.items(), series_styles(), strict=False):
        axis.plot(sweep.values, speedups, marker="o", label=SCAN_LABELS[mode], **style)
        crossing = sweep.crossover(mode)
        if crossing is not None:
            axis.axvline(crossing, color=style["color"], linewidth=0.8, linestyle=":")
    axis.axhline(1, color="grey", linewidth=1)
    if sweep.ceiling:  # the loop's time over the memory floor's: no scan can go above it
        axis.plot(sweep.values, sweep.ceiling, color="grey", linestyle="--", linewidth=1.2,
                  label="memory floor (about the most a scan can gain)")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.set_xticks(sweep.values, [str(value) for value in sweep.values])
    axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axis.yaxis.set_minor_formatter(NullFormatter())
    axis.set_ylabel("speed-up over the loop")


def plot_scan_crossover(by_length: ScanSweep, by_width: ScanSweep) -> plt.Figure:
    """Left, each scan's speed-up over the loop against T at one (B, H); right, against the
    width B·H of a step at one T. The grey line is 1 (as fast as the loop); dotted verticals mark
    where a scan's curve crosses it (`ScanSweep.crossover`); the dashed grey curve, where
    measured, is the ceiling set by the memory floor (`ScanSweep.ceiling`)."""
    figure, (lengths, widths) = new_figure(ncols=2, width=5.0, height=3.6)
    _plot_speedups(lengths, by_length)
    lengths.set_xlabel("sequence length T")
    fixed = by_length.fixed
    lengths.set_title(f"B × H = {fixed.get('batch_size')} × {fixed.get('hidden_size')}",
                      fontsize=9)
    _plot_speedups(widths, by_width)
    widths.set_xlabel("width of a step, B · H")
    widths.set_title(f"T = {by_width.fixed.get('seq_len')}", fontsize=9)
    figure.legend(*lengths.get_legend_handles_labels(), loc="outside lower center", ncols=2,
                  fontsize=8)
    return figure


def crossover_sentences(by_length: ScanSweep, by_width: ScanSweep) -> list[str]:
    """Sentences, computed from the sweeps, on each scan's best speed-up and where it stops (or
    starts) beating the loop as the step widens."""
    sentences = []
    for mode, speedups in by_width.speedup.items():
        label = SCAN_LABELS[mode].removeprefix("minGRU ")
        best = max(by_length.speedup[mode])
        at = by_length.values[by_length.speedup[mode].index(best)]
        crossing = by_width.crossover(mode)
        if crossing is None:
            side = "faster than" if speedups[0] > 1 else "slower than"
            where = (f"it stayed {side} the loop at every width measured "
                     f"(B · H from {by_width.values[0]} to {by_width.values[-1]})")
        else:
            change = "stopped beating" if speedups[0] > 1 else "started beating"
            where = f"it {change} the loop at a width B · H of about {crossing:.0f}"
        sentences.append(f"The {label}: at best {best:.1f} × as fast as the loop (T = {at}); "
                         f"at T = {by_width.fixed.get('seq_len')}, {where}.")
    if by_length.ceiling:
        sentences.append(ceiling_sentence(by_length))
    return sentences


def ceiling_sentence(sweep: ScanSweep) -> str:
    """At the sweep's last point: the memory floor's ceiling on the speed-up, and how close the
    best scan came to it."""
    ceiling = sweep.ceiling[-1]
    mode = max(sweep.speedup, key=lambda name: sweep.speedup[name][-1])
    best = sweep.speedup[mode][-1]
    name = "T" if sweep.axis == "seq_len" else "B · H"
    label = SCAN_LABELS[mode].removeprefix("minGRU ")
    reached = (f"the fastest, the {label}, was {best:.1f} × as fast, as fast as the floor "
               "itself" if best >= 0.9 * ceiling else
               f"the fastest, the {label}, was {best:.1f} × as fast, {100 * best / ceiling:.0f}% "
               "of that ceiling")
    return (f"At {name} = {sweep.values[-1]}, reading and writing each array once (the memory "
            f"floor) took {sweep.floor_ms[-1]:.1f} ms against the loop's "
            f"{sweep.loop_ms[-1]:.1f} ms, so a scan on this core could hardly be more than "
            f"{ceiling:.0f} × as fast as the loop there; {reached}.")


def kernel_scan_sentence(device: torch.device | str) -> str:
    """Which implementation the kernel scan's curves measured on `device` (`scan_kernel_path`)."""
    path = scan_kernel_path(torch.zeros(1, device=device))
    if path == "C kernel":
        return "The kernel scan ran as compiled C."
    return (f"The kernel scan could not run as C here, so its curves measure the {path}; the "
            "sentences about it are about that scan.")


def lstm_profile_table(profile: LSTMProfile) -> str:
    """Markdown: per implementation, its time, ratio to torch.nn.LSTM, achieved GFLOP/s
    (24·T·B·H·(I+H) operations over the time), the three parts of the time and the number of
    operations (kernels) it ran."""
    reference = next((row.total_ms for row in profile.rows if row.variant == "torch"), None)
    lines = ["| implementation | forward + backward | × torch.nn.LSTM | GFLOP/s | matrix "
             "products | element-wise | overhead | operations |",
             "|---|---|---|---|---|---|---|---|"]
    for row in profile.rows:
        ratio = f"{row.total_ms / reference:.2f}" if reference else "—"
        products = (f"{row.matmul_ms:.1f} ms" if row.variant != "torch"
                    else f"{row.fused_ms:.1f} ms (one oneDNN call)")
        elementwise = f"{row.elementwise_ms:.1f} ms" if row.variant != "torch" else "(in it)"
        lines.append(f"| {SHORT_NAMES.get(row.variant, row.variant)} | {row.total_ms:.1f} ms | "
                     f"{ratio} | {row.gflops:.0f} | {products} | {elementwise} | "
                     f"{row.overhead_ms:.1f} ms | {row.operations} |")
    return "\n".join(lines)
