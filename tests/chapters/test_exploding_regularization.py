"""Chapter 2's regularisation study at toy sizes: every variant and seed trained at once, from
the same weights and batches within a seed, and its figure and tables."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest
import torch

from rnncourse.chapters.ch02_exploding_gradients.regularization import (
    MERITY_TABLE_4,
    REGULARIZERS,
    bits_per_character,
    run_regularization_study,
)
from rnncourse.chapters.ch02_exploding_gradients.remedy_figures import (
    merity_table,
    plot_regularization,
    rates_text,
    regularization_table,
)

TOY = dict(train_characters=300, valid_characters=200, embedding_dim=4, hidden_size=6,
           batch_size=4, seq_len=8, steps=6, eval_every=3, device="cpu")


@pytest.fixture(scope="module")
def study():
    return run_regularization_study(num_seeds=2, **TOY)


def test_every_variant_and_seed_is_measured(study):
    assert study.labels == list(REGULARIZERS) and study.seeds == [0, 1]
    assert study.eval_steps == [3, 6]
    for label in study.labels:
        for split in (study.train_bpc, study.valid_bpc):
            assert len(split[label]) == 2 and all(len(curve) == 2 for curve in split[label])
            assert all(0 < value < 10 and math.isfinite(value)
                       for curve in split[label] for value in curve)
        assert study.final(label) == [curve[-1] for curve in study.valid_bpc[label]]
        assert study.best(label) == [min(curve) for curve in study.valid_bpc[label]]
        assert study.gap(label) == pytest.approx(study.mean(label) - study.mean(label, "train"))
    assert study.settings["parameters"] > 0 and study.settings["vocabulary"] > 10


def test_variants_of_a_seed_share_weights_and_batches():
    same = run_regularization_study({"a": {}, "b": {}, "c": {"weight_drop": 0.5}},
                                    num_seeds=2, **TOY)
    assert same.valid_bpc["a"] == same.valid_bpc["b"]  # same weights, same batches
    assert same.valid_bpc["a"][0] != same.valid_bpc["a"][1]  # another seed
    assert same.train_bpc["c"] != same.train_bpc["a"]  # the regulariser changes training


def test_bits_per_character_is_the_cross_entropy_in_bits():
    uniform = torch.tensor([math.log(8.0)])  # a uniform guess over 8 characters
    assert bits_per_character(uniform).item() == pytest.approx(3.0)


def test_figure_and_tables(study):
    figure = plot_regularization(study)
    assert all(axis.get_xlabel() for axis in figure.axes)
    plt.close(figure)
    table = regularization_table(study)
    assert table.count("\n") == len(study.labels) + 1 and "p_w = 0.5" in table
    assert rates_text({}) == "—"
    published = merity_table()
    assert "| - weight-dropping | 71.1 | 68.9 |" in published
    assert MERITY_TABLE_4["AWD-LSTM (all)"] == (60.0, 57.3)


def test_the_book_settings_overfit_and_every_regulariser_narrows_the_gap():
    """The page's lesson at the page's sizes (about 10 s): without regularisation validation bpc
    turns back up while training bpc falls; every regulariser ends lower and with a smaller
    train/validation gap (means over the 3 seeds)."""
    from rnncourse.chapters.ch02_exploding_gradients.settings import SETTINGS

    torch.manual_seed(0)  # the masks come from torch's global generator, as on the page
    book = run_regularization_study(**SETTINGS.cpu.regularization, device="cpu")
    none = [sum(values) / len(values) for values in zip(*book.valid_bpc["none"], strict=True)]
    assert none[-1] > min(none) + 0.1  # validation turned back up
    assert book.mean("none", "train") < book.mean("none") - 1.0  # a gap of over a bit
    for label in book.labels[1:]:
        assert book.mean(label) < book.mean("none") - 0.05, label
        assert book.gap(label) < book.gap("none") - 0.2, label
