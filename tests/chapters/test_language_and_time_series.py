"""Chapter 6: the sentences the page writes from its results (each tested on results where one
side wins and on results where the other does), the multi-seed cell comparison, the
encoder-decoder study, the shipped checkpoints, the settings and the figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnncourse.chapters.ch06_language_and_time_series.cell_comparison import (  # noqa: E402
    CELL_LABELS,
    CellComparison,
    compare_cells,
    load_shipped_runs,
    shipped_checkpoint_name,
)
from rnncourse.chapters.ch06_language_and_time_series.claims import (  # noqa: E402
    alignment_sentence,
    attention_sentence,
    cell_ranking_sentence,
    forecast_sentence,
    samples_sentence,
    schedule_sentence,
    word_statistics,
)
from rnncourse.chapters.ch06_language_and_time_series.figures import (  # noqa: E402
    plot_attention_study,
    plot_bits_per_character,
    plot_cell_comparison,
    plot_long_runs,
)
from rnncourse.chapters.ch06_language_and_time_series.settings import SETTINGS  # noqa: E402
from rnncourse.chapters.ch06_language_and_time_series.translation import (  # noqa: E402
    run_attention_study,
)
from rnncourse.models.char_lm import CharLanguageModel  # noqa: E402
from rnncourse.training.language import prepare_corpus  # noqa: E402

CHECKPOINTS = Path(__file__).resolve().parents[2] / "book" / "checkpoints"


# ---------------------------------------------------------------------------------------------
# The sentences


def test_ranking_names_the_winner_whichever_cell_wins() -> None:
    gru_wins = {"GRU": [1.70, 1.71, 1.72], "LSTM": [1.82, 1.83, 1.84]}
    lstm_wins = {"GRU": [1.82, 1.83, 1.84], "LSTM": [1.70, 1.71, 1.72]}
    first = cell_ranking_sentence(gru_wins)
    second = cell_ranking_sentence(lstm_wins)
    assert "GRU 1.710 ± 0.010 < LSTM 1.830 ± 0.010" in first
    assert "The GRU comes first and the LSTM last" in first
    assert "below the LSTM in 3 of 3 seeds" in first and "is larger than" in first
    assert "LSTM 1.710 ± 0.010 < GRU 1.830 ± 0.010" in second
    assert "The LSTM comes first and the GRU last" in second


def test_ranking_says_when_the_first_two_are_not_clearly_apart() -> None:
    close = {"tanh RNN": [2.70, 2.80, 2.75], "GRU": [2.74, 2.72, 2.78], "LSTM": [3.0, 3.1, 3.0]}
    sentence = cell_ranking_sentence(close)
    assert sentence.startswith("Ranked by mean test bits per character over 3 seeds")
    assert "The GRU comes first and the LSTM last" in sentence
    assert "below the tanh RNN in 1 of 3 seeds" in sentence
    assert "no larger than" in sentence and "not clearly apart" in sentence


def test_ranking_of_one_seed_says_it_shows_no_spread() -> None:
    sentence = cell_ranking_sentence({"GRU": [1.708], "LSTM": [1.824], "tanh RNN": [1.769]})
    assert "one seed each" in sentence and "±" not in sentence
    assert "GRU 1.708 < tanh RNN 1.769 < LSTM 1.824" in sentence
    assert "says nothing about its spread" in sentence


@pytest.mark.parametrize("bad", [{"GRU": [1.0, 2.0]}, {"GRU": [1.0], "LSTM": [1.0, 2.0]},
                                 {"GRU": [], "LSTM": []}])
def test_ranking_refuses_results_it_cannot_rank(bad) -> None:
    with pytest.raises(ValueError):
        cell_ranking_sentence(bad)


def run_metrics(rates: list[float], valid: list[float]) -> dict[str, list[float]]:
    return {"lr": rates, "valid_bpc": valid}


def test_schedule_names_the_runs_still_improving_at_the_end() -> None:
    improving = run_metrics([3e-3, 3e-3, 1.5e-3], [2.0, 1.9, 1.85])  # best at the last check
    settled = run_metrics([3e-3, 1.5e-3, 7.5e-4], [2.0, 1.8, 1.81])  # best before the end
    sentence = schedule_sentence({"LSTM": [improving, improving], "GRU": [settled, improving]})
    assert "LSTM 1, 1; GRU 2, 1" in sentence
    assert "2 of 2 LSTM runs and 1 of 2 GRU runs" in sentence
    none = schedule_sentence({"LSTM": [settled], "GRU": [settled]})
    assert "LSTM 2; GRU 2" in none and "Every run had passed its best" in none


def test_schedule_refuses_metrics_that_do_not_line_up() -> None:
    with pytest.raises(ValueError, match="equally long"):
        schedule_sentence({"LSTM": [run_metrics([1.0, 0.5], [2.0])]})
    with pytest.raises(ValueError, match="no runs"):
        schedule_sentence({"LSTM": []})


def test_attention_sentence_whichever_variant_is_ahead() -> None:
    lengths = [2, 6, 12]
    falling = np.array([[1.0, 0.6, 0.30], [1.0, 0.5, 0.26]])
    steady = np.array([[1.0, 0.95, 0.80], [1.0, 0.97, 0.78]])
    ahead = attention_sentence(lengths, without_attention=falling, with_attention=steady)
    assert "falls from 1.00 at length 2 to 0.28 at length 12 without attention" in ahead
    assert "the model with attention is ahead by 0.51" in ahead
    assert "more than twice" in ahead
    behind = attention_sentence(lengths, without_attention=steady, with_attention=falling)
    assert "the model without attention is ahead by 0.51" in behind


def test_attention_sentence_for_flat_curves_within_the_spread() -> None:
    flat = np.array([[0.90, 0.92, 0.91], [0.97, 0.95, 0.99]])
    other = np.array([[0.93, 0.94, 0.93], [0.92, 0.93, 0.95]])
    sentence = attention_sentence([2, 3, 4], without_attention=flat, with_attention=other)
    assert "stays between 0.94 and 0.95 without attention" in sentence
    assert "the model without attention is ahead by 0.01" in sentence
    assert "no more than twice" in sentence
    with pytest.raises(ValueError, match="shape"):
        attention_sentence([2, 3], flat, other)


def test_alignment_sentence_whichever_half_is_better_aligned() -> None:
    length = 4
    diagonal_first = np.full((length, length), 0.25)
    diagonal_first[0, 0] = diagonal_first[1, 1] = 1.0
    target = [1, 2, 3, 4]
    sentence = alignment_sentence(diagonal_first, [1, 2, 0, 0], target)
    assert "100% of its attention on the matching source letter while writing its first 2" in \
        sentence
    assert "and 25% while writing the last 2; it writes 2 of the 4 letters right" in sentence
    sentence = alignment_sentence(diagonal_first[::-1, ::-1], target, target)
    assert "on average 25% of its attention" in sentence
    assert "and 100% while writing the last 2; it writes 4 of the 4" in sentence
    with pytest.raises(ValueError, match="square"):
        alignment_sentence(np.ones((2, 3)), [1, 2], [1, 2])
    with pytest.raises(ValueError, match="written and target"):
        alignment_sentence(np.ones((2, 2)), [1, 2, 3], [1, 2])


def test_word_statistics_count_known_and_distinct_words() -> None:
    known, distinct = word_statistics("The cat, the CAT and a dog.", {"the", "cat", "a"})
    assert known == pytest.approx(5 / 7) and distinct == pytest.approx(5 / 7)  # 7 words
    assert np.isnan(word_statistics("... !", {"the"})[0])


def test_samples_sentence_whichever_temperature_does_best() -> None:
    book = {"it", "is", "a", "truth", "she", "said"}
    samples = {0.0: "it is it is it is it is", 1.5: "it zqv truth wex she olp"}
    sentence = samples_sentence(samples, book)
    assert "τ = 0: 100% of words in the book, 25% distinct" in sentence
    assert "at τ = 0 uses the book's words most, the one at τ = 1.5 least" in sentence
    assert "the one at τ = 0 repeats itself most" in sentence
    reversed_case = {0.0: "qq zz qq zz she", 1.5: "it is a truth she said"}
    sentence = samples_sentence(reversed_case, book)
    assert "at τ = 1.5 uses the book's words most, the one at τ = 0 least" in sentence
    assert "the one at τ = 0 repeats itself most" in sentence
    with pytest.raises(ValueError, match="two temperatures"):
        samples_sentence({1.0: "it is"}, book)
    with pytest.raises(ValueError, match="contain words"):
        samples_sentence({1.0: "it is", 0.5: "..."}, book)


def test_forecast_sentence_whichever_model_is_ahead() -> None:
    errors = {"naive": {"mae": 2.7}, "seasonal naive": {"mae": 2.5},
              "Holt-Winters": {"mae": 0.46}, "GRU": {"mae": 0.54}}
    sentence = forecast_sentence(errors, units="ppm")
    assert sentence.startswith("Lowest mean absolute error: Holt-Winters (0.46 ppm)")
    assert "Holt-Winters has the lower error, by 0.08 ppm (3% of" in sentence
    assert "one seed" in sentence
    errors["GRU"] = {"mae": 0.30}
    sentence = forecast_sentence(errors)
    assert "Lowest mean absolute error: GRU (0.3)" in sentence
    assert "GRU has the lower error, by 0.16" in sentence
    with pytest.raises(ValueError, match="no method"):
        forecast_sentence({"GRU": {"mae": 1.0}})


# ---------------------------------------------------------------------------------------------
# The experiments


@pytest.fixture(scope="module")
def tiny_comparison() -> CellComparison:
    splits = prepare_corpus("pride_and_prejudice", max_characters=20_000)
    return compare_cells(splits, {"rnn_tanh": 12, "lstm": 6}, seeds=2, batch_size=4, seq_len=8,
                         max_steps=4, eval_every=2, eval_characters=500, patience=None,
                         embedding_dim=4, device="cpu", seed=5)


def test_compare_cells_trains_every_cell_with_every_seed(tiny_comparison) -> None:
    assert tiny_comparison.seeds == [5, 6]
    assert list(tiny_comparison.test_bpc) == ["tanh RNN", "LSTM"]
    for label, runs in tiny_comparison.runs.items():
        assert [run.settings.seed for run in runs] == [5, 6]
        assert tiny_comparison.test_bpc[label] == [run.test_bpc for run in runs]
        assert len(runs[0].valid_bpc) == 2  # checks after steps 2 and 4
    assert tiny_comparison.runs["tanh RNN"][0].settings.hidden_size == 12
    # Two seeds, two different initial weights: the runs differ.
    assert tiny_comparison.test_bpc["LSTM"][0] != tiny_comparison.test_bpc["LSTM"][1]
    with pytest.raises(ValueError, match="unknown cells"):
        compare_cells(None, {"transformer": 8})


def test_the_best_run_is_chosen_by_validation_not_test() -> None:
    comparison = CellComparison(seeds=[0, 1], test_bpc={"GRU": [1.0, 2.0], "LSTM": [3.0, 0.5]},
                                valid_bpc={"GRU": [1.5, 1.2], "LSTM": [1.3, 1.4]})
    assert comparison.best() == ("GRU", 1)  # the lowest test score (LSTM, seed 1) is not it
    assert comparison.mean("LSTM") == pytest.approx(1.75)
    assert comparison.std("GRU") == pytest.approx(np.std([1.0, 2.0], ddof=1))


def test_shipped_checkpoints_load_with_their_recorded_numbers() -> None:
    assert shipped_checkpoint_name("gru", 2) == "ch06-lm-gru-seed2.pt"
    shipped = load_shipped_runs(CHECKPOINTS, seeds=(0,))
    assert list(shipped.test_bpc) == list(CELL_LABELS.values())
    for label, models in shipped.runs.items():
        assert shipped.test_bpc[label] == [models[0].metrics["test_bpc"]]
        assert 90_000 < shipped.parameters[label] < 100_000  # about equal sizes
        assert models[0].metrics["steps"] == 6000


@pytest.fixture(scope="module")
def tiny_study():
    return run_attention_study(alphabet_size=4, embedding_dim=4, hidden_size=6, min_length=2,
                               max_length=4, test_words=10, steps=3, batch_size=4, seeds=2,
                               device="cpu", seed=1)


def test_attention_study_measures_every_seed_and_length(tiny_study) -> None:
    assert tiny_study.lengths == [2, 3, 4] and tiny_study.seeds == [1, 2]
    for label in ("no attention", "attention"):
        assert tiny_study.accuracy[label].shape == (2, 3)
        assert tiny_study.position_accuracy[label].shape == (2, 4)
        assert tiny_study.loss[label].shape == (2, 3)
        assert np.all((tiny_study.accuracy[label] >= 0) & (tiny_study.accuracy[label] <= 1))
        assert tiny_study.mean(label).shape == tiny_study.spread(label).shape == (3,)
    assert tiny_study.parameters["attention"] - tiny_study.parameters["no attention"] == 36
    assert tiny_study.example["weights"].shape == (4, 4)
    assert tiny_study.task.chance_accuracy == 0.25
    again = run_attention_study(alphabet_size=4, embedding_dim=4, hidden_size=6, min_length=2,
                                max_length=4, test_words=10, steps=3, batch_size=4, seeds=2,
                                device="cpu", seed=1)
    np.testing.assert_array_equal(again.accuracy["attention"], tiny_study.accuracy["attention"])


def test_attention_study_refuses_bad_lengths_and_seeds() -> None:
    with pytest.raises(ValueError, match="min_length"):
        run_attention_study(min_length=5, max_length=4)
    with pytest.raises(ValueError, match="seeds"):
        run_attention_study(seeds=0)


# ---------------------------------------------------------------------------------------------
# Settings and figures


@pytest.mark.parametrize("scale", ["cpu", "paper"])
def test_the_compared_cells_have_about_equal_sizes(scale: str) -> None:
    sizes = SETTINGS.at(scale).cell_comparison["hidden_sizes"]
    counts = [CharLanguageModel(76, cell, 32, hidden).num_parameters()
              for cell, hidden in sizes.items()]
    assert max(counts) / min(counts) < 1.05, counts


def test_figures_draw_from_the_results(tiny_comparison, tiny_study) -> None:
    shipped = load_shipped_runs(CHECKPOINTS, cells=("rnn_tanh", "lstm"), seeds=(0,))
    figures = [plot_cell_comparison(tiny_comparison, shipped), plot_long_runs(shipped),
               plot_attention_study(tiny_study),
               plot_bits_per_character([{"model": "LSTM, 4 steps", "test_bpc": 3.0,
                                         "spread": 0.1, "parameters": 100},
                                        {"model": "bigram counts", "test_bpc": 3.5,
                                         "parameters": 5776}], cells=["tanh RNN", "LSTM"])]
    try:
        assert [len(figure.axes) for figure in figures] == [2, 1, 4, 1]  # + the colour bar
        labels = [tick.get_text() for tick in figures[2].axes[2].get_yticklabels()]
        assert len(labels) == 4 and all(label for label in labels)
    finally:
        for figure in figures:
            plt.close(figure)
