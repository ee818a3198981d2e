"""Sentences about chapter 6's results, written from the results themselves, so that the page
cannot say something its own numbers contradict on another CPU or seed.

    cell_ranking_sentence    ranks cell types by mean test bpc over seeds, with spread
    schedule_sentence        what the learning-rate schedule did in each long run
    attention_sentence       accuracy against length, with and without attention
    alignment_sentence       how much of one model's attention falls on the matching letter
    samples_sentence         how sampled text changes with the temperature (words of the book,
                             distinct words)
    forecast_sentence        the best forecast, and the network against the classical model
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["alignment_sentence", "attention_sentence", "cell_ranking_sentence",
           "forecast_sentence", "samples_sentence", "schedule_sentence", "word_statistics",
           "words_of"]


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def cell_ranking_sentence(test_bpc: Mapping[str, Sequence[float]]) -> str:
    """Rank cells (label -> test bpc of each seed, seeds in the same order for every cell) by
    mean, lowest first, and say how clear the order of the first two is: whether the first is
    lower in every seed, and whether the gap between the means exceeds the larger of their two
    standard deviations over seeds."""
    if len(test_bpc) < 2:
        raise ValueError("test_bpc must hold at least two cells")
    seeds = {len(values) for values in test_bpc.values()}
    if len(seeds) != 1 or 0 in seeds:
        raise ValueError("every cell needs the same, non-zero number of seeds")
    (count,) = seeds
    stats = {label: _mean_std(values) for label, values in test_bpc.items()}
    order = sorted(stats, key=lambda label: stats[label][0])
    ranked = " < ".join(f"{label} {stats[label][0]:.3f}"
                        + (f" ± {stats[label][1]:.3f}" if count > 1 else "") for label in order)
    first, second = order[0], order[1]
    wins = sum(a < b for a, b in zip(test_bpc[first], test_bpc[second], strict=True))
    gap = stats[second][0] - stats[first][0]
    spread = max(stats[first][1], stats[second][1])
    sentence = (f"Ranked by mean test bits per character over {count} seeds (± one standard "
                f"deviation): {ranked}. " if count > 1 else
                f"Ranked by test bits per character (one seed each): {ranked}. ")
    sentence += f"The {first} comes first and the {order[-1]} last. "
    if count == 1:
        return sentence + "With one seed per cell, this order says nothing about its spread."
    clear = gap > spread
    return sentence + (
        f"The {first} is below the {second} in {wins} of {count} seeds, and the gap between "
        f"their means, {gap:.3f} bpc, is {'larger' if clear else 'no larger'} than the larger "
        f"of their standard deviations ({spread:.3f})"
        + ("." if clear else ": on these seeds the two are not clearly apart."))


def schedule_sentence(metrics: Mapping[str, Sequence[Mapping[str, Sequence[float]]]]) -> str:
    """What the plateau rule did in the long runs: label -> the metrics of each seed's run,
    with the learning rate ("lr") and the validation bpc ("valid_bpc") at each check.

    Says how many times each run's rate was halved, and which runs had their best validation
    score at their last check (still improving when the step budget ran out)."""
    halvings, improving = {}, {}
    for label, runs in metrics.items():
        if not runs:
            raise ValueError(f"{label}: no runs")
        halvings[label], improving[label] = [], 0
        for run in runs:
            rates = np.asarray(run["lr"], dtype=float)
            valid = np.asarray(run["valid_bpc"], dtype=float)
            if rates.size == 0 or rates.size != valid.size:
                raise ValueError(f"{label}: lr and valid_bpc must be equally long and non-empty")
            halvings[label].append(int(np.sum(rates[1:] < rates[:-1])))
            improving[label] += int(np.argmin(valid)) == valid.size - 1
    sentence = ("Times the learning rate was halved on a plateau, seed by seed: "
                + "; ".join(f"{label} {', '.join(map(str, counts))}"
                            for label, counts in halvings.items()) + ". ")
    still = [f"{count} of {len(metrics[label])} {label} runs"
             for label, count in improving.items() if count]
    if not still:
        return sentence + "Every run had passed its best validation score before its last check."
    return sentence + (f"Still improving at their last check, when the step budget ran out: "
                       f"{_join(still)}.")


def attention_sentence(lengths: Sequence[int], without_attention: np.ndarray,
                       with_attention: np.ndarray) -> str:
    """How the share of symbols written right changes from the shortest to the longest length
    without and with attention (each an array (seeds, lengths)), and which variant is ahead at
    the longest length, set against twice the larger standard deviation over seeds there."""
    lengths = list(lengths)
    runs = {"without": np.asarray(without_attention, dtype=float),
            "with": np.asarray(with_attention, dtype=float)}
    for name, values in runs.items():
        if values.ndim != 2 or values.shape[1] != len(lengths) or values.shape[0] < 1:
            raise ValueError(f"{name}_attention must have shape (seeds, {len(lengths)})")
    seeds = runs["without"].shape[0]
    means = {name: values.mean(axis=0) for name, values in runs.items()}

    def course(mean: np.ndarray) -> str:
        if mean[-1] < mean[0] - 0.05:
            return (f"falls from {mean[0]:.2f} at length {lengths[0]} to {mean[-1]:.2f} at "
                    f"length {lengths[-1]}")
        return f"stays between {mean.min():.2f} and {mean.max():.2f}"

    spread = max(float(values[:, -1].std(ddof=1)) if seeds > 1 else 0.0
                 for values in runs.values())
    gap = means["with"][-1] - means["without"][-1]
    clear = abs(gap) > 2 * spread
    return (f"Averaged over {seeds} seed{'s' if seeds > 1 else ''}, the share of symbols written "
            f"right {course(means['without'])} without attention, and {course(means['with'])} "
            f"with it. At length {lengths[-1]} the model {'with' if gap > 0 else 'without'} "
            f"attention is ahead by {abs(gap):.2f}, "
            f"{'more than' if clear else 'no more than'} twice the larger standard deviation "
            f"over seeds ({spread:.2f}).")


def alignment_sentence(weights: np.ndarray, written: Sequence[int],
                       target: Sequence[int]) -> str:
    """How much attention one model puts on the diagonal (weights (L, L): row i = output i,
    column j = source letter j; the i-th target letter transliterates the i-th source letter),
    averaged over the first and the second half of the output, and how many letters it wrote
    right."""
    weights = np.asarray(weights, dtype=float)
    written, target = np.asarray(written), np.asarray(target)
    if weights.ndim != 2 or weights.shape[0] != weights.shape[1] or weights.shape[0] < 2:
        raise ValueError(f"weights must be a square (L, L) array with L >= 2, got {weights.shape}")
    if written.shape != target.shape or written.shape != (weights.shape[0],):
        raise ValueError(f"written and target must both have shape ({weights.shape[0]},)")
    length = weights.shape[0]
    half = length // 2
    diagonal = np.diag(weights)
    first, second = float(diagonal[:half].mean()), float(diagonal[half:].mean())
    right = int((written == target).sum())
    return (f"On this word, the model puts on average {first:.0%} of its attention on the "
            f"matching source letter while writing its first {half} letters, and {second:.0%} "
            f"while writing the last {length - half}; it writes {right} of the {length} "
            "letters right.")


def words_of(text: str) -> list[str]:
    """The words of `text`: runs of letters a-z, lower-cased."""
    return re.findall(r"[a-z]+", text.lower())


def word_statistics(text: str, known_words: set[str]) -> tuple[float, float]:
    """(share of the words of `text` found in `known_words`, distinct words / words), words
    as `words_of` finds them; (nan, nan) for a text without words."""
    words = words_of(text)
    if not words:
        return float("nan"), float("nan")
    return (sum(word in known_words for word in words) / len(words), len(set(words)) / len(words))


def samples_sentence(samples: Mapping[float, str], known_words: set[str]) -> str:
    """What the temperature did to `samples` (temperature -> sampled text): for each, the share
    of its words that occur in the training text, and its distinct words per word (low: the
    sample repeats itself). Names the temperatures with the most and fewest known words and
    the one that repeats itself most."""
    if len(samples) < 2:
        raise ValueError("samples must hold texts of at least two temperatures")
    stats = {tau: word_statistics(text, known_words) for tau, text in samples.items()}
    stats = {tau: values for tau, values in stats.items() if not np.isnan(values[0])}
    if len(stats) < 2:
        raise ValueError("at least two samples must contain words")
    known = {tau: values[0] for tau, values in stats.items()}
    distinct = {tau: values[1] for tau, values in stats.items()}
    listing = "; ".join(f"τ = {tau:g}: {known[tau]:.0%} of words in the book, "
                        f"{distinct[tau]:.0%} distinct" for tau in sorted(stats))
    most, fewest = max(known, key=known.get), min(known, key=known.get)
    repeats = min(distinct, key=distinct.get)
    return (f"Words of each sample found in the training text, and distinct words per word: "
            f"{listing}. The sample at τ = {most:g} uses the book's words most, the one at "
            f"τ = {fewest:g} least, and the one at τ = {repeats:g} repeats itself most.")


def forecast_sentence(errors: Mapping[str, Mapping[str, float]], network: str = "GRU",
                      classical: str = "Holt-Winters", yardstick: str = "seasonal naive",
                      units: str = "") -> str:
    """Which forecast has the lowest mean absolute error, and how the network and the classical
    model compare: `errors` maps a method to its "mae" (as `run_forecasting_study` reports).

    The network ran with one seed, and the sentence says so."""
    for method in (network, classical, yardstick):
        if method not in errors:
            raise ValueError(f"errors has no method {method!r}; it has {sorted(errors)}")
    mae = {method: float(values["mae"]) for method, values in errors.items()}
    best = min(mae, key=mae.get)
    unit = f" {units}" if units else ""
    gap = mae[network] - mae[classical]
    share = abs(gap) / mae[yardstick] if mae[yardstick] > 0 else float("nan")
    ahead = classical if gap > 0 else network
    return (f"Lowest mean absolute error: {best} ({mae[best]:.3g}{unit}). Between {network} and "
            f"{classical}, {ahead} has the lower error, by {abs(gap):.3g}{unit} "
            f"({share:.0%} of the {yardstick} forecast's error); the {network}'s number comes "
            "from one training run, with one seed.")
