"""Transfer learning tools: layers, freezing, per-layer learning rates, loading into a new head,
pretraining a language model from the command line (chapter 5's experiments: tests/chapters/)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from rnncourse.models.char_lm import CharLanguageModel
from rnncourse.models.forecaster import WindowForecaster
from rnncourse.training import fit
from rnncourse.training.transfer import (
    discriminative_parameter_groups,
    freeze,
    layer_names,
    load_pretrained,
    parameters_by_layer,
    trainable_parameter_count,
    unfreeze,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_lm(vocab_size: int = 20, seed: int = 0) -> CharLanguageModel:
    return CharLanguageModel(vocab_size, "lstm", embedding_dim=6, hidden_size=8, num_layers=2,
                             device="cpu", seed=seed)


def test_layer_names_go_bottom_to_top() -> None:
    assert layer_names(small_lm()) == ["embedding", "rnn.l0", "rnn.l1", "head"]
    assert layer_names(WindowForecaster(3, device="cpu")) == ["network.rnn.l0", "network.head"]
    assert layer_names(nn.LSTM(3, 4, num_layers=2)) == ["l0", "l1"]
    grouped = parameters_by_layer(small_lm())
    assert [name for name, _ in grouped["rnn.l1"]] == [
        "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1"]


def test_freeze_and_unfreeze() -> None:
    model = small_lm()
    total = trainable_parameter_count(model)
    assert freeze(model, ["embedding", "rnn.l0"]) == ["embedding", "rnn.l0"]
    frozen = model.embedding.weight.numel() + sum(
        p.numel() for name, p in model.rnn.named_parameters() if name.endswith("_l0"))
    assert trainable_parameter_count(model) == total - frozen
    assert freeze(model, "rnn") == ["rnn.l0", "rnn.l1"]  # a prefix names every depth
    assert [n for n, p in model.named_parameters() if p.requires_grad] == [
        "head.weight", "head.bias"]
    unfreeze(model)
    assert trainable_parameter_count(model) == total
    with pytest.raises(ValueError, match="no layer"):
        freeze(model, "decoder")


def test_frozen_layers_do_not_change_in_training() -> None:
    model = small_lm()
    freeze(model, ["embedding", "rnn.l0"])
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    ids = torch.randint(20, (4, 12), generator=torch.Generator().manual_seed(0))
    fit(model, [(ids[:, :-1], ids[:, 1:])],
        lambda logits, y: nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten()),
        steps=3, lr=1e-2, device="cpu", progress=False)
    for name, parameter in model.named_parameters():
        changed = not torch.equal(before[name], parameter.detach())
        assert changed == (name.startswith("head") or name.endswith("_l1")), name


def test_discriminative_groups_divide_the_rate_going_down() -> None:
    model = small_lm()
    groups = discriminative_parameter_groups(model, lr=0.01, decay=2.0)
    assert [g["name"] for g in groups] == ["embedding", "rnn.l0", "rnn.l1", "head"]
    assert [g["lr"] for g in groups] == pytest.approx([0.01 / 8, 0.01 / 4, 0.01 / 2, 0.01])
    freeze(model, "embedding")  # frozen layers get no group and do not count
    groups = discriminative_parameter_groups(model, lr=0.01, decay=2.0)
    assert [g["lr"] for g in groups] == pytest.approx([0.01 / 4, 0.01 / 2, 0.01])
    optimizer = torch.optim.Adam(groups)
    assert [g["name"] for g in optimizer.param_groups] == ["rnn.l0", "rnn.l1", "head"]
    with pytest.raises(ValueError, match="decay"):
        discriminative_parameter_groups(model, lr=0.01, decay=0.5)
    freeze(model, ["rnn", "head"])
    with pytest.raises(ValueError, match="trainable"):
        discriminative_parameter_groups(model, lr=0.01)


def test_load_pretrained_keeps_a_new_head() -> None:
    source, target = small_lm(seed=1), small_lm(seed=2)
    fresh_head = target.head.weight.detach().clone()
    report = load_pretrained(target, source, skip="head")
    assert report.skipped == ["head.weight", "head.bias"]
    assert "rnn.weight_hh_l1" in report.loaded and not report.missing
    torch.testing.assert_close(target.rnn.weight_hh_l1, source.rnn.weight_hh_l1)
    torch.testing.assert_close(target.head.weight, fresh_head)


def test_load_pretrained_reports_other_shapes_and_can_be_strict() -> None:
    source, target = small_lm(vocab_size=20), small_lm(vocab_size=30)
    report = load_pretrained(target, source.state_dict())
    assert set(report.mismatched) == {"embedding.weight", "head.weight", "head.bias"}
    torch.testing.assert_close(target.rnn.weight_ih_l0, source.rnn.weight_ih_l0)
    with pytest.raises(ValueError, match="shape"):
        load_pretrained(small_lm(vocab_size=30), source, strict=True)


# ----------------------------------------------------------------------------------------------
# Experiments


def test_ascii_vocabulary_reads_every_shipped_corpus() -> None:
    from rnncourse.data.text import available_corpora, load_text
    from rnncourse.training.language.pretraining import ascii_vocabulary

    vocabulary = ascii_vocabulary()
    assert vocabulary.size == 97
    for corpus in available_corpora():
        ids = vocabulary.encode(load_text(corpus, max_characters=20_000))
        assert (ids != vocabulary.unknown_id).all(), corpus


def test_random_window_batches() -> None:
    from rnncourse.training.language.corpus import random_window_batches

    stream = torch.arange(100)
    batches = random_window_batches(stream, batch_size=5, seq_len=7, seed=0, device="cpu")
    inputs, targets = batches(0)
    assert inputs.shape == targets.shape == (5, 7)
    torch.testing.assert_close(targets, inputs + 1)  # the next id of a consecutive stream
    again = random_window_batches(stream, batch_size=5, seq_len=7, seed=0, device="cpu")
    torch.testing.assert_close(again(0)[0], inputs)
    with pytest.raises(ValueError, match="seq_len"):
        random_window_batches(torch.arange(5), 2, 7)


@pytest.mark.slow
def test_pretrain_command_writes_a_checkpoint_that_verifies(tmp_path: Path) -> None:
    from rnncourse.cli import main
    from rnncourse.training.language.pretraining import verify_checkpoint

    output = tmp_path / "lm.pt"
    code = main(["pretrain", "language", "--corpus", "devils_dictionary", "--steps", "6",
                 "--eval-every", "3", "--eval-characters", "2000", "--hidden-size", "8",
                 "--verify-characters", "2000", "--output", str(output), "--no-progress",
                 "--device", "cpu"])
    assert code == 0 and output.is_file()
    checked = verify_checkpoint(output, device="cpu")
    assert checked["measured_bpc"] == pytest.approx(checked["stored_bpc"], abs=1e-4)
    assert checked["metrics"]["command"].startswith("rnncourse pretrain language --corpus "
                                                    "devils_dictionary")
