"""RNN regularisers (dropout, variational dropout, weight drop, zoneout) and `RegularizedLSTM`:
each against its equation, the cases it must reduce to, and an `Ensemble` of different rates."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from rnncourse.models import LSTM, CharLanguageModel
from rnncourse.models.ensemble import Ensemble
from rnncourse.models.regularization import (
    drop_weights,
    dropout,
    dropout_mask,
    variational_dropout,
    zoneout,
)
from rnncourse.models.regularized_lstm import (
    REGULARIZER_RATES,
    RegularizedLSTM,
    regularized_char_language_model,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOL = {"atol": 1e-5, "rtol": 1e-5}


def test_dropout_mask_is_inverted_bernoulli():
    torch.manual_seed(0)
    mask = dropout_mask((200_000,), 0.3, torch.empty(0))
    kept = mask[mask != 0]
    assert_close(kept, torch.full_like(kept, 1 / 0.7))  # b / (1 - p)
    assert abs((mask == 0).float().mean().item() - 0.3) < 0.01  # P(b = 0) = p
    assert abs(mask.mean().item() - 1.0) < 0.01  # E[m] = 1


def test_dropout_draws_per_element_and_variational_per_sequence():
    torch.manual_seed(1)
    x = torch.ones(8, 50, 6)  # (B, T, F)
    per_step = dropout(x, 0.5)
    per_sequence = variational_dropout(x, 0.5)
    # A fresh mask at every step: the steps of one sequence differ ...
    assert not torch.equal(per_step[:, 0], per_step[:, 1])
    # ... one mask per sequence: every step of sequence b is dropped the same way,
    for t in range(1, 50):
        assert torch.equal(per_sequence[:, t], per_sequence[:, 0])
    # but different sequences get different masks.
    assert not torch.equal(per_sequence[0, 0], per_sequence[1, 0])
    time_major = variational_dropout(torch.ones(50, 8, 6), 0.5, time_dim=0)
    assert torch.equal(time_major[7], time_major[0])


def test_dropouts_are_the_identity_in_evaluation_and_at_rate_zero():
    x = torch.randn(4, 5, 3)
    for function in (dropout, variational_dropout, drop_weights):
        assert function(x, 0.5, training=False) is x
        assert function(x, 0.0) is x
        assert torch.equal(function(x, torch.tensor(0.0)), x)  # a tensor rate of 0: mask of 1s


def test_rates_are_checked():
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\)"):
        dropout(torch.ones(2), 1.0)
    with pytest.raises(TypeError, match="p must be a number"):
        variational_dropout(torch.ones(2, 3), "half")
    with pytest.raises(ValueError, match="0-dim"):
        drop_weights(torch.ones(2, 2), torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="time dimension"):
        variational_dropout(torch.ones(3), 0.1)
    with pytest.raises(ValueError, match="same shape"):
        zoneout(torch.ones(2), torch.ones(3), 0.1)
    with pytest.raises(ValueError, match="weight_drop must lie"):
        RegularizedLSTM(2, 3, weight_drop=1.5)


def test_drop_weights_masks_entries_and_rescales():
    torch.manual_seed(2)
    weight = torch.randn(40, 30)
    dropped = drop_weights(weight, 0.25)
    zero = dropped == 0
    assert 0.15 < zero.float().mean().item() < 0.35
    assert_close(dropped[~zero], weight[~zero] / 0.75)  # W ⊙ M / (1 - p)


def test_zoneout_keeps_the_previous_value_with_probability_z():
    torch.manual_seed(3)
    previous, candidate = torch.zeros(100_000), torch.ones(100_000)
    mixed = zoneout(previous, candidate, 0.3)
    assert set(mixed.unique().tolist()) == {0.0, 1.0}  # each unit is one or the other
    assert abs((mixed == 0).float().mean().item() - 0.3) < 0.01  # kept with probability z
    keep = torch.tensor([1.0, 0.0, 1.0])
    assert_close(zoneout(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([7.0, 8.0, 9.0]), 0.5,
                         keep=keep), torch.tensor([1.0, 8.0, 3.0]))
    # At test time: the expectation z h_{t-1} + (1 - z) h̃_t.
    assert_close(zoneout(torch.tensor([2.0]), torch.tensor([4.0]), 0.25, training=False),
                 torch.tensor([0.25 * 2.0 + 0.75 * 4.0]))
    assert torch.equal(zoneout(previous, candidate, 0.0), candidate)


def test_without_regularisers_it_is_the_plain_lstm():
    torch.manual_seed(4)
    regularized = RegularizedLSTM(3, 5, 2, batch_first=True)
    plain = LSTM(3, 5, 2, batch_first=True)
    plain.load_state_dict(regularized.weights_state_dict())
    reference = nn.LSTM(3, 5, 2, batch_first=True)
    reference.load_state_dict(regularized.weights_state_dict())
    x = torch.randn(4, 7, 3)
    for mode in ("train", "eval"):
        getattr(regularized, mode)()
        output, (h, c) = regularized(x)
        expected, (h_ref, c_ref) = reference(x)
        assert_close(output, expected, **TOL)
        assert_close(h, h_ref, **TOL)
        assert_close(c, c_ref, **TOL)


def test_evaluation_turns_dropouts_off_and_zoneout_to_its_expectation():
    torch.manual_seed(5)
    rates = {"dropout": 0.3, "variational_dropout": 0.2, "recurrent_dropout": 0.4,
             "weight_drop": 0.5}
    regularized = RegularizedLSTM(3, 4, **rates).eval()
    plain = LSTM(3, 4)
    plain.load_state_dict(regularized.weights_state_dict())
    x = torch.randn(6, 2, 3)
    assert_close(regularized(x)[0], plain(x)[0], **TOL)
    # Zoneout at test time, step by step: h_t = z h_{t-1} + (1 - z) h̃_t, the same for c.
    zoned = RegularizedLSTM(3, 4, zoneout_cell=0.4, zoneout_hidden=0.2).eval()
    zoned.load_state_dict(regularized.weights_state_dict(), strict=False)
    h, c = torch.zeros(2, 4), torch.zeros(2, 4)
    outputs = []
    for x_t in x:
        h_new, c_new = plain.step(F.linear(x_t, plain.weight_ih_l0, plain.bias_ih_l0), (h, c),
                                  plain.weight_hh_l0, plain.bias_hh_l0)
        h, c = 0.2 * h + 0.8 * h_new, 0.4 * c + 0.6 * c_new
        outputs.append(h)
    assert_close(zoned(x)[0], torch.stack(outputs), **TOL)


def test_training_is_random_and_seeded():
    model = RegularizedLSTM(3, 4, batch_first=True, dropout=0.2, recurrent_dropout=0.2,
                            weight_drop=0.3, zoneout_cell=0.3, zoneout_hidden=0.1)
    x = torch.randn(2, 5, 3)
    torch.manual_seed(6)
    first = model(x)[0]
    second = model(x)[0]
    torch.manual_seed(6)
    again = model(x)[0]
    assert not torch.equal(first, second)
    assert torch.equal(first, again)
    first.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_weight_drop_uses_one_mask_for_the_whole_sequence(monkeypatch: pytest.MonkeyPatch):
    model = RegularizedLSTM(2, 3, weight_drop=0.5)
    torch.manual_seed(7)
    calls = []
    original = drop_weights

    def counting(weight, p, training=True):
        calls.append(weight.shape)
        return original(weight, p, training)

    monkeypatch.setattr("rnncourse.models.regularized_lstm.drop_weights", counting)
    model(torch.randn(9, 4, 2))
    assert calls == [(12, 3)]  # one DropConnect draw for nine steps


def test_recurrent_dropout_uses_one_mask_per_sequence(monkeypatch: pytest.MonkeyPatch):
    model = RegularizedLSTM(2, 3, recurrent_dropout=0.5)
    states = []
    from rnncourse.models import regularized_lstm

    original = regularized_lstm.lstm_step_projected

    def spy(x_projection, state, weight_hh, bias_hh):
        states.append(state[0])
        return original(x_projection, state, weight_hh, bias_hh)

    monkeypatch.setattr(regularized_lstm, "lstm_step_projected", spy)
    torch.manual_seed(8)
    model(torch.randn(6, 4, 2) + 1.0)
    dropped = [state == 0 for state in states[1:]]  # h_0 = 0 is all zeros anyway
    for pattern in dropped[1:]:
        assert torch.equal(pattern, dropped[0])  # the same units of each sequence, every step
    assert dropped[0].any() and not dropped[0].all()


def test_char_language_model_starts_from_the_plain_weights():
    plain = CharLanguageModel(11, "lstm", 5, 6, seed=3, backend="rnncourse", device="cpu")
    regularized = regularized_char_language_model(11, 5, 6, seed=3, device="cpu", weight_drop=0.5,
                                                   zoneout_cell=0.2)
    for name, value in plain.state_dict().items():
        assert torch.equal(regularized.state_dict()[name], value), name
    assert regularized.rnn.rates()["weight_drop"] == 0.5
    with pytest.raises(TypeError, match="unknown regulariser"):
        regularized_char_language_model(11, 5, 6, drop_everything=0.5)
    assert set(REGULARIZER_RATES) == set(regularized.rnn.rates())


def test_an_ensemble_runs_each_member_with_its_own_rates():
    rates = [{}, {"weight_drop": 0.5}, {"zoneout_cell": 0.5, "dropout": 0.2}]
    members = [regularized_char_language_model(9, 4, 5, seed=s, device="cpu", **r)
               for s, r in enumerate(rates)]
    ensemble = Ensemble(members)
    ids = torch.randint(0, 9, (3, 2, 6))
    ensemble.eval()  # deterministic: each member's evaluation-mode function
    outputs = ensemble(ids, per_member_inputs=True)
    for k, member in enumerate(members):
        member.eval()
        assert_close(outputs[k], member(ids[k])[0], **TOL)
    ensemble.train()
    torch.manual_seed(9)
    trained = ensemble(ids, per_member_inputs=True)
    # Member 0 has no regulariser: in training it computes exactly its evaluation function.
    assert_close(trained[0], members[0](ids[0])[0], **TOL)
    assert not torch.allclose(trained[1], members[1](ids[1])[0])
    assert ensemble.member(1).rnn.rates()["weight_drop"] == 0.5
