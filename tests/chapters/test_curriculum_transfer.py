"""Chapter 5's experiments at toy sizes: the length curriculum, the four strategies, fine-tuning
a language model, transfer for time series, and the checkpoint the page ships."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from rnncourse.chapters.ch05_curriculum_transfer.length_curriculum import (
    doubling_levels,
    run_length_curriculum,
)
from rnncourse.chapters.ch05_curriculum_transfer.strategies import run_curriculum_strategies
from rnncourse.models.char_lm import CharLanguageModel
from rnncourse.training.curriculum_strategies import STRATEGIES
from rnncourse.training.transfer import freeze, trainable_parameter_count

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = ROOT / "book" / "checkpoints" / "ch05-char-lm-kjv.pt"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_lm(vocab_size: int = 20, seed: int = 0) -> CharLanguageModel:
    return CharLanguageModel(vocab_size, "lstm", embedding_dim=6, hidden_size=8, num_layers=2,
                             device="cpu", seed=seed)


def test_doubling_levels() -> None:
    assert doubling_levels(10, 100) == [10, 20, 40, 80, 100]
    assert doubling_levels(5, 40) == [5, 10, 20, 40]
    assert doubling_levels(7, 7) == [7]
    with pytest.raises(ValueError):
        doubling_levels(20, 10)


def test_run_length_curriculum_small() -> None:
    result = run_length_curriculum(20, start_length=5, steps=40, hidden_size=8, eval_every=10,
                                   eval_size=32, batch_size=16, seeds=(0,), device="cpu",
                                   mastery_mse=10.0)
    assert result.labels == ["target length only", "length curriculum"]
    curriculum = result.by_label("length curriculum")[0]
    baseline = result.by_label("target length only")[0]
    assert set(baseline.train_length) == {20}
    # With a threshold every model passes, the curriculum climbs one level per evaluation.
    assert curriculum.train_length[:10] == [5] * 10 and curriculum.train_length[-1] == 20
    assert len(curriculum.eval_loss) == 4
    summary = result.summary()
    assert summary["length curriculum"]["runs"] == 1
    assert result.baseline_mse == pytest.approx(1 / 6)


def test_run_curriculum_strategies_small() -> None:
    result = run_curriculum_strategies(2, steps=20, hidden_size=8, batch_size=8, eval_every=10,
                                       eval_size=40, seeds=(0,), device="cpu")
    assert result.strategies == list(STRATEGIES)
    for run in result.runs:
        assert len(run.accuracy) == 2 and 0 <= run.final_accuracy <= 1
        assert len(run.accuracy_by_digits) == 2
    assert set(result.ranking()) == set(STRATEGIES)
    assert result.by_strategy("none")[0].level == [2, 2]


def test_fine_tune_keeps_the_best_weights_and_leaves_frozen_layers() -> None:
    from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import fine_tune_language_model
    from rnncourse.training.language.corpus import CorpusSplits

    pattern = torch.tensor([1, 2, 3, 4, 5, 6, 7] * 60)  # a periodic text: easy to learn
    splits = CorpusSplits("toy", None, pattern, pattern[:100], pattern[:100])
    model = small_lm()
    freeze(model, "embedding")
    embedding = model.embedding.weight.detach().clone()
    run = fine_tune_language_model(model, splits, label="toy", steps=30, eval_every=10,
                                   batch_size=8, seq_len=14, lr=1e-2, device="cpu")
    assert len(run.valid_bpc) == 3 and run.valid_bpc[-1] < run.valid_bpc[0]
    assert run.test_bpc == pytest.approx(run.best_valid_bpc, rel=1e-5)  # same text, best weights
    assert run.trainable_parameters == trainable_parameter_count(model)
    torch.testing.assert_close(model.embedding.weight, embedding)


def test_synthetic_series_are_standardised_cycles() -> None:
    from rnncourse.chapters.ch05_curriculum_transfer.series_transfer import (
        synthetic_seasonal_series,
    )

    series = synthetic_seasonal_series(6, 80, min_period=8, max_period=16, seed=0)
    assert series.shape == (6, 80)
    torch.testing.assert_close(series.mean(1), torch.zeros(6), atol=1e-5, rtol=0)
    torch.testing.assert_close(series.std(1), torch.ones(6), atol=1e-5, rtol=0)
    # Cycles of 8 to 16 steps move slowly: neighbouring values are strongly correlated.
    centred = series - series.mean(1, keepdim=True)
    lag_one = (centred[:, 1:] * centred[:, :-1]).mean(1)
    assert (lag_one > 0.3).all()
    torch.testing.assert_close(synthetic_seasonal_series(6, 80, min_period=8, max_period=16,
                                                         seed=0), series)


def test_run_series_transfer_small() -> None:
    from rnncourse.chapters.ch05_curriculum_transfer.series_transfer import run_series_transfer

    result = run_series_transfer(history_lengths=(16, 24), input_length=12, horizon=3,
                                 test_length=12, hidden_size=4, synthetic_series=8,
                                 synthetic_length=30, pretrain_steps=5, steps=5, batch_size=4,
                                 seeds=(0,), device="cpu")
    assert set(result.mae) == {"naive", "seasonal naive", "from scratch",
                               "pretrained, not fine-tuned", "pretrained + fine-tuned"}
    for values in result.mae.values():
        assert len(values) == 2 and all(math.isfinite(v) and v > 0 for v in values)
    assert result.mae["naive"][0] == result.mae["naive"][1]
    assert result.example["from scratch"].shape == (12 - 3 + 1, 3)


@pytest.mark.skipif(not CHECKPOINT.is_file(), reason="the book's checkpoint is not built yet")
def test_the_shipped_checkpoint_is_small_and_verifies() -> None:
    from rnncourse.training.language.pretraining import ascii_vocabulary, verify_checkpoint

    assert CHECKPOINT.stat().st_size < 400_000
    checked = verify_checkpoint(CHECKPOINT, device="cpu")
    assert checked["vocabulary"] == ascii_vocabulary()
    assert checked["measured_bpc"] == pytest.approx(checked["stored_bpc"], abs=1e-3)
    assert checked["measured_bpc"] < 2.5  # far below the 6.6 bits of a uniform guess


def test_model_to_fine_tune_freezes_and_gives_each_layer_its_rate() -> None:
    from rnncourse.chapters.ch05_curriculum_transfer.text_transfer import model_to_fine_tune

    pretrained = small_lm()
    model, groups = model_to_fine_tune(pretrained, ["embedding"], 2.0, 1e-2)
    assert model is not pretrained and not model.embedding.weight.requires_grad
    assert pretrained.embedding.weight.requires_grad, "the pretrained model is left as it was"
    assert [group["name"] for group in groups] == ["rnn.l0", "rnn.l1", "head"]
    assert [group["lr"] for group in groups] == pytest.approx([2.5e-3, 5e-3, 1e-2])
    model, groups = model_to_fine_tune(pretrained, [], None, 1e-2)
    assert groups is None and model.embedding.weight.requires_grad
