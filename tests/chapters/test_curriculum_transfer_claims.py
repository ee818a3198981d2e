"""Chapter 5's sentences written from results (`curriculum_claims`, `transfer_claims`), checked on
results built for the purpose: for each comparison one result where A wins and one where B wins,
so that a sentence cannot name a winner the numbers contradict."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnncourse.chapters.ch05_curriculum_transfer.curriculum_claims import (
    CURRICULUM,
    TARGET_ONLY,
    difficulties_claim,
    join,
    length_curriculum_claim,
    length_curriculum_summary,
    naive_claim,
    separated,
    strategies_summary,
    strategy_ranking_claim,
    zaremba_comparison_claim,
)
from rnncourse.chapters.ch05_curriculum_transfer.length_curriculum import (
    LengthCurriculumResult,
    LengthCurriculumRun,
)
from rnncourse.chapters.ch05_curriculum_transfer.series_transfer import SeriesTransferResult
from rnncourse.chapters.ch05_curriculum_transfer.strategies import StrategyResult, StrategyRun
from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import (
    FINE_TUNED,
    FINE_TUNING_STRATEGIES,
    SCRATCH,
    FineTuneRun,
    TextTransferResult,
)
from rnncourse.chapters.ch05_curriculum_transfer.transfer_claims import (
    fine_tuning_ways_claim,
    series_transfer_claim,
    series_transfer_summary,
    text_transfer_claim,
    text_transfer_summary,
    validation_claim,
)

SEEDS = (0, 1, 2)


def test_join_and_separated() -> None:
    assert join(["a"]) == "a" and join(["a", "b"]) == "a and b"
    assert join(["a", "b", "c"]) == "a, b and c"
    assert separated((0.5, 0.01), (0.4, 0.02))  # 0.1 apart, spreads 0.02 at most
    assert not separated((0.5, 0.2), (0.4, 0.02))  # 0.1 apart, one spread 0.2


# ----------------------------------------------------------------------------------------------
# The length curriculum


def length_run(label: str, seed: int, losses: list[float], lengths: list[int]
               ) -> LengthCurriculumRun:
    """A run evaluated every 10 steps (steps 9, 19, ...), trained 10 steps at each length."""
    steps = [10 * k + 9 for k in range(len(losses))]
    train_length = [length for length in lengths for _ in range(10)]
    return LengthCurriculumRun(label, seed, steps, losses, train_length, threshold=0.01,
                               seconds=0.0)


def length_result(curriculum_solves: bool) -> LengthCurriculumResult:
    solved, stuck = [0.1, 0.02, 0.005, 0.004], [0.17, 0.17, 0.168, 0.169]
    curriculum, target = (solved, stuck) if curriculum_solves else (stuck, solved)
    result = LengthCurriculumResult(50, [10, 20, 50], threshold=0.01, steps=40)
    for seed in SEEDS:
        result.runs.append(length_run(TARGET_ONLY, seed, target, [50, 50, 50, 50]))
        result.runs.append(length_run(CURRICULUM, seed, curriculum, [10, 10, 20, 50]))
    return result


def test_length_claim_when_the_curriculum_wins() -> None:
    result = length_result(curriculum_solves=True)
    text = length_curriculum_claim(result)
    assert "below 0.01 in all 3 seeds" in text and "throughout in 0 of 3" in text
    assert "took 30, 30 and 30 steps, that is 400, 400 and 400 time steps" in text  # 10+10+20
    assert "still on the plateau" in text
    assert "50% of their steps" in text
    assert "more often than training at the target length (3 against 0 of 3 seeds)" in (
        length_curriculum_summary(result))


def test_length_claim_when_the_target_length_wins() -> None:
    result = length_result(curriculum_solves=False)
    text = length_curriculum_claim(result)
    assert "below 0.01 in 0 of 3 seeds" in text and "throughout in all 3" in text
    assert "The target-length runs that got there took 30, 30 and 30 steps" in text
    assert "did not get there" not in text  # every target-length run got there
    assert "less often than training at the target length (0 against 3 of 3 seeds)" in (
        length_curriculum_summary(result))


# ----------------------------------------------------------------------------------------------
# Zaremba and Sutskever's strategies


def strategy_result(final: dict[str, list[float]], by_digits: dict[str, list[float]],
                    naive_levels: list[int] | None = None) -> StrategyResult:
    """Three digits; `final[name]` per seed; `by_digits[name]` the same for every seed;
    the naive and combined levels after each of three evaluations from `naive_levels`."""
    result = StrategyResult(max_digits=3, steps=30, mastery_accuracy=0.95)
    for name, finals in final.items():
        levels = naive_levels if name in ("naive", "combined") and naive_levels else [3, 3, 3]
        for seed, accuracy in zip(SEEDS, finals, strict=True):
            result.runs.append(StrategyRun(name, seed, [9, 19, 29], [0.1, 0.2, accuracy],
                                           levels, list(by_digits[name]), 0.0))
    return result


PUBLISHED_ORDER = {  # combined > mix > none > naive, well apart
    "none": [0.50, 0.52, 0.48], "naive": [0.30, 0.31, 0.29],
    "mix": [0.70, 0.71, 0.69], "combined": [0.90, 0.91, 0.89],
}
REVERSED_ORDER = {  # none first, naive last, mix and combined level
    "none": [0.90, 0.91, 0.89], "naive": [0.55, 0.65, 0.45],
    "mix": [0.60, 0.70, 0.50], "combined": [0.61, 0.62, 0.60],
}
DIGITS = {"none": [0.1, 0.2, 0.5], "naive": [0.9, 0.5, 0.3], "mix": [0.8, 0.7, 0.7],
          "combined": [0.95, 0.6, 0.9]}


def test_ranking_claim_when_combined_wins() -> None:
    result = strategy_result(PUBLISHED_ORDER, DIGITS)
    text = strategy_ranking_claim(result)
    assert "the order is combined > mix > none > naive" in text
    assert "combined 0.90 ± 0.01" in text
    assert "Combined leads mix by 0.20, more than the spread of the seeds" in text
    assert "Naive is last, clearly below none" in text
    zaremba = zaremba_comparison_claim(result)
    assert "naive ends below no curriculum (0.30 against 0.50)" in zaremba
    assert "combined ends above no curriculum (0.90 against 0.50)" in zaremba
    summary = strategies_summary(result)
    assert "combined > mix > none > naive (combined first, ahead of the others" in summary


def test_ranking_claim_when_no_curriculum_wins() -> None:
    result = strategy_result(REVERSED_ORDER, DIGITS)
    text = strategy_ranking_claim(result)
    assert "the order is none > combined > mix > naive" in text
    assert "None leads combined by 0.29, more than the spread" in text
    assert "Naive is last, within the spread of mix" in text
    zaremba = zaremba_comparison_claim(result)
    assert "combined ends below no curriculum (0.61 against 0.90)" in zaremba
    assert "naive ends below no curriculum" in zaremba


def test_ranking_claim_when_the_first_two_are_not_separated() -> None:
    final = dict(REVERSED_ORDER, combined=[0.95, 0.85, 0.75])  # mean 0.85, sd 0.10
    text = strategy_ranking_claim(strategy_result(final, DIGITS))
    assert "the order is none > combined > mix > naive" in text
    assert "within the spread of the seeds: this run does not separate them" in text
    assert "though not separated from the next" in strategies_summary(
        strategy_result(final, DIGITS))
    level = dict(REVERSED_ORDER, naive=[0.88, 0.92, 0.90])
    assert "naive ends level with no curriculum within the spread" in zaremba_comparison_claim(
        strategy_result(level, DIGITS))


def test_naive_claim_forgetting_or_keeping_the_levels_it_left() -> None:
    forgot = strategy_result(PUBLISHED_ORDER, DIGITS, naive_levels=[1, 2, 3])
    text = naive_claim(forgot)
    assert "reached the target of 3 digits in all 3 seeds, after 30, 30 and 30 of 30" in text
    assert "scored 0.90 at 1 digit in those seeds, having forgotten much of it" not in text
    assert "moved past 1 digit in all 3 seeds" in text
    assert "scored 0.50 at 2 digits in those seeds, having forgotten much of it" in text
    assert "scored 0.90 at 1 digit in those seeds, keeping most of it" in text
    stuck = strategy_result(PUBLISHED_ORDER, DIGITS, naive_levels=[1, 1, 1])
    assert naive_claim(stuck) == ("The naive curriculum reached the target of 3 digits in 0 of "
                                  "3 seeds within 30 steps. It never moved past 1 digit, in any "
                                  "seed: its level stayed at 1.")


def test_difficulties_claim_names_who_does_best_on_short_problems() -> None:
    text = difficulties_claim(strategy_result(PUBLISHED_ORDER, DIGITS))
    assert "no curriculum scores 0.10 at 1 and 0.20 at 2 digits" in text
    assert "mix and combined are above no curriculum at every shorter length" in text
    assert "combined at 1 digit (0.95) and mix at 2 digits (0.70)" in text
    short_none = dict(DIGITS, none=[0.99, 0.99, 0.5])
    text = difficulties_claim(strategy_result(PUBLISHED_ORDER, short_none))
    assert "neither is above no curriculum at every shorter length" in text
    assert "none at 1 digit (0.99) and none at 2 digits (0.99)" in text


# ----------------------------------------------------------------------------------------------
# Transfer for time series


def series_result(pretraining_wins: bool) -> SeriesTransferResult:
    """MAE per seed at 32 and 128 years: pretraining clearly ahead with little history, or
    clearly behind; with the long history, fine-tuning or scratch ahead likewise."""
    good, bad = [[20.0, 15.0], [21.0, 15.5], [19.0, 14.5]], [[40.0, 30.0], [42.0, 31.0],
                                                          [38.0, 29.0]]
    per_seed = {
        "naive": [[35.0]], "seasonal naive": [[25.0]],
        "from scratch": bad if pretraining_wins else good,
        "pretrained, not fine-tuned": good if pretraining_wins else bad,
        "pretrained + fine-tuned": good if pretraining_wins else bad,
    }
    return SeriesTransferResult("sunspots", 20, 10, 11, (1980.0, 2023.0), [32, 128],
                                list(SEEDS), per_seed, pretrain_windows=100)


def test_series_claim_when_pretraining_wins() -> None:
    result = series_transfer_claim(series_result(pretraining_wins=True))
    assert "the network trained from scratch errs by 40.0 ± 2.0" in result
    assert "Pretraining alone beats training from scratch on this history." in result
    assert "no different from not fine-tuning" in result
    assert "fine-tuning is better. Only the fine-tuned network beats the seasonal-naive" in result
    summary = series_transfer_summary(series_result(pretraining_wins=True))
    assert "errs less than one trained from scratch on 32 years" in summary
    assert "training from scratch stayed behind the fine-tuned one (30.0 against 15.0)" in summary


def test_series_claim_when_scratch_wins() -> None:
    result = series_transfer_claim(series_result(pretraining_wins=False))
    assert "Pretraining alone does not beat training from scratch on this history." in result
    assert "training from scratch is better. Only the scratch network beats" in result
    summary = series_transfer_summary(series_result(pretraining_wins=False))
    assert "does not err less than" in summary and "caught up with" in summary


# ----------------------------------------------------------------------------------------------
# Fine-tuning a language model


def text_result(fine_tuning_wins: bool, best_way: str = "lower layers frozen",
                spread: float = 0.01) -> TextTransferResult:
    """Two amounts of text, three seeds. Scratch at 4.4 bpc; fine-tuned at 3.4 (fine-tuning
    wins) or 4.6 (it loses); at 3,000 characters `best_way` 0.3 bits below every other way."""
    result = TextTransferResult("kjv", "devils_dictionary", [3_000, 300_000], 3_000, 50,
                                zero_shot_bpc=5.0, seeds=list(SEEDS))
    tuned = 3.4 if fine_tuning_wins else 4.6
    for seed in SEEDS:
        wiggle = spread * (seed - 1)
        for size in (3_000, 300_000):
            result.runs.append(FineTuneRun(SCRATCH, size, [9], [4.4], 4.4 + wiggle, 10, 0.0,
                                           seed))
            labels = FINE_TUNING_STRATEGIES if size == 3_000 else [FINE_TUNED]
            for label in labels:
                bpc = tuned - (0.3 if label == best_way else 0.0) - (0.1 if size > 3_000 else 0)
                if label == best_way and label == FINE_TUNED:
                    bpc = tuned - 0.3
                result.runs.append(FineTuneRun(label, size, [9], [bpc], bpc - wiggle, 5, 0.0,
                                               seed))
    return result


def test_text_claims_when_fine_tuning_wins() -> None:
    result = text_result(fine_tuning_wins=True)
    text = text_transfer_claim(result)
    assert "mean ± standard deviation over 3 seeds" in text
    assert ("the fine-tuned model beats the one trained from scratch with 3,000 and 300,000 "
            "characters of target text, by 1.00 ± 0.02 and 1.10 ± 0.02") in text
    assert "The mean gain grows with every step up" in text
    ways = fine_tuning_ways_claim(result)
    assert "**Lower layers frozen** does best, 0.30 bits ahead of *" in ways
    assert "more than the spread of the seeds" in ways
    summary = text_transfer_summary(result)
    assert "with 3,000 and 300,000 characters of target text (3 seeds)" in summary
    assert "*lower layers frozen* did best, clear of the next" in summary


def test_text_claims_when_scratch_wins() -> None:
    result = text_result(fine_tuning_wins=False, best_way="from scratch")
    text = text_transfer_claim(result)
    assert "training from scratch is better with 3,000 and 300,000 characters, by 0.20" in text
    assert "fine-tuned model beats" not in text
    assert "**From scratch** does best" in fine_tuning_ways_claim(result)
    assert "with none of the amounts of target text tried" in text_transfer_summary(result)


def test_text_claims_when_the_seeds_do_not_separate() -> None:
    result = text_result(fine_tuning_wins=True, spread=0.8)  # sd 0.8 per arm, 1.6 for the gain
    text = text_transfer_claim(result)
    assert "the two are level (within 0.03 bits or the spread of the seeds)" in text
    assert "these seeds do not separate the two" in fine_tuning_ways_claim(result)
    assert "though not separated from" in text_transfer_summary(result)


def test_run_text_transfer_small() -> None:
    from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import run_text_transfer

    checkpoint = Path(__file__).resolve().parents[2] / "book/checkpoints/ch05-char-lm-kjv.pt"
    result = run_text_transfer(checkpoint, train_sizes=(3_000,), steps=2, eval_every=1,
                               batch_size=4, seq_len=8, valid_characters=200,
                               test_characters=300, seeds=(0, 1), device="cpu", seed=5)
    assert result.seeds == [5, 6]
    assert len(result.runs) == 2 * (1 + len(FINE_TUNING_STRATEGIES))
    assert [run.seed for run in result.runs_of(SCRATCH, 3_000)] == [5, 6]
    mean, sd = result.test_stats(FINE_TUNED, 3_000)
    assert 0 < mean < 8 and sd >= 0
    assert fine_tuning_ways_claim(result) and text_transfer_claim(result)
    with pytest.raises(ValueError, match="seeds"):
        run_text_transfer(checkpoint, seeds=(), device="cpu")


def test_validation_claim_stopped_or_still_falling() -> None:
    result = text_result(fine_tuning_wins=True)
    for run in result.runs:  # every curve still falls at its last evaluation
        run.eval_step, run.valid_bpc = [9, 19], [run.valid_bpc[0] + 0.5, run.valid_bpc[0]]
    text = validation_claim(result)
    assert text.startswith("On 3,000 characters, the validation bits per character still fell")
    assert "stopped improving" not in text
    for run in result.runs_of(FINE_TUNED, 3_000):  # the best weights come from step 10
        run.valid_bpc = [3.0, 3.2]
    text = validation_claim(result)
    assert ("stopped improving before the last of the 50 steps for *all layers, one learning "
            "rate* (in 3 of 3 seeds; best at steps 10, 10 and 10)") in text
    assert "; it still fell at the last evaluation for *from scratch*, *discriminative" in text


def test_naive_claim_for_combined_names_it_and_says_when_it_never_moved() -> None:
    stuck = strategy_result(PUBLISHED_ORDER, DIGITS, naive_levels=[1, 1, 1])
    text = naive_claim(stuck, "combined")
    assert text.startswith("The combined strategy reached the target of 3 digits in 0 of 3")
    assert "never moved past 1 digit, in any seed" in text
    moving = strategy_result(PUBLISHED_ORDER, DIGITS, naive_levels=[1, 2, 2])
    text = naive_claim(moving, "combined")
    assert "never moved past 1 digit" not in text
    assert "It moved past 1 digit in all 3 seeds" in text
