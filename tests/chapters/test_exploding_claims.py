"""Chapter 2's sentences about its own results: each claim function on results built for the
purpose, one where A wins and one where B wins (and ties and divergence where they matter)."""

from __future__ import annotations

import math

from rnncourse.chapters.ch02_exploding_gradients import claims


def test_mean_spread_reports_divergence():
    assert claims.mean_spread([0.1, 0.2, 0.3]) == "0.200 ± 0.100"
    assert claims.mean_spread([math.inf, math.inf]) == "diverged"
    assert claims.mean_spread([0.5, math.inf], 1) == "0.5 ± 0.0 (1 of 2 seeds diverged)"


def test_comparison_names_the_lower_one_or_a_tie():
    a_wins = claims.comparison_sentence("A", [0.10, 0.11, 0.12], "B", [0.30, 0.31, 0.29], "MSE")
    assert a_wins.startswith("A ends lower than B (MSE 0.110 ± 0.010 against 0.300")
    b_wins = claims.comparison_sentence("A", [0.30, 0.31, 0.29], "B", [0.10, 0.11, 0.12], "MSE")
    assert b_wins.startswith("A ends higher than B")
    tie = claims.comparison_sentence("A", [0.10, 0.20, 0.15], "B", [0.16, 0.12, 0.18], "MSE")
    assert tie.startswith("A and B end within the spread of their seeds")
    diverged = claims.comparison_sentence("A", [math.inf] * 3, "B", [0.2, 0.2, 0.2], "MSE")
    assert diverged.startswith("A ends higher than B") and "diverged" in diverged


def test_baseline_clause_counts_seeds():
    assert claims.baseline_clause([0.1, 0.1, 0.1], 0.167) == "below the baseline in all 3 seeds"
    assert claims.baseline_clause([0.2, 0.1, 0.3], 0.167) == "below the baseline in 1 of 3 seeds"
    assert claims.baseline_clause([0.2, 0.3], 0.167) == (
        "not below the baseline in any of the 2 seeds")
    assert claims.baseline_clause([math.inf], 0.167).startswith("not below")


def test_ranking_orders_either_way():
    results = {"b": [2.0, 2.2], "a": [1.0, 1.2], "c": [math.inf, math.inf]}
    assert claims.ranking(results, digits=1) == (
        "a (1.1 ± 0.1), then b (2.1 ± 0.1), then c (diverged)")
    accuracies = {"low": [40.0, 42.0], "high": [80.0, 82.0]}
    assert claims.ranking(accuracies, 0, highest_first=True).startswith("high (81 ± 1)")


def test_learners_sentence_names_who_learns():
    baseline = 0.167
    only = {"tanh": [0.17, 0.168], "IRNN": [0.09, 0.1]}
    assert claims.learners_sentence(only, baseline) == (
        "Only the IRNN network learns the task in this budget")
    other = {"tanh": [0.05, 0.06], "IRNN": [0.2, 0.1]}  # the IRNN fails in one seed
    assert claims.learners_sentence(other, baseline).startswith("Only the tanh network")
    assert claims.learners_sentence({"a": [0.2], "b": [0.3]}, baseline).startswith("None")
    assert claims.learners_sentence({"a": [0.1], "b": [0.1]}, baseline).startswith("All")
    three = {"a": [0.1], "b": [0.1], "c": [0.3]}
    assert claims.learners_sentence(three, baseline).startswith("The a and the b networks")


def test_clipped_walk_sentence_says_whether_the_valley_was_reached():
    down = claims.clipped_walk_sentence(0.237, 1e-4, 200)
    assert "below the 0.237 it started from" in down and "valley" in down
    up = claims.clipped_walk_sentence(0.237, 0.28, 60)
    assert "still above the 0.237" in up and "did not take it down" in up


def test_overfitting_sentence_finds_the_turn():
    overfits = claims.overfitting_sentence([25, 50, 75, 100], [3.0, 2.0, 1.5, 1.2],
                                           [3.1, 2.7, 2.8, 2.9])
    assert overfits.startswith("validation bpc is lowest (2.70) after 50 steps and then rises")
    assert "a gap of 1.70 bits" in overfits
    still = claims.overfitting_sentence([25, 50], [3.0, 2.5], [3.2, 2.9])
    assert still.startswith("validation bpc is still falling at the last step")


def _ablation(none_valid: float, single_valid: float, combined_valid: float) -> tuple:
    """Three seeds per variant, two measurements each: training curves fall to 1.0 for the
    unregularised model and 1.5 for the others; validation ends at the given values."""
    steps = [50, 100]
    train = {"none": [[2.0, 1.0]] * 3, "dropout": [[2.0, 1.5]] * 3,
             "weight drop": [[2.0, 1.5]] * 3, "all combined": [[2.0, 1.5]] * 3}

    def seeds(end: float, start: float = 2.5) -> list[list[float]]:
        return [[start, end - 0.01], [start, end], [start, end + 0.01]]

    valid = {"none": seeds(none_valid, start=2.2),
             "dropout": seeds(single_valid), "weight drop": seeds(single_valid + 0.2),
             "all combined": seeds(combined_valid)}
    return steps, train, valid


def test_regularization_sentences_when_regularisers_win():
    sentences = claims.regularization_sentences(*_ablation(2.6, 2.0, 1.8))
    assert sentences["baseline"].startswith("validation bpc is lowest (2.20) after 50 steps")
    assert sentences["ranking"].startswith("all combined (1.80 ± 0.01), then dropout (2.00")
    assert sentences["ranking"].endswith("then none (2.60 ± 0.01)")
    assert sentences["beaten"].startswith("all 3 regularised variants end lower")
    assert sentences["gaps"] == (
        "the gap between validation and training bpc at the end is 1.60 bits without "
        "regularisation and between 0.30 and 0.70 with it")
    assert sentences["combined"].startswith(
        "All combined ends lower than the best single one (dropout)")
    assert sentences["best"] == "all combined that helped most, beyond the spread of the seeds"
    near = claims.regularization_sentences(*_ablation(2.6, 2.0, 1.995))
    assert near["best"] == ("all combined that came lowest on average, within the spread of the "
                            "seeds of dropout")
    assert sentences["weight_drop"] == (
        "weight drop ranks 3 of 3 among the regularised variants (1 = the lowest validation bpc)")


def test_regularization_sentences_when_no_regularisation_wins():
    sentences = claims.regularization_sentences(*_ablation(1.9, 2.0, 2.4))
    assert sentences["baseline"].startswith("validation bpc is still falling at the last step")
    assert sentences["ranking"].startswith("none (1.90 ± 0.01), then dropout")
    assert sentences["beaten"] == ("0 of the 3 regularised variants (none) end lower than no "
                                   "regularisation beyond the spread of the seeds")
    assert sentences["combined"].startswith("All combined ends higher than the best single one")
    assert sentences["best"] == "none of the regularisers that beat no regularisation"
    assert sentences["weight_drop"].startswith("weight drop ranks 2 of 3 among")
    close = claims.regularization_sentences(*_ablation(2.0, 1.99, 2.4))
    assert close["beaten"].startswith("0 of the 3") and "not beyond the spread" in close["best"]


def test_weight_decay_verdict_follows_the_losses():
    baseline = 0.167
    stops = claims.weight_decay_verdict([0.170, 0.171, 0.169], [0.12, 0.13, 0.125], baseline)
    assert stops.startswith("But the network stops learning: the final MSE is 0.170 ± 0.001")
    worse = claims.weight_decay_verdict([0.15, 0.151, 0.152], [0.12, 0.13, 0.125], baseline)
    assert worse.startswith("The network still learns, but ends worse than without decay")
    same = claims.weight_decay_verdict([0.12, 0.13, 0.125], [0.121, 0.13, 0.124], baseline)
    assert same.startswith("The network still learns about as well as without decay")


def test_comparison_without_an_end_and_the_largest_gradient():
    lower = claims.comparison_sentence("A", [0.1, 0.11], "B", [0.5, 0.52], "‖g‖",
                                       at_the_end=False)
    assert lower.startswith("A is lower than B (‖g‖ 0.105")
    tie = claims.comparison_sentence("A", [0.1, 0.5], "B", [0.3, 0.31], "‖g‖", at_the_end=False)
    assert tie.startswith("A and B are within the spread of their seeds")
    largest = {"the LN-LSTM": 8.72, "the plain LSTM": 14.4, "the BN-LSTM": 4.33}
    middle = claims.largest_gradient_sentence(largest, "the LN-LSTM")
    assert middle == ("the LN-LSTM's largest gradient norm is 8.72 (neither the largest nor the "
                      "smallest of the 3), against 14.4 for the plain LSTM and 4.33 for the "
                      "BN-LSTM")
    largest["the LN-LSTM"] = 78.6
    assert "(the largest of the 3)" in claims.largest_gradient_sentence(largest, "the LN-LSTM")
    largest["the LN-LSTM"] = 1.0
    assert "(the smallest of the 3)" in claims.largest_gradient_sentence(largest, "the LN-LSTM")


def test_explosion_sentence_names_where_the_gradient_grows():
    recurrent = claims.explosion_sentence([0.6, 0.1, 0.98, 0.98, 0.98], [0.6, 0.9, 0.0, 0.0, 0.0],
                                          12.2, last=3)
    assert recurrent.startswith("Over the last 3 steps before the overflow, 98% of the gradient "
                                "norm sits in the recurrent matrix and 0% in the readout")
    assert "factor of about 12 per step" in recurrent and "runs through the recurrence" in recurrent
    readout = claims.explosion_sentence([0.98, 0.05, 0.02], [0.1, 0.99, 0.99], 3.0, last=2)
    assert "runs through the readout" in readout
    both = claims.explosion_sentence([0.7, 0.7], [0.7, 0.7], 3.0)
    assert "Over the last 2 steps" in both and both.endswith("Both the recurrence and the "
                                                             "readout carry the growth")
