"""Sentences about chapter 2's results, written from the numbers, so that the page cannot say
something its own outputs contradict, whatever the CPU or the seed.

Each function takes plain numbers (one value per seed where there are seeds) and returns a
sentence or a clause. "Lower is better" throughout: losses, bits per character.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

__all__ = [
    "baseline_clause",
    "clipped_walk_sentence",
    "comparison_sentence",
    "explosion_sentence",
    "largest_gradient_sentence",
    "learners_sentence",
    "mean_spread",
    "overfitting_sentence",
    "ranking",
    "regularization_sentences",
    "weight_decay_verdict",
]


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def mean_spread(values: Sequence[float], digits: int = 3) -> str:
    """'0.123 ± 0.004' (mean ± standard deviation over seeds); 'diverged' when none is finite;
    with the number of diverged seeds when some are not."""
    finite = _finite(values)
    if not finite:
        return "diverged"
    mean = statistics.fmean(finite)
    spread = statistics.stdev(finite) if len(finite) > 1 else 0.0
    text = f"{mean:.{digits}f} ± {spread:.{digits}f}"
    lost = len(values) - len(finite)
    return text + (f" ({lost} of {len(values)} seeds diverged)" if lost else "")


def _apart(a: Sequence[float], b: Sequence[float]) -> int:
    """-1 when a is lower than b beyond their spreads, 1 when higher, 0 when the means differ
    by less than the sum of the two standard deviations (the seeds overlap)."""
    a, b = _finite(a), _finite(b)
    if not a or not b:
        return 0 if not a and not b else (1 if not a else -1)
    spread = sum(statistics.stdev(v) if len(v) > 1 else 0.0 for v in (a, b))
    difference = statistics.fmean(a) - statistics.fmean(b)
    if abs(difference) <= spread:
        return 0
    return -1 if difference < 0 else 1


def comparison_sentence(a_label: str, a_values: Sequence[float], b_label: str,
                        b_values: Sequence[float], quantity: str, digits: int = 3,
                        at_the_end: bool = True) -> str:
    """'A ends lower than B (quantity x ± s against y ± t)', or higher, or 'A and B end within
    the spread of their seeds (…)'; with `at_the_end=False`, 'A is lower than B (…)', 'A and
    B are within the spread of their seeds (…)'."""
    numbers = (f"{quantity} {mean_spread(a_values, digits)} against "
               f"{mean_spread(b_values, digits)}")
    order = _apart(a_values, b_values)
    one, both = ("ends", "end") if at_the_end else ("is", "are")
    if order == 0:
        return f"{a_label} and {b_label} {both} within the spread of their seeds ({numbers})"
    return f"{a_label} {one} {'lower' if order < 0 else 'higher'} than {b_label} ({numbers})"


def largest_gradient_sentence(largest: Mapping[str, float], subject: str) -> str:
    """"X's largest gradient norm is 12 (the largest of the 3), against 10.9 for Y and 4.85 for
    Z": `largest` maps each model to its largest gradient norm."""
    value = largest[subject]
    rank = ("the largest" if value >= max(largest.values()) else
            "the smallest" if value <= min(largest.values()) else "neither the largest nor "
            "the smallest")
    others = " and ".join(f"{norm:.3g} for {label}" for label, norm in largest.items()
                          if label != subject)
    return (f"{subject}'s largest gradient norm is {value:.3g} ({rank} of the {len(largest)}), "
            f"against {others}")


def baseline_clause(values: Sequence[float], baseline: float) -> str:
    """How many seeds end below `baseline`: 'below the baseline in all 3 seeds', 'in 2 of 3
    seeds', 'in none of the 3 seeds'."""
    below = sum(v < baseline for v in values)
    count = len(values)
    if below == count:
        return f"below the baseline in all {count} seeds" if count > 1 else "below the baseline"
    if below == 0:
        return f"not below the baseline in any of the {count} seeds"
    return f"below the baseline in {below} of {count} seeds"


def ranking(results: Mapping[str, Sequence[float]], digits: int = 3,
            highest_first: bool = False) -> str:
    """'a (x ± s), then b (y ± t), then c (…)', lowest mean first (highest with
    `highest_first`, for accuracies); settings that diverged in every seed come last."""
    def key(label: str) -> float:
        finite = _finite(results[label])
        if not finite:
            return math.inf
        return -statistics.fmean(finite) if highest_first else statistics.fmean(finite)

    order = sorted(results, key=key)
    return ", then ".join(f"{label} ({mean_spread(results[label], digits)})" for label in order)


def learners_sentence(results: Mapping[str, Sequence[float]], baseline: float) -> str:
    """Which settings learn, meaning every seed ends below `baseline`: 'Only X learns the task
    in this budget', 'X and Y learn the task …', 'None of them learns the task …'."""
    learners = [label for label, values in results.items()
                if values and all(v < baseline for v in values)]
    if not learners:
        return "None of them learns the task in this budget: every run ends at the baseline"
    if len(learners) == len(results):
        return "All of them learn the task in this budget"
    if len(learners) == 1:
        return f"Only the {learners[0]} network learns the task in this budget"
    return f"The {' and the '.join(learners)} networks learn the task in this budget"


def clipped_walk_sentence(start_loss: float, final_loss: float, steps: int) -> str:
    """Where a clipped walk from the wall ended, against where it started."""
    if final_loss < start_loss:
        return (f"after {steps} steps it reaches a loss of {final_loss:.3g}, below the "
                f"{start_loss:.3g} it started from: it has slid down off the wall into the "
                f"valley")
    return (f"after {steps} steps its loss is {final_loss:.3g}, still above the "
            f"{start_loss:.3g} it started from: clipping kept it on the map, next to the wall, "
            f"but these steps did not take it down into the valley")


def overfitting_sentence(steps: Sequence[int], train: Sequence[float], valid: Sequence[float]
                         ) -> str:
    """What one curve of bits per character did: where validation was lowest, where the
    curves ended, and whether validation turned back up (overfitting)."""
    best = min(range(len(valid)), key=valid.__getitem__)
    end = (f"training bpc ends at {train[-1]:.2f} and validation bpc at {valid[-1]:.2f}, a gap "
           f"of {valid[-1] - train[-1]:.2f} bits")
    if best == len(valid) - 1:
        return f"validation bpc is still falling at the last step: {end}"
    return (f"validation bpc is lowest ({valid[best]:.2f}) after {steps[best]} steps and then "
            f"rises while training bpc keeps falling: {end}")


def _mean_curve(curves: Sequence[Sequence[float]]) -> list[float]:
    """The mean over seeds of curves measured at the same steps."""
    return [statistics.fmean(values) for values in zip(*curves, strict=True)]


def regularization_sentences(steps: Sequence[int], train: Mapping[str, Sequence[Sequence[float]]],
                             valid: Mapping[str, Sequence[Sequence[float]]],
                             baseline: str = "none", combined: str = "all combined"
                             ) -> dict[str, str]:
    """Sentences about a regularisation ablation, from bits per character: `train[label]` and
    `valid[label]` hold one curve per seed, measured after each of `steps`. Keys:

    - "baseline": what the unregularised model did (`overfitting_sentence` on the seed means);
    - "ranking": all variants by final validation bpc, lowest first;
    - "beaten": how many regularised variants end below the baseline beyond the seeds' spread;
    - "gaps": the baseline's train/validation gap against the regularised ones';
    - "combined": the combined variant against the best single regulariser;
    - "best": which regulariser helped most (or that none beat the baseline);
    - "weight_drop": where weight drop ranks among the regularised variants (lowest bpc = 1).
    """
    finals = {label: [curve[-1] for curve in curves] for label, curves in valid.items()}
    means = {label: statistics.fmean(values) for label, values in finals.items()}
    gaps = {label: means[label] - statistics.fmean(curve[-1] for curve in train[label])
            for label in valid}
    regularized = [label for label in valid if label != baseline]
    beaten = [label for label in regularized if _apart(finals[label], finals[baseline]) < 0]
    if len(beaten) == len(regularized):
        beaten_text = (f"all {len(regularized)} regularised variants end lower than no "
                       "regularisation, beyond the spread of the seeds")
    else:
        beaten_text = (f"{len(beaten)} of the {len(regularized)} regularised variants ("
                       + (", ".join(beaten) or "none") + ") end lower than no regularisation "
                       "beyond the spread of the seeds")
    singles = [label for label in regularized if label != combined]
    best_single = min(singles, key=means.__getitem__)
    strongest = min(regularized, key=means.__getitem__)
    order_of_means = sorted(regularized, key=means.__getitem__)
    runner_up = order_of_means[1] if len(order_of_means) > 1 else None
    if strongest in beaten and runner_up and _apart(finals[strongest], finals[runner_up]) < 0:
        best_text = f"{strongest} that helped most, beyond the spread of the seeds"
    elif strongest in beaten:
        best_text = (f"{strongest} that came lowest on average, within the spread of the seeds "
                     f"of {runner_up}" if runner_up else f"{strongest} that helped most")
    elif means[strongest] < means[baseline]:
        best_text = (f"{strongest} that came lowest, though not beyond the spread of the "
                     "seeds")
    else:
        best_text = "none of the regularisers that beat no regularisation"
    order = order_of_means
    return {
        "weight_drop": (f"weight drop ranks {order.index('weight drop') + 1} of "
                        f"{len(order)} among the regularised variants (1 = the lowest "
                        "validation bpc)" if "weight drop" in order else "weight drop was not run"),
        "baseline": overfitting_sentence(steps, _mean_curve(train[baseline]),
                                         _mean_curve(valid[baseline])),
        "ranking": ranking(finals, digits=2),
        "beaten": beaten_text,
        "gaps": (f"the gap between validation and training bpc at the end is "
                 f"{gaps[baseline]:.2f} bits without regularisation and between "
                 f"{min(gaps[label] for label in regularized):.2f} and "
                 f"{max(gaps[label] for label in regularized):.2f} with it"),
        "combined": comparison_sentence(combined[:1].upper() + combined[1:], finals[combined],
                                        f"the best single one ({best_single})",
                                        finals[best_single], "validation bpc", digits=2),
        "best": best_text,
    }


def weight_decay_verdict(decayed: Sequence[float], plain: Sequence[float], baseline: float
                         ) -> str:
    """What strong weight decay did to learning, from the final losses of each seed with decay
    (`decayed`) and without (`plain`) against `baseline` (lower is better)."""
    final = f"the final MSE is {mean_spread(decayed)}, {baseline_clause(decayed, baseline)}"
    if not any(v < baseline for v in decayed):
        return (f"But the network stops learning: {final}. Weight decay strong enough to end "
                "explosion does so by giving up memory; clipping does the job without that "
                "price.")
    if _apart(decayed, plain) > 0:
        return (f"The network still learns, but ends worse than without decay: {final}. "
                "Weight decay that ends explosion costs the network part of its memory; "
                "clipping does the job without that price.")
    return (f"The network still learns about as well as without decay: {final}. At this "
            "sequence length the memory that the decay takes away is not needed; chapter 1 "
            "showed what a contracting recurrence does to longer dependencies.")


def explosion_sentence(recurrent_shares: Sequence[float], readout_shares: Sequence[float],
                       growth: float, last: int = 5) -> str:
    """Where the gradient of a diverging run sits while it grows: the mean share of ‖g‖ in W_hh
    and in the readout over the `last` recorded steps before the overflow, with the growth
    factor per step, and the mechanism that goes with the place it sits."""
    recurrent = statistics.fmean(recurrent_shares[-last:])
    readout = statistics.fmean(readout_shares[-last:])
    first = (f"Over the last {min(last, len(recurrent_shares))} steps before the overflow, "
             f"{recurrent:.0%} of the gradient norm sits in the recurrent matrix and "
             f"{readout:.0%} in the readout (mean shares), and the norm grows by a factor of "
             f"about {growth:.0f} per step")
    if recurrent >= 0.9:
        return (first + ". The growth runs through the recurrence: the gradient with respect to "
                "the recurrent matrix sums products of the Jacobians of chapter 1, and an "
                "update that enlarges that matrix enlarges the next product")
    if readout >= 0.9:
        return (first + ". The growth runs through the readout: on saturated states the squared "
                "error is a quadratic in the readout weights, and gradient descent on a "
                "quadratic with a learning rate too large for its curvature lands further away "
                "at every step")
    return first + ". Both the recurrence and the readout carry the growth"
