"""The sentences chapter 5 prints about its transfer runs, written from the results.

    zero_shot_claim(TextTransferResult, source_bpc)  the pretrained model on the new book
    text_transfer_claim(TextTransferResult)          fine-tuned against scratch, per amount of text
    fine_tuning_ways_claim(TextTransferResult)       which way of fine-tuning did best
    series_transfer_claim(SeriesTransferResult)      forecasting sunspots, short and long history
    text_transfer_summary, series_transfer_summary    one sentence each, for the summary

Like `curriculum_claims`, each function returns Markdown that the page glues into its prose.
"""

from __future__ import annotations

from rnncourse.chapters.ch05_curriculum_transfer.curriculum_claims import join, separated
from rnncourse.chapters.ch05_curriculum_transfer.series_transfer import SeriesTransferResult
from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import (
    FINE_TUNED,
    SCRATCH,
    TextTransferResult,
)

__all__ = [
    "fine_tuning_ways_claim",
    "series_transfer_claim",
    "series_transfer_summary",
    "text_transfer_claim",
    "text_transfer_summary",
    "zero_shot_claim",
]

# Differences of test bpc below this are called a tie: the page runs one seed, and a run with
# another seed moves single results by a few hundredths of a bit.
BPC_TIE = 0.03


def zero_shot_claim(result: TextTransferResult, source_bpc: float) -> str:
    """The pretrained model on the target's test text, before fine-tuning, against its own
    held-out source text and a uniform guess over the alphabet."""
    share = result.zero_shot_whitespace
    text = (f"Before fine-tuning, the pretrained model spends {result.zero_shot_bpc:.2f} bits "
            f"per character on the new book, against {source_bpc:.2f} on held-out text of its "
            f"own corpus. ")
    if share:
        heavier = share["bits"] > share["characters"]
        text += (f"Spaces and line breaks are {share['characters']:.0%} of the characters but "
                 f"take {share['bits']:.0%} of its bits"
                 + (": the layout costs it more than its share. " if heavier else ". ")
                 + f"The other characters cost it {share['bpc_without']:.2f} bits each.")
    return text


def text_transfer_claim(result: TextTransferResult) -> str:
    """Fine-tuned against scratch at every amount of target text, and how the gain moves."""
    gains = {size: result.run(SCRATCH, size).test_bpc - result.run(FINE_TUNED, size).test_bpc
             for size in result.train_sizes}
    wins = [size for size, gain in gains.items() if gain > BPC_TIE]
    losses = [size for size, gain in gains.items() if gain < -BPC_TIE]
    ties = [size for size in gains if size not in wins and size not in losses]

    def sizes(values: list[int]) -> str:
        return join([f"{size:,}" for size in values]) + " characters"

    text = f"After {result.steps} steps (one seed), "
    parts = []
    if wins:
        parts.append("the fine-tuned model beats the one trained from scratch with "
                     f"{sizes(wins)} of target text, by "
                     + join([f"{gains[size]:.2f}" for size in wins]) + " bits per character")
    if ties:
        parts.append(f"the two end within {BPC_TIE} bits of each other with {sizes(ties)}")
    if losses:
        parts.append(f"training from scratch is better with {sizes(losses)}")
    text += "; ".join(parts) + ". "
    ordered = [gains[size] for size in sorted(gains)]
    if len(ordered) > 1:
        growing = all(b > a for a, b in zip(ordered, ordered[1:], strict=False))
        text += ("The gain grows with every step up in the amount of text." if growing else
                 "The gain does not grow with every step up in the amount of text.")
    return text


def fine_tuning_ways_claim(result: TextTransferResult) -> str:
    """The ways of fine-tuning at the smallest amount of text, best first, with the caveat of
    a single seed."""
    runs = sorted(result.strategy_runs(), key=lambda run: run.test_bpc)
    best, runner_up = runs[0], runs[1]
    listed = join([f"{run.label} {run.test_bpc:.2f}" for run in runs])
    margin = runner_up.test_bpc - best.test_bpc
    text = (f"With {result.strategies_size:,} characters, the test bits per character are "
            f"{listed}. **{best.label.capitalize()}** does best, ")
    text += (f"{margin:.2f} bits ahead of {runner_up.label}"
             + ("." if margin > BPC_TIE else
                f", a margin below {BPC_TIE} bits that one seed cannot settle."))
    return text


def _stat(result: SeriesTransferResult, method: str, index: int) -> tuple[float, float]:
    return result.mae[method][index], result.mae_std[method][index]


def series_transfer_claim(result: SeriesTransferResult) -> str:
    """The learned forecasts against each other and the seasonal-naive one, with the shortest
    and the longest history."""
    seeds = len(result.seeds)
    short, long = 0, len(result.history_lengths) - 1
    seasonal = result.mae["seasonal naive"][0]
    scratch, zero, tuned = (_stat(result, method, short) for method in
                            ("from scratch", "pretrained, not fine-tuned",
                             "pretrained + fine-tuned"))

    def mae(value: tuple[float, float]) -> str:
        return f"{value[0]:.1f} ± {value[1]:.1f}"

    text = (f"With {result.history_lengths[short]} years of history (mean absolute error in "
            f"sunspots, mean ± standard deviation over {seeds} seeds), the network trained from "
            f"scratch errs by {mae(scratch)}, the pretrained one, which has never seen a "
            f"sunspot, by {mae(zero)}, and the seasonal-naive forecast by {seasonal:.1f}. ")
    text += ("Pretraining alone beats training from scratch on this history. "
             if separated(zero, scratch) and zero[0] < scratch[0] else
             "Pretraining alone does not beat training from scratch on this history. ")
    if separated(tuned, zero):
        text += (f"Fine-tuned on it, the pretrained network errs by {mae(tuned)}, "
                 + ("better than without fine-tuning. " if tuned[0] < zero[0] else
                    "worse than without fine-tuning: too little history to adapt on. "))
    else:
        text += (f"Fine-tuned on it, it errs by {mae(tuned)}, no different from not fine-tuning "
                 "within the spread of the seeds. ")
    scratch_long, tuned_long = (_stat(result, method, long) for method in
                                ("from scratch", "pretrained + fine-tuned"))
    text += (f"With {result.history_lengths[long]} years, training from scratch reaches "
             f"{mae(scratch_long)} and the fine-tuned network {mae(tuned_long)}: ")
    if separated(scratch_long, tuned_long):
        winner = "fine-tuning" if tuned_long[0] < scratch_long[0] else "training from scratch"
        text += f"{winner} is better. "
    else:
        text += "the two are level within the spread of the seeds. "
    below = [name for name, value in (("scratch", scratch_long), ("fine-tuned", tuned_long))
             if value[0] < seasonal]
    text += ("Both beat the seasonal-naive forecast there." if len(below) == 2 else
             f"Only the {below[0]} network beats the seasonal-naive forecast there."
             if below else "Neither beats the seasonal-naive forecast there.")
    return text


def text_transfer_summary(result: TextTransferResult) -> str:
    """Where fine-tuning beat scratch, and the best way at the smallest amount, in a sentence."""
    wins = [size for size in result.train_sizes
            if result.run(SCRATCH, size).test_bpc - result.run(FINE_TUNED, size).test_bpc
            > BPC_TIE]
    best = min(result.strategy_runs(), key=lambda run: run.test_bpc)
    where = (f"with {join([f'{size:,}' for size in wins])} characters of target text"
             if wins else "with none of the amounts of target text tried")
    return (f"Fine-tuning the pretrained character model beat training from scratch in the same "
            f"{result.steps} steps {where} (one seed); with {result.strategies_size:,} "
            f"characters, {best.label} did best.")


def series_transfer_summary(result: SeriesTransferResult) -> str:
    """The shortest and the longest history, in one sentence."""
    short, long = 0, len(result.history_lengths) - 1
    scratch, zero = (_stat(result, method, short) for method in
                     ("from scratch", "pretrained, not fine-tuned"))
    scratch_long, tuned_long = (_stat(result, method, long) for method in
                                ("from scratch", "pretrained + fine-tuned"))
    first = ("errs less than" if zero[0] < scratch[0] and separated(zero, scratch) else
             "does not err less than")
    second = ("caught up with" if not separated(scratch_long, tuned_long) or
              scratch_long[0] < tuned_long[0] else "stayed behind")
    return (f"A forecaster pretrained on synthetic cycles, never shown a sunspot, {first} one "
            f"trained from scratch on {result.history_lengths[short]} years of sunspots "
            f"({zero[0]:.1f} against {scratch[0]:.1f}, {len(result.seeds)} seeds); with "
            f"{result.history_lengths[long]} years, training from scratch {second} the "
            f"fine-tuned one ({scratch_long[0]:.1f} against {tuned_long[0]:.1f}).")
