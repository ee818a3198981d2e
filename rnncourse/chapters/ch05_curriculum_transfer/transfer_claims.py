"""The sentences chapter 5 prints about its transfer runs, written from the results.

    zero_shot_claim(TextTransferResult, source_bpc)  the pretrained model on the new book
    text_transfer_claim(TextTransferResult)          fine-tuned against scratch, per amount of text
    fine_tuning_ways_claim(TextTransferResult)       which way of fine-tuning did best
    validation_claim(TextTransferResult)             which ways stopped improving, and when
    series_transfer_claim(SeriesTransferResult)      forecasting sunspots, short and long history
    text_transfer_summary, series_transfer_summary    one sentence each, for the summary

Like `curriculum_claims`, each function returns Markdown that the page glues into its prose.
"""

from __future__ import annotations

from rnncourse.chapters.ch05_curriculum_transfer.curriculum_claims import join, separated
from rnncourse.chapters.ch05_curriculum_transfer.series_transfer import SeriesTransferResult
from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import (
    TextTransferResult,
)

__all__ = [
    "fine_tuning_ways_claim",
    "series_transfer_claim",
    "series_transfer_summary",
    "text_transfer_claim",
    "text_transfer_summary",
    "validation_claim",
    "zero_shot_claim",
]

# Differences of test bpc below this are called a tie, however small the spread of the seeds.
BPC_TIE = 0.03


def _bpc(value: tuple[float, float]) -> str:
    return f"{value[0]:.2f} ± {value[1]:.2f}"


def _gain_verdict(gain: tuple[float, float]) -> int:
    """+1: fine-tuning ahead, -1: scratch ahead, 0: level. A side is ahead when the mean gain
    exceeds both the tie margin and the spread of the gain over seeds."""
    margin = max(BPC_TIE, gain[1])
    return 1 if gain[0] > margin else -1 if gain[0] < -margin else 0


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
    """Fine-tuned against scratch at every amount of target text (the gain, mean ± sd over
    seeds), and whether the gain grows with the amount of text."""
    gains = {size: result.gain_stats(size) for size in result.train_sizes}
    verdicts = {size: _gain_verdict(gain) for size, gain in gains.items()}
    wins = [size for size, verdict in verdicts.items() if verdict > 0]
    losses = [size for size, verdict in verdicts.items() if verdict < 0]
    ties = [size for size, verdict in verdicts.items() if verdict == 0]

    def sizes(values: list[int]) -> str:
        return join([f"{size:,}" for size in values]) + " characters"

    text = (f"After {result.steps} steps (gain in bits per character, mean ± standard deviation "
            f"over {len(result.seeds)} seeds), ")
    parts = []
    if wins:
        parts.append("the fine-tuned model beats the one trained from scratch with "
                     f"{sizes(wins)} of target text, by "
                     + join([_bpc(gains[size]) for size in wins]))
    if ties:
        parts.append(f"the two are level (within {BPC_TIE} bits or the spread of the seeds) "
                     f"with {sizes(ties)}")
    if losses:
        parts.append(f"training from scratch is better with {sizes(losses)}, by "
                     + join([_bpc((-gains[size][0], gains[size][1])) for size in losses]))
    text += "; ".join(parts) + ". "
    ordered = [gains[size][0] for size in sorted(gains)]
    if len(ordered) > 1:
        growing = all(b > a for a, b in zip(ordered, ordered[1:], strict=False))
        text += ("The mean gain grows with every step up in the amount of text." if growing
                 else "The mean gain does not grow with every step up in the amount of text.")
    return text


def fine_tuning_ways_claim(result: TextTransferResult) -> str:
    """The ways of fine-tuning at the smallest amount of text, best first (mean ± sd over
    seeds), and whether the seeds separate the best from the runner-up."""
    size = result.strategies_size
    stats = {label: result.test_stats(label, size) for label in result.strategy_labels}
    order = sorted(stats, key=lambda label: stats[label][0])
    best, runner_up = order[0], order[1]
    listed = join([f"*{label}* {_bpc(stats[label])}" for label in order])
    margin = stats[runner_up][0] - stats[best][0]
    text = (f"With {size:,} characters, the test bits per character (mean ± standard deviation "
            f"over {len(result.seeds)} seeds) are {listed}. **{best.capitalize()}** does best, "
            f"{margin:.2f} bits ahead of *{runner_up}*")
    if margin > BPC_TIE and separated(stats[best], stats[runner_up]):
        return text + ", more than the spread of the seeds."
    return text + (f", within the spread of the seeds or below {BPC_TIE} bits: these seeds do "
                   "not separate the two.")


def validation_claim(result: TextTransferResult) -> str:
    """For each way of training at the smallest amount of text, whether its validation bpc
    stopped improving before the last evaluation (in how many seeds) or was still falling."""
    size, stopped, falling = result.strategies_size, [], []
    for label in result.strategy_labels:
        runs = result.runs_of(label, size)
        early = sum(run.valid_bpc.index(min(run.valid_bpc)) < len(run.valid_bpc) - 1
                    for run in runs)
        if early:
            steps = join([str(run.eval_step[run.valid_bpc.index(min(run.valid_bpc))] + 1)
                          for run in runs])
            stopped.append(f"*{label}* (in {early} of {len(runs)} seeds; best at steps {steps})")
        else:
            falling.append(f"*{label}*")
    text = f"On {size:,} characters, "
    if stopped:
        text += (f"the validation bits per character stopped improving before the last of the "
                 f"{result.steps} steps for {join(stopped)}: past that point the model fits "
                 "the few characters it has rather than the book")
    if falling:
        text += (f"{'; it' if stopped else 'the validation bits per character'} still fell at the "
                 f"last evaluation for {join(falling)} in every seed: the budget ended while "
                 "these runs were still improving")
    return text + "."


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
    wins = [size for size in result.train_sizes if _gain_verdict(result.gain_stats(size)) > 0]
    size = result.strategies_size
    stats = {label: result.test_stats(label, size) for label in result.strategy_labels}
    order = sorted(stats, key=lambda label: stats[label][0])
    clear = (stats[order[1]][0] - stats[order[0]][0] > BPC_TIE
             and separated(stats[order[0]], stats[order[1]]))
    where = (f"with {join([f'{size:,}' for size in wins])} characters of target text"
             if wins else "with none of the amounts of target text tried")
    return (f"Fine-tuning the pretrained character model beat training from scratch in the same "
            f"{result.steps} steps {where} ({len(result.seeds)} seeds); with {size:,} "
            f"characters, *{order[0]}* did best"
            + (", clear of the next by more than the spread of the seeds." if clear else
               f", though not separated from *{order[1]}* by these seeds."))


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
