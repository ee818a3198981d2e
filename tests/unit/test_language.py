"""Chapter 6's character language model: metrics, baselines, truncated BPTT, sampling."""

from __future__ import annotations

import math

import pytest
import torch

from rnncourse.data.vocabulary import CharVocabulary
from rnncourse.models.char_lm import CarriedState, CharLanguageModel, detach_state
from rnncourse.training.language.checkpoints import (
    load_language_model,
    round_weights_to_half,
    save_language_model,
)
from rnncourse.training.language.corpus import CorpusSplits, prepare_corpus
from rnncourse.training.language.metrics import (
    bits_per_character,
    evaluate_bits_per_character,
    ngram_baselines,
    ngram_bits_per_character,
)
from rnncourse.training.language.sampling import sample, sample_next
from rnncourse.training.language.train import LanguageModelSettings, train_language_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


TINY = {"hidden_size": 16, "embedding_dim": 8, "batch_size": 4, "seq_len": 16, "max_steps": 30,
        "eval_every": 10, "eval_characters": 2000, "max_characters": 20_000, "lr": 1e-2}


@pytest.fixture(scope="module")
def splits() -> CorpusSplits:
    return prepare_corpus("pride_and_prejudice", max_characters=20_000)


def test_prepare_corpus_parts_are_contiguous(splits: CorpusSplits) -> None:
    joined = torch.cat([splits.train, splits.valid, splits.test])
    assert len(joined) == 20_000
    assert splits.vocabulary.decode(joined[:30]) == "PRIDE AND PREJUDICE\n\nBy Jane A"


def test_bits_per_character_of_uniform_logits() -> None:
    logits = torch.zeros(2, 5, 8)
    targets = torch.randint(0, 8, (2, 5))
    assert bits_per_character(logits, targets) == pytest.approx(3.0)  # log2 8
    with pytest.raises(ValueError, match="shape"):
        bits_per_character(logits, targets[:, :4])


def test_ngram_bits_per_character_by_hand() -> None:
    train = torch.tensor([0, 1, 0, 1, 0, 1])
    test = torch.tensor([0, 1])
    # Unigram, add-1, V=3: p(0) = (3+1)/(6+3), p(1) = (3+1)/(6+3).
    expected = -math.log2(4 / 9)
    assert ngram_bits_per_character(train, test, 1, 3, 1.0) == pytest.approx(expected)
    # Bigram: contexts 1->0 (seen 2 of 2 times after 1), 0->1 (3 of 3): (2+1)/(2+3), (3+1)/(3+3).
    expected = -(math.log2(3 / 5) + math.log2(4 / 6)) / 2
    assert ngram_bits_per_character(train, test, 2, 3, 1.0) == pytest.approx(expected)


def test_ngram_baselines_improve_with_order(splits: CorpusSplits) -> None:
    unigram, bigram = ngram_baselines(splits, orders=(1, 2))
    assert unigram["model"].startswith("unigram") and bigram["model"].startswith("bigram")
    assert 3.5 < unigram["test_bpc"] < 5.5
    assert bigram["test_bpc"] < unigram["test_bpc"] - 0.5
    assert bigram["parameters"] == splits.vocabulary.size ** 2


def test_model_shapes_and_state(device: str) -> None:
    model = CharLanguageModel(11, "lstm", 4, 6, num_layers=2, device=device, seed=0)
    ids = torch.randint(0, 11, (3, 7), device=device)
    logits, (h, c) = model(ids)
    assert logits.shape == (3, 7, 11) and h.shape == c.shape == (2, 3, 6)
    # Carrying the state over two halves gives what one pass over the whole gives.
    first, state = model(ids[:, :4])
    second, _ = model(ids[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, second], 1), logits, rtol=1e-5, atol=1e-5)


def test_model_same_seed_same_weights_both_backends() -> None:
    ours = CharLanguageModel(9, "gru", 4, 5, backend="rnncourse", device="cpu", seed=3)
    theirs = CharLanguageModel(9, "gru", 4, 5, backend="torch", device="cpu", seed=3)
    ids = torch.randint(0, 9, (2, 6))
    torch.testing.assert_close(ours(ids)[0], theirs(ids)[0], rtol=1e-5, atol=1e-5)


def test_model_bad_input() -> None:
    model = CharLanguageModel(5, device="cpu")
    with pytest.raises(TypeError, match="int64"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="batch, seq_len"):
        model(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="cell"):
        CharLanguageModel(5, cell="transformer", device="cpu")


def test_carried_state_detaches() -> None:
    model = CharLanguageModel(5, "lstm", 3, 4, device="cpu", seed=0)
    stepper = CarriedState(model)
    stepper(torch.randint(0, 5, (2, 3)))
    assert all(not part.requires_grad for part in stepper.state)
    stepper.reset()
    assert stepper.state is None
    assert detach_state(None) is None


def test_training_lowers_bits_per_character(splits: CorpusSplits) -> None:
    run = train_language_model(splits=splits, device="cpu", **TINY)
    assert len(run.history.step) == 30 and run.history.eval_step == [9, 19, 29]
    assert run.valid_bpc[-1] < run.valid_bpc[0] < math.log2(splits.vocabulary.size)
    assert run.best_valid_bpc == min(run.valid_bpc)
    assert run.best_step in run.history.eval_step
    assert math.isfinite(run.test_bpc) and run.test_bpc < math.log2(splits.vocabulary.size) - 1
    assert max(run.history.grad_norm) > 0
    metrics = run.metrics()
    assert metrics["parameters"] == run.model.num_parameters()


def test_plateau_halves_the_rate_and_stops(splits: CorpusSplits) -> None:
    # A learning rate too small to improve anything: every evaluation after the first is a
    # plateau; patience 2 stops after the third.
    run = train_language_model(splits=splits, device="cpu",
                               **{**TINY, "lr": 1e-9, "patience": 2, "max_steps": 100})
    assert run.stopped_early and len(run.valid_bpc) == 3
    assert run.lr == pytest.approx([1e-9, 1e-9, 5e-10])
    assert len(run.history.step) == 30


def test_training_is_reproducible(splits: CorpusSplits) -> None:
    first = train_language_model(splits=splits, device="cpu", **{**TINY, "max_steps": 10})
    again = train_language_model(splits=splits, device="cpu", **{**TINY, "max_steps": 10})
    assert first.history.loss == again.history.loss


def test_settings_checked() -> None:
    with pytest.raises(ValueError, match="seq_len"):
        train_language_model(LanguageModelSettings(seq_len=0), device="cpu")
    with pytest.raises(ValueError, match="lr_decay"):
        train_language_model(lr_decay=1.5, device="cpu")
    with pytest.raises(ValueError, match="patience"):
        train_language_model(patience=0, device="cpu")
    with pytest.raises(ValueError, match="min_improvement"):
        train_language_model(min_improvement=-1.0, device="cpu")
    with pytest.raises(ValueError, match="windows"):
        train_language_model(windows="shuffled", device="cpu")


def test_random_windows_without_stopping_and_an_optimizer_of_ones_own(
    splits: CorpusSplits,
) -> None:
    # What fine-tuning asks of the loop: windows from random places, every step taken at the
    # rates set (no decay, no early stopping), and an optimiser that leaves a frozen layer out.
    model = CharLanguageModel(splits.vocabulary.size, "lstm", 8, 16, device="cpu", seed=0)
    model.embedding.weight.requires_grad_(False)
    embedding = model.embedding.weight.detach().clone()
    built = []

    def rnn_and_head(model: CharLanguageModel) -> torch.optim.Optimizer:
        built.append(torch.optim.Adam([{"params": model.rnn.parameters(), "lr": 2e-2},
                                       {"params": model.head.parameters(), "lr": 1e-2}]))
        return built[-1]

    run = train_language_model(splits=splits, model=model, build_optimizer=rnn_and_head,
                               device="cpu", **{**TINY, "windows": "random", "patience": None,
                                                "lr_decay": 1.0, "min_improvement": 0.0})
    assert len(built) == 1 and len(run.history.step) == 30 and not run.stopped_early
    assert run.lr == [2e-2, 2e-2, 2e-2]  # the first group's rate, never decayed
    assert run.best_valid_bpc == min(run.valid_bpc) < run.valid_bpc[0]
    torch.testing.assert_close(model.embedding.weight, embedding, rtol=0, atol=0)


def test_round_weights_to_half_is_what_the_checkpoint_stores(tmp_path,
                                                             splits: CorpusSplits) -> None:
    model = CharLanguageModel(splits.vocabulary.size, "gru", 8, 12, device="cpu", seed=0)
    path = save_language_model(tmp_path / "half.pt", model, splits.vocabulary, half=True)
    stored = load_language_model(path, device="cpu").model
    assert round_weights_to_half(model) is model
    for name, value in stored.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name


def test_sample_next_temperature() -> None:
    logits = torch.tensor([[0.0, 1.0, 3.0]]).repeat(4000, 1)
    generator = torch.Generator().manual_seed(0)
    assert torch.equal(sample_next(logits[:3], 0.0), torch.tensor([2, 2, 2]))
    cold = sample_next(logits, 0.25, generator).bincount(minlength=3) / 4000
    hot = sample_next(logits, 4.0, generator).bincount(minlength=3) / 4000
    expected = torch.softmax(torch.tensor([0.0, 1.0, 3.0]) / 4.0, 0)
    assert cold[2] > 0.99 and (hot - expected).abs().max() < 0.03
    with pytest.raises(ValueError, match="temperature"):
        sample_next(logits, -1.0)


def test_sample_text_is_reproducible(splits: CorpusSplits) -> None:
    model = CharLanguageModel(splits.vocabulary.size, device="cpu", seed=0)
    text = sample(model, splits.vocabulary, "It is", 40, temperature=1.0, seed=1)
    assert len(text) == 40 and text == sample(model, splits.vocabulary, "It is", 40, seed=1)
    greedy = sample(model, splits.vocabulary, "It is", 20, temperature=0)
    assert greedy == sample(model, splits.vocabulary, "It is", 20, temperature=0, seed=9)
    with pytest.raises(ValueError, match="prime"):
        sample(model, splits.vocabulary, "", 5)
    # The model's own device may be named; another one is refused by name, not left to mix.
    assert sample(model, splits.vocabulary, "It is", 20, device="cpu", seed=1) == text[:20]
    with pytest.raises(ValueError, match="'meta', but the model is on cpu"):
        sample(model, splits.vocabulary, "It is", 5, device="meta")


def test_checkpoint_round_trip(tmp_path, splits: CorpusSplits, device: str) -> None:
    model = CharLanguageModel(splits.vocabulary.size, "gru", 8, 12, device="cpu", seed=0)
    settings = LanguageModelSettings(cell="gru", hidden_size=12, embedding_dim=8)
    path = save_language_model(tmp_path / "lm.pt", model, splits.vocabulary, settings,
                               {"test_bpc": torch.tensor(2.5)})
    loaded = load_language_model(path, device=device)
    assert loaded.vocabulary == splits.vocabulary and loaded.settings == settings
    assert loaded.metrics == {"test_bpc": 2.5}
    assert loaded.model.device.type == device
    expected = evaluate_bits_per_character(model, splits.test)
    assert evaluate_bits_per_character(loaded.model, splits.test) == pytest.approx(expected,
                                                                                   abs=1e-4)
    half = load_language_model(save_language_model(tmp_path / "half.pt", model,
                                                   splits.vocabulary, half=True), device="cpu")
    assert half.model.head.weight.dtype == torch.float32
    assert (tmp_path / "half.pt").stat().st_size < (tmp_path / "lm.pt").stat().st_size
    assert evaluate_bits_per_character(half.model, splits.test) == pytest.approx(expected,
                                                                                 abs=0.01)


def test_load_rejects_other_files(tmp_path) -> None:
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="save_language_model"):
        load_language_model(tmp_path / "other.pt")


def test_unknown_characters_in_a_second_corpus() -> None:
    vocabulary = CharVocabulary.from_text("abc ")
    other = prepare_corpus("devils_dictionary", max_characters=2000, vocabulary=vocabulary)
    assert (other.train == vocabulary.unknown_id).any()
