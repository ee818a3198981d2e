"""The sentences chapter 5 prints about its curriculum runs, written from the results.

Whatever the CPU or the seed, a sentence that names a number, a rank or a winner says what this
run measured: the page glues these strings into its prose (`{glue:md}`). Each function takes a
result and returns Markdown.

    length_curriculum_claim(LengthCurriculumResult)  who reached the threshold, how soon
    strategy_ranking_claim(StrategyResult)            the order at the target, and its spread
    naive_claim(StrategyResult[, strategy])           where the naive curriculum (or combined)
                                                      spent its steps
    difficulties_claim(StrategyResult)                the shorter problems, at the end
    zaremba_comparison_claim(StrategyResult)          the published findings, held against ours
    length_curriculum_summary, strategies_summary     one sentence each, for the summary

Two means count as separated when they differ by more than the larger of their two standard
deviations over seeds (`separated`), a plain rule a reader can check in the table.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from rnncourse.chapters.ch05_curriculum_transfer.length_curriculum import LengthCurriculumResult
from rnncourse.chapters.ch05_curriculum_transfer.strategies import StrategyResult

__all__ = [
    "difficulties_claim",
    "join",
    "length_curriculum_claim",
    "length_curriculum_summary",
    "naive_claim",
    "separated",
    "strategies_summary",
    "strategy_ranking_claim",
    "zaremba_comparison_claim",
]

TARGET_ONLY, CURRICULUM = "target length only", "length curriculum"


def join(parts: Sequence[str]) -> str:
    """["a"] → "a", ["a", "b"] → "a and b", ["a", "b", "c"] → "a, b and c"."""
    parts = list(parts)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def separated(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when means a[0] and b[0] differ by more than the larger standard deviation."""
    return abs(a[0] - b[0]) > max(a[1], b[1])


def _of(count: int, total: int) -> str:
    return f"all {total}" if count == total and total > 1 else f"{count} of {total}"


# ----------------------------------------------------------------------------------------------
# The length curriculum


def length_curriculum_claim(result: LengthCurriculumResult) -> str:
    """How many seeds of each arm reached the threshold at the target length, after how many
    steps and how much recurrence (Σ T), and where the curriculum spent its steps."""
    summary = result.summary()
    curriculum, target = summary[CURRICULUM], summary[TARGET_ONLY]
    length = f"$T = {result.target_length}$"
    text = (f"Within {result.steps} steps, the curriculum runs bring the MSE at {length} below "
            f"{result.threshold:g} in {_of(curriculum['reached'], curriculum['runs'])} seeds, "
            f"the runs trained at {length} throughout in "
            f"{_of(target['reached'], target['runs'])}. ")
    for label, name in ((CURRICULUM, "curriculum"), (TARGET_ONLY, "target-length")):
        reached = [run for run in result.by_label(label) if run.steps_to_threshold]
        if reached:
            steps = join([f"{run.steps_to_threshold}" for run in reached])
            work = join([f"{run.timesteps_to_threshold:,}" for run in reached])
            text += (f"The {name} runs that got there took {steps} steps, that is {work} time "
                     "steps of recurrence (Σ T). ")
    unreached = [run.final_loss for run in result.by_label(TARGET_ONLY)
                 if run.steps_to_threshold is None]
    if unreached:
        mean = statistics.fmean(unreached)
        where = ("still on the plateau of predicting 1" if mean > result.baseline_mse / 2 else
                 "off the plateau but above the threshold")
        text += (f"The target-length runs that did not get there ended at a mean MSE of "
                 f"{mean:.3f}, {where} (MSE 1/6 ≈ {result.baseline_mse:.3f}). ")
    share = statistics.fmean(run.share_at_first_level for run in result.by_label(CURRICULUM))
    text += (f"The curriculum runs spent {share:.0%} of their steps, on average, at the first "
             f"length, $T = {result.levels[0]}$.")
    return text


# ----------------------------------------------------------------------------------------------
# Zaremba and Sutskever's strategies


def _stat(value: tuple[float, float], digits: int = 2) -> str:
    return f"{value[0]:.{digits}f} ± {value[1]:.{digits}f}"


def strategy_ranking_claim(result: StrategyResult) -> str:
    """The mean final accuracy of each strategy at the target difficulty, their order, and
    whether the seeds separate the first from the second and the last from the one before."""
    stats = result.final_accuracy_stats()
    order = sorted(stats, key=lambda name: stats[name][0], reverse=True)
    seeds = len(result.seeds)
    listed = join([f"{name} {_stat(stats[name])}" for name in order])
    text = (f"At {result.max_digits} digits, after {result.steps} steps, the final accuracy "
            f"(mean ± standard deviation over {seeds} seeds) is {listed}: "
            f"the order is {' > '.join(order)}. ")
    first, second, last, before_last = order[0], order[1], order[-1], order[-2]
    gap = stats[first][0] - stats[second][0]
    text += (f"{first.capitalize()} leads {second} by {gap:.2f}, "
             + ("more than the spread of the seeds. " if separated(stats[first], stats[second])
                else "within the spread of the seeds: this run does not separate them. "))
    if len(order) > 2:
        text += (f"{last.capitalize()} is last, "
                 + (f"clearly below {before_last}." if separated(stats[last], stats[before_last])
                    else f"within the spread of {before_last}."))
    return text


def naive_claim(result: StrategyResult, strategy: str = "naive") -> str:
    """When the naive curriculum (or `strategy`, e.g. "combined", whose level moves the same
    way) reached each level, and what it kept of the levels it had mastered and moved past."""
    runs = result.by_strategy(strategy)
    if not runs:
        return ""
    total, target = len(runs), result.max_digits
    reached = [run.step_reaching(target) for run in runs]
    arrived = [step for step in reached if step is not None]
    name = "naive curriculum" if strategy == "naive" else f"{strategy} strategy"
    text = (f"The {name} reached the target of {target} digits in "
            f"{_of(len(arrived), total)} seeds"
            + (f", after {join([str(step) for step in arrived])} of {result.steps} steps. "
               if arrived else f" within {result.steps} steps. "))
    if not any(run.step_reaching(2) for run in runs) and target > 1:
        text += "It never moved past 1 digit, in any seed: its level stayed at 1. "
    for level in range(1, target):
        passed = [run for run in runs if run.step_reaching(level + 1) is not None]
        if not passed:
            continue
        kept = statistics.fmean(run.accuracy_by_digits[level - 1] for run in passed)
        lost = kept < result.mastery_accuracy - 0.1
        why = (f"each time at an accuracy of at least {result.mastery_accuracy:.2f} there"
               if result.patience is None else
               f"on an accuracy of {result.mastery_accuracy:.2f} there or after "
               f"{result.patience} evaluations without progress")
        text += (f"It moved past {level} digit{'s' if level > 1 else ''} in "
                 f"{_of(len(passed), total)} seeds, {why}; at the end it scored {kept:.2f} at "
                 f"{level} digit{'s' if level > 1 else ''} in those seeds"
                 + (", having forgotten much of it. " if lost else ", keeping most of it. "))
    return text.strip()


def difficulties_claim(result: StrategyResult) -> str:
    """How each strategy ends on the problems shorter than the target."""
    by_digits = result.accuracy_by_digits_stats()
    shorter = range(1, result.max_digits)
    if not shorter or "none" not in by_digits:
        return ""
    none_scores = join([f"{by_digits['none'][d - 1][0]:.2f} at {d}" for d in shorter])
    text = (f"Trained at {result.max_digits} digits only, no curriculum scores {none_scores} "
            f"digit{'s' if result.max_digits > 2 else ''} at the end. ")
    mixed = [name for name in ("mix", "combined") if name in by_digits]
    if mixed:
        scores = join([f"{name} {join([f'{by_digits[name][d - 1][0]:.2f}' for d in shorter])}"
                       for name in mixed])
        above = [name for name in mixed
                 if all(by_digits[name][d - 1][0] > by_digits["none"][d - 1][0] for d in shorter)]
        text += f"The strategies that mix difficulties score {scores} there; "
        text += (f"{join(above)} {'is' if len(above) == 1 else 'are'} above no curriculum at "
                 "every shorter length." if above else
                 "neither is above no curriculum at every shorter length.")
    best = {d: max(by_digits, key=lambda name: by_digits[name][d - 1][0]) for d in shorter}
    text += " Best at each shorter length: " + join(
        [f"{best[d]} at {d} digit{'s' if d > 1 else ''} ({by_digits[best[d]][d - 1][0]:.2f})"
         for d in shorter]) + "."
    return text


def zaremba_comparison_claim(result: StrategyResult) -> str:
    """Zaremba and Sutskever's two findings about the target, held against this run's."""
    stats = result.final_accuracy_stats()
    if not {"none", "naive", "combined"} <= set(stats):
        return ""
    none, naive, combined = stats["none"], stats["naive"], stats["combined"]

    def compare(a: tuple[float, float], b: tuple[float, float], name: str) -> str:
        if not separated(a, b):
            return f"level with {name} within the spread of the seeds"
        return f"{'above' if a[0] > b[0] else 'below'} {name}"

    return (f"Zaremba and Sutskever found the naive curriculum ineffective, and sometimes worse "
            f"than no curriculum: here, at the target, naive ends "
            f"{compare(naive, none, 'no curriculum')} "
            f"({naive[0]:.2f} against {none[0]:.2f}). They found their combined strategy better "
            f"than no curriculum in every condition they tried: here combined ends "
            f"{compare(combined, none, 'no curriculum')} ({combined[0]:.2f} against "
            f"{none[0]:.2f}).")


# ----------------------------------------------------------------------------------------------
# One sentence each, for the summary


def length_curriculum_summary(result: LengthCurriculumResult) -> str:
    """Which arm reached the threshold in more seeds, in one sentence."""
    summary = result.summary()
    curriculum, target = summary[CURRICULUM]["reached"], summary[TARGET_ONLY]["reached"]
    total = summary[CURRICULUM]["runs"]
    verdict = ("more often than" if curriculum > target else
               "as often as" if curriculum == target else "less often than")
    return (f"On the adding problem at $T = {result.target_length}$, the mastery-driven length "
            f"curriculum reached MSE < {result.threshold:g} within {result.steps} steps "
            f"{verdict} training at the target length ({curriculum} against {target} of "
            f"{total} seeds).")


def strategies_summary(result: StrategyResult) -> str:
    """The order at the target, and the best on the shorter problems, in one sentence."""
    stats = result.final_accuracy_stats()
    order = sorted(stats, key=lambda name: stats[name][0], reverse=True)
    by_digits = result.mean_accuracy_by_digits()
    shorter = range(result.max_digits - 1)
    best_short = max(by_digits, key=lambda name: sum(by_digits[name][d] for d in shorter))
    first = ("ahead of the others by more than the spread of the seeds"
             if all(separated(stats[order[0]], stats[name]) for name in order[1:])
             else "though not separated from the next by the spread of the seeds")
    return (f"At CPU scale ({result.max_digits} digits, {result.steps} steps, "
            f"{len(result.seeds)} seeds), the order at the target was {' > '.join(order)} "
            f"({order[0]} first, {first}); on the shorter problems, {best_short} did best.")
