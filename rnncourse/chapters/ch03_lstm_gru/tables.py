"""Chapter 3's tables, as Markdown (for `IPython.display.Markdown` and `rnncourse run ch03`)."""

from __future__ import annotations

from rnncourse.chapters.ch03_lstm_gru.gradient_flow import ForgetBiasDecay
from rnncourse.chapters.ch03_lstm_gru.long_range import CELL_LABELS, CELLS, LongRangeSettings
from rnncourse.chapters.ch03_lstm_gru.published import PUBLISHED_RESULTS
from rnncourse.chapters.ch03_lstm_gru.results import CellSummary, LongRangeResult
from rnncourse.chapters.plotting import markdown_table

__all__ = [
    "describe_settings",
    "forget_bias_table",
    "long_range_table",
    "parameter_count_table",
    "published_table",
    "seeds_caption",
]


def parameter_count_table(counts: dict[str, dict[str, int]]) -> str:
    """`parameter_counts(...)` as a table: cell, formula, torch.nn, whether they agree."""
    rows = [[CELL_LABELS[cell], f"{c['formula']:,}", f"{c['torch.nn']:,}",
             "yes" if c["formula"] == c["torch.nn"] else "**no**"]
            for cell, c in counts.items()]  # fmt: skip
    return markdown_table(["cell", "G (HI + HH + 2H)", "torch.nn", "equal"], rows)


def forget_bias_table(result: ForgetBiasDecay) -> str:
    """Forget-gate bias against the measured decay of ‖∂L/∂c_t‖ at initialisation, beside what
    the cell path alone predicts, σ(b)^k."""
    lags = result.fit_lags
    rows = [[f"{bias:g}", f"{sigmoid:.2f}", f"{mean_f:.2f}", f"{rate:.2f}", f"{share:.1e}",
             f"{sigmoid ** lags:.1e}"]
            for bias, sigmoid, mean_f, rate, share in zip(
                result.biases, result.sigmoid_of_bias, result.mean_forget_gate,
                result.decay_per_step, result.share_left, strict=True)]  # fmt: skip
    header = ["forget bias b", "σ(b)", "mean f_t (measured)", "‖∂L/∂c_t‖ factor per step back",
              f"share of ‖∂L/∂c_T‖ left {lags} steps back", f"σ(b)^{lags}"]  # fmt: skip
    return markdown_table(header, rows)


OPTIMIZER_NAMES = {"adam": "Adam", "rmsprop": "RMSProp", "sgd": "SGD"}


def describe_settings(settings: LongRangeSettings) -> str:
    """How the long-range comparison trains its models, in one Markdown paragraph."""
    if settings.clip_norm is not None:
        clipping = f"gradients clipped by norm at {settings.clip_norm:g}"
    elif settings.clip_value is not None:
        clipping = f"gradients clipped element-wise at ±{settings.clip_value:g}"
    else:
        clipping = "no gradient clipping"
    options = "".join(f", {name} {value:g}" for name, value in settings.optimizer_options.items())
    stop = (f", stopping once its held-out loss is below {settings.solved_fraction:.0%} of the "
            "baseline" if settings.stop_when_solved else "")
    sizes = ("the hidden sizes the settings name" if settings.hidden_sizes else
             "the hidden size at which its whole model (core and readout) has about as many "
             f"parameters as an LSTM with {settings.lstm_hidden_size} units")
    seeds = "one seed" if settings.num_seeds == 1 else f"{settings.num_seeds} seeds"
    return (f"Each cell gets {sizes}, and is trained with "
            f"{OPTIMIZER_NAMES.get(settings.optimizer, settings.optimizer)} (learning rate "
            f"{settings.lr:g}{options}), {clipping}, on batches of {settings.batch_size} fresh "
            f"sequences, for at most {settings.adding_max_steps} steps on the adding problem and "
            f"{settings.copy_max_steps} on copy memory{stop}; the held-out loss is measured on "
            f"{settings.eval_batch_size} sequences every {settings.eval_every} steps. Every "
            f"(task, T, cell) is trained from {seeds}.")


def seeds_caption(result: LongRangeResult) -> str:
    """What one entry of the long-range table is: over how many seeds, or that there is one."""
    seeds = len(result.seeds)
    if seeds == 1:
        return f"One seed ({result.seeds[0]}): no spread is shown."
    return (f"Mean ± standard deviation over {seeds} seeds ({result.seeds[0]} to "
            f"{result.seeds[-1]}); a seed sets the initial weights and the training batches.")


def _entry(summary: CellSummary) -> str:
    text = f"{summary.mean_loss:#.3g}"
    if summary.seeds > 1:
        text += f" ± {summary.std_loss:.2g}"
    if summary.mean_accuracy is not None:
        text += f", {summary.mean_accuracy:.0%} right"
    steps = summary.mean_steps_solved
    solved = f"solved {summary.num_solved}/{summary.seeds}"
    if steps is not None:
        solved += f" ({steps:.0f} steps)"
    return f"**{text}**, {solved}" if summary.num_solved == summary.seeds else f"{text}, {solved}"


def long_range_table(result: LongRangeResult) -> str:
    """Final held-out loss of each cell at each (task, T) beside the memoryless baseline.

    Each entry: the mean (± standard deviation over the seeds) of the final loss, for copy
    memory the share of copied symbols predicted right (chance: 1/K), and in how many seeds the
    task was solved (loss below `solved_fraction` of the baseline), with the mean number of
    steps those seeds needed; bold when every seed solved it.
    """
    cells = [cell for cell in CELLS if cell in result.cells()]
    labels = [CELL_LABELS[cell] for cell in cells]
    header = ["task", "T", "baseline", *labels, "parameters (" + " / ".join(labels) + ")"]
    rows = []
    for task in ("adding", "copy"):
        for length in result.lengths(task):
            summaries = [result.summary(task, length, cell) for cell in cells]
            sizes = " / ".join(f"{summary.parameters:,}" for summary in summaries)
            rows.append([task, str(length), f"{summaries[0].baseline:.3f}",
                         *map(_entry, summaries), sizes])
    return markdown_table(header, rows)


def published_table() -> str:
    """The published results this chapter's comparison is held against."""
    rows = [[entry["task"], entry["T"], entry["result"], entry["setting"], entry["source"]]
            for entry in PUBLISHED_RESULTS]  # fmt: skip
    return markdown_table(["task", "T", "published result", "setting", "source"], rows)
