"""Chapter 1: the sentences the page says about its own results, written from the results.

Whatever the CPU, the seed or the scale, a sentence on the page cannot contradict the numbers
printed beside it: each function here reads a result and says what it shows, including the
cases the page does not expect (a rate over its bound, a tanh RNN that beats the baseline, an
LSTM that does not). `tests/chapters/test_long_term_memory_claims.py` builds results for the
purpose, one where each side wins.

    rates_under_bound(result)            every measured rate under γ σ_max, or which are not
    rates_below_radius(result)           measured rate against ρ for the rescaled random W_hh
    rate_comparison(result, a, b)        which initialisation keeps more of the gradient per step
    growth_or_decay(result, label)       whether the gradient vanishes or grows at one setting
    week_factor(rate, lag)               what a rate leaves of the gradient after `lag` steps
    adding_outcome(result)               LSTM and tanh RNN beside the baseline 1/6, longest T
    copy_delay_outcome(result)           loss over the memoryless loss at the shortest and the
                                         longest delay; there, what recall adds to the loss
    copy_size_outcome(result)            recall against hidden units at the shortest delay

How a run's setting differs from the paper's is written by `scale_differences.py`.
"""

from __future__ import annotations

import math

from rnncourse.chapters.ch01_long_term_memory.gradient_decay import (
    GradientDecayResult,
    RateSummary,
)
from rnncourse.chapters.ch01_long_term_memory.memory_tasks import AddingResult, CopyCapacityResult

__all__ = [
    "adding_outcome",
    "copy_delay_outcome",
    "copy_size_outcome",
    "growth_or_decay",
    "rate_comparison",
    "rates_below_radius",
    "rates_under_bound",
    "relation_to_baseline",
    "week_factor",
]

CELL_NAMES = {"rnn_tanh": "the tanh RNN", "rnn_relu": "the ReLU RNN", "lstm": "the LSTM",
              "gru": "the GRU"}
# A loss within 10 % of the memoryless baseline is "at the baseline": nothing long-range learnt.
AT_BASELINE = (0.9, 1.1)
# Below this fraction of the baseline a model has clearly learnt the long-range part.
FAR_BELOW = 0.5
# Adding problem: a model that keeps only the later marked value u_q predicts u_q + 1/2 and scores
# Var(u_p) = 1/12, half the baseline 1/6; below that it must carry the first value too.
ONE_VALUE_KEPT = 0.5
# Copy memory: a recall within 20 % of chance, 1/K, says nothing was kept of the symbols.
NEAR_CHANCE = 1.2


def _never_falls(values: list[float]) -> bool:
    return all(later >= earlier for earlier, later in zip(values, values[1:], strict=False))


def _ratio(value: float) -> str:
    """A loss ratio with two decimals, or two significant digits below 0.1 (0.0044, not 0.00)."""
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def _seeds(count: int) -> str:
    return "one seed" if count == 1 else f"{count} seeds"


def _mean_sd(summary: RateSummary, digits: int = 3) -> str:
    if len(summary.rates) == 1:
        return f"{summary.mean:.{digits}f}"
    return f"{summary.mean:.{digits}f} ± {summary.std:.{digits}f}"


def rates_under_bound(result: GradientDecayResult) -> str:
    """Whether every measured rate (every initialisation, every seed) is at most γ σ_max."""
    summaries = result.summaries()
    total = sum(len(s.rates) for s in summaries)
    over = [s for s in summaries if s.seeds_under_bound < len(s.rates)]
    if not over:
        return (f"All {total} measured rates ({len(summaries)} initialisations, "
                f"{_seeds(len(result.seeds))}) lie under their bound, as they must")
    names = ", ".join(f"{s.label} ({len(s.rates) - s.seeds_under_bound} of {len(s.rates)})"
                      for s in over)
    return (f"Some measured rates lie above their bound, which the theory rules out: {names}. "
            "Something in the measurement is wrong")


def rates_below_radius(result: GradientDecayResult) -> str:
    """For the rescaled random matrices: is the mean measured rate below ρ in every case?"""
    random = [init for init in (curve.init for curve in result.curves)
              if init.scheme == "default" and init.spectral_radius is not None]
    if not random:
        return "No random matrix was rescaled to a spectral radius in this run"
    above = [init for init in random if result.summary(init.label).mean > init.spectral_radius]
    if not above:
        return ("For every rescaled random matrix the measured rate lies below its spectral "
                "radius ρ: the slope of tanh, below 1 away from a = 0, takes its share at "
                "every step")
    names = ", ".join(f"{init.label} ({result.summary(init.label).mean:.3f})" for init in above)
    return f"The measured rate lies above ρ for {names}; below it for the others"


def rate_comparison(result: GradientDecayResult, first: str, second: str) -> str:
    """Which of two initialisations keeps more of the gradient per step, over the seeds.

    The means differ when they are more than two standard errors of the difference apart,
    |m_a − m_b| > 2 sqrt(s_a²/n + s_b²/n); otherwise they are the same within the spread.
    With one seed there is no spread, and the sentence says so.
    """
    a, b = result.summary(first), result.summary(second)
    n = len(a.rates)
    both = f"{_mean_sd(a)} against {_mean_sd(b)} per step, over {_seeds(n)}"
    difference = a.mean - b.mean
    if n < 2:
        verb = "keeps more" if difference > 0 else "keeps less"
        return (f"{first} {verb} of the gradient per step than {second} ({both}; a single seed "
                "shows no spread, so this may not hold for another)")
    standard_error = math.sqrt(a.std**2 / n + b.std**2 / n)
    if abs(difference) <= 2 * standard_error:
        return (f"{first} and {second} lose the gradient at the same rate within the spread "
                f"over seeds ({both})")
    verb = "keeps more" if difference > 0 else "keeps less"
    return f"{first} {verb} of the gradient per step than {second} ({both})"


def growth_or_decay(result: GradientDecayResult, label: str) -> str:
    """Whether the gradient vanishes or grows going back, at initialisation `label`."""
    summary = result.summary(label)
    n = len(summary.rates)
    growing = sum(rate > 1 for rate in summary.rates)
    rate = f"{_mean_sd(summary)} per step ({_seeds(n)})"
    if growing == 0:
        return f"at {label} the gradient vanishes going back, at {rate}"
    if growing == n:
        return f"at {label} the gradient grows going back, by {rate}"
    return (f"at {label} the gradient grows going back in {growing} of {n} seeds and vanishes "
            f"in the others: {rate}, at the edge between the two")


def week_factor(rate: float, lag: int) -> str:
    """What is left after `lag` steps at `rate` per step, and what that means for learning."""
    factor = rate**lag
    if factor < 1e-3:
        return (f"arrives multiplied by {factor:.0e}. Next to the short-range terms of the same "
                "sum, which arrive with factors near 1, it teaches nothing: a weekly cycle needs "
                "something other than a plain tanh recurrence to carry it")
    if factor <= 1:
        return (f"arrives multiplied by {factor:.2g}: weakened, but not lost among the "
                "short-range terms")
    return f"arrives multiplied by {factor:.2g}: it has grown on its way back"


def relation_to_baseline(ratio: float) -> str:
    """A loss / baseline ratio in words."""
    low, high = AT_BASELINE
    if ratio < 0.1:
        return f"{1 / ratio:.0f} times below the baseline"
    if ratio < low:
        return f"{_ratio(ratio)} times the baseline, below it but far from solving the task"
    if ratio <= high:
        return f"{ratio:.2f} times the baseline, that is, at it"
    return f"{ratio:.2f} times the baseline, above it"


def adding_outcome(result: AddingResult) -> str:
    """The tanh RNN at the shortest length, then both models at the longest, beside 1/6."""
    lengths = sorted({run.length for run in result.runs})
    longest = lengths[-1]
    runs = {run.cell: run for run in result.runs if run.length == longest}
    sentence = ""
    shortest = [run for run in result.runs if run.length == lengths[0] and run.cell == "rnn_tanh"]
    if len(lengths) > 1 and shortest:
        ratio = shortest[0].loss_over_baseline
        learnt = ("it has learnt the task over this short distance"
                  if ratio < FAR_BELOW else "it has not learnt the task even over this distance")
        sentence += (f"At T = {lengths[0]}, the tanh RNN ends at an MSE of "
                     f"{shortest[0].test_loss:.4f}, {relation_to_baseline(ratio)}: {learnt}. ")
    parts = [f"{CELL_NAMES.get(cell, cell)} ends at an MSE of {run.test_loss:.4f}, "
             f"{relation_to_baseline(run.loss_over_baseline)}"
             for cell, run in runs.items()]
    sentence += f"At T = {longest}, " + "; ".join(parts) + "."
    if "lstm" in runs and "rnn_tanh" in runs:
        lstm, rnn = runs["lstm"].loss_over_baseline, runs["rnn_tanh"].loss_over_baseline
        if lstm < FAR_BELOW and rnn >= AT_BASELINE[0]:
            sentence += (" The LSTM has carried the marked values across the sequence; the tanh "
                         "RNN, with the same width, optimiser and data, has not")
        elif lstm < FAR_BELOW and rnn < ONE_VALUE_KEPT:
            sentence += (" Both have learnt the long-range part in this run: below half the "
                         "baseline, the tanh RNN must carry the first marked value too")
        elif lstm < FAR_BELOW and rnn < AT_BASELINE[0]:
            sentence += (" The tanh RNN is not stuck at the baseline here, but it stays above half "
                         "of it, which keeping only the later marked value would give: it may "
                         "have learnt only the shorter of the two dependencies")
        else:
            sentence += " The LSTM has not left the baseline within this run's training budget"
        sentence += f" (seed {result.seed})."
    return sentence


def copy_delay_outcome(result: CopyCapacityResult) -> str:
    """Loss over the memoryless baseline at the shortest and the longest delay."""
    first, last = result.by_delay[0], result.by_delay[-1]
    ratios = [run.loss_over_baseline for run in result.by_delay]
    rising = _never_falls(ratios)
    sentence = (f"At a delay of {first.length} steps the LSTM of {result.settings.hidden_size} "
                f"units ends at {_ratio(first.loss_over_baseline)} times the memoryless loss; "
                f"at {last.length} steps at {_ratio(last.loss_over_baseline)} times it")
    if last.loss_over_baseline >= AT_BASELINE[0]:
        where = "that is, at it" if last.loss_over_baseline <= AT_BASELINE[1] else "above it"
        sentence += (f", {where}, as Arjovsky et al. report for their LSTM at delays of 200 and "
                     "more (their Fig. 1)")
        sentence += _recall_at_baseline(last.accuracy, result.chance_accuracy)
    else:
        sentence += ": still below the baseline at the longest delay of this run"
    if len(ratios) > 2:
        sentence += (". The ratio rises with every longer delay" if rising else
                     ". The ratio does not rise at every step of the sweep")
    return sentence + "."


def _recall_at_baseline(recall: float | None, chance: float) -> str:
    """What recall says of a model whose loss is at the memoryless one: nothing, or a little."""
    if recall is None:
        return ""
    if recall <= NEAR_CHANCE * chance:
        return (f"; its recall, {recall:.2f} against a chance of {chance:.3f}, says it has learnt "
                "to output blanks and nothing about the symbols")
    return (f"; its recall, {recall:.2f}, is still above chance ({chance:.3f}): it keeps a little "
            "of the symbols, which the loss does not show")


def copy_size_outcome(result: CopyCapacityResult) -> str:
    """Recall against the number of hidden units at the shortest delay."""
    runs = sorted(result.by_hidden_size, key=lambda run: run.hidden_size)
    smallest, largest = runs[0], runs[-1]
    recalls = [run.accuracy for run in runs]
    chance = f"chance is {result.chance_accuracy:.3f}"
    if largest.accuracy > smallest.accuracy:
        trend = "rises with the size of the state"
        if not _never_falls(recalls):
            trend += ", though not at every size"
    elif largest.accuracy < smallest.accuracy:
        trend = "falls with the size of the state"
    else:
        trend = "does not change with the size of the state"
    return (f"At a delay of {result.sizes_delay} steps recall {trend}: "
            f"{smallest.accuracy:.2f} with {smallest.hidden_size} units, "
            f"{largest.accuracy:.2f} with {largest.hidden_size}, where {chance}.")
