"""Chapter 3's experiments for `rnncourse run ch03`, in the page's order, with the page's tables
and the sentences it writes about them."""

from __future__ import annotations

from typing import Any

from rnncourse.chapters.ch03_lstm_gru.claims import (
    adding_claim,
    copy_claim,
    forget_bias_claim,
    gradient_flow_claim,
    inspection_claim,
)
from rnncourse.chapters.ch03_lstm_gru.figures import (
    forget_bias_table,
    long_range_table,
    parameter_count_table,
    published_table,
    seeds_caption,
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
    return result, f"{forget_bias_table(result)}\n\n{forget_bias_claim(result)}"


def counts(run: ChapterRun) -> tuple[Any, str]:
    result = parameter_counts(**run.settings.parameter_counts)
    return result, parameter_count_table(result)


def long_range(run: ChapterRun) -> tuple[Any, str]:
    result = run_long_range_tasks(**run.settings.long_range, device=run.device, seed=run.seed)
    report = [long_range_table(result), seeds_caption(result), adding_claim(result),
              copy_claim(result), f"Published:\n\n{published_table()}"]
    return result, "\n\n".join(report)


def gradient_flow(run: ChapterRun) -> tuple[Any, str]:
    flow = run_gradient_flow(run.results["long-range"], task="adding", device=run.device,
                             seed=run.seed)
    return flow, gradient_flow_claim(flow)


def inside_lstm(run: ChapterRun) -> tuple[Any, str]:
    long_range_result = run.results["long-range"]
    lstm = long_range_result.best("adding", max(long_range_result.lengths("adding")), "lstm")
    inside = inspect_adding_lstm(lstm.model(device=run.device), lstm.length, num_units=2,
                                 seed=run.seed)
    header = f"The LSTM at T = {lstm.length} from seed {lstm.seed} (lowest held-out loss)."
    return inside, f"{header}\n\n{inspection_claim(inside, lstm.baseline)}"


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
