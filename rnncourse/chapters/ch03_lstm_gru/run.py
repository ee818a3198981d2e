"""Chapter 3's experiments for `rnncourse run ch03`, in the page's order, with the page's tables."""

from __future__ import annotations

from typing import Any

from rnncourse.chapters.ch03_lstm_gru.figures import (
    forget_bias_table,
    long_range_table,
    parameter_count_table,
    published_table,
)
from rnncourse.chapters.ch03_lstm_gru.gradient_flow import (
    inspect_adding_lstm,
    parameter_counts,
    run_forget_bias_decay,
    run_gradient_flow,
)
from rnncourse.chapters.ch03_lstm_gru.long_range import run_long_range_tasks
from rnncourse.chapters.runner import ChapterRun, Experiment

__all__ = ["EXPERIMENTS"]


def forget_bias(run: ChapterRun) -> tuple[Any, str]:
    result = run_forget_bias_decay(**run.settings.forget_bias, device=run.device, seed=run.seed)
    return result, forget_bias_table(result)


def counts(run: ChapterRun) -> tuple[Any, str]:
    result = parameter_counts(**run.settings.parameter_counts)
    return result, parameter_count_table(result)


def long_range(run: ChapterRun) -> tuple[Any, str]:
    result = run_long_range_tasks(**run.settings.long_range, device=run.device, seed=run.seed)
    return result, f"{long_range_table(result)}\n\nPublished:\n\n{published_table()}"


def gradient_flow(run: ChapterRun) -> tuple[Any, str]:
    flow = run_gradient_flow(run.results["long-range"], task="adding", device=run.device,
                             seed=run.seed)
    lines = [f"{stage} factor per step back: " + ", ".join(
        f"{cell} x{flow.decay_per_step(stage, cell):.3f}" for cell in flow.norms[stage])
        for stage in ("initial", "trained")]
    return flow, "\n\n".join(lines)


def inside_lstm(run: ChapterRun) -> tuple[Any, str]:
    long_range_result = run.results["long-range"]
    lstm = long_range_result.get("adding", max(long_range_result.lengths("adding")), "lstm")
    inside = inspect_adding_lstm(lstm.model(device=run.device), lstm.length, num_units=2,
                                 seed=run.seed)
    lines = [f"held-out MSE of the LSTM at T = {lstm.length}: {inside.mse:.4f}"]
    for unit, at_marker, elsewhere, forget, correlation in zip(
            inside.units, inside.input_gate_at_markers, inside.input_gate_elsewhere,
            inside.forget_gate_after_first_marker, inside.cell_target_correlation, strict=True):
        lines.append(f"unit {unit}: input gate {at_marker:.2f} at the markers, {elsewhere:.3f} "
                     f"elsewhere; forget gate {forget:.3f}; corr(c_T, u_p + u_q) "
                     f"{correlation:+.2f}")
    return inside, "\n\n".join(lines)


EXPERIMENTS = (
    Experiment("forget-bias", "the gradient along an LSTM's cell for three forget biases",
               forget_bias),
    Experiment("parameter-counts", "parameters of RNN, GRU and LSTM against torch.nn", counts),
    Experiment("long-range", "RNN, LSTM and GRU of equal size on the adding and copy tasks",
               long_range),
    Experiment("gradient-flow", "where the gradient goes, before and after training",
               gradient_flow, needs=("long-range",)),
    Experiment("inside-lstm", "what the trained LSTM stores on the adding problem", inside_lstm,
               needs=("long-range",)),
)
