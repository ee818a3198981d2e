"""Clipping by norm and by value, and the training step that applies them: the same numbers as
torch.nn.utils, bit for bit, so the course's fit loop trains exactly as torch's clipping would."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rnncourse.training import (
    clip_gradients_by_norm_,
    clip_gradients_by_value_,
    gradient_norm,
    training_step,
)


def parameters_with_gradients(scale: float, seed: int, missing: bool = False) -> list[nn.Parameter]:
    generator = torch.Generator().manual_seed(seed)
    shapes = [(7, 3), (3,), (11, 5, 2), (1,)]
    parameters = [nn.Parameter(torch.zeros(shape)) for shape in shapes]
    for index, parameter in enumerate(parameters):
        if missing and index == 1:
            continue  # a parameter the loss did not reach: no .grad
        parameter.grad = torch.randn(parameter.shape, generator=generator) * scale
    return parameters


def copies(parameters: list[nn.Parameter]) -> list[nn.Parameter]:
    result = []
    for parameter in parameters:
        twin = nn.Parameter(parameter.detach().clone())
        twin.grad = None if parameter.grad is None else parameter.grad.clone()
        result.append(twin)
    return result


@pytest.mark.parametrize("scale", [1e-6, 0.3, 1.0, 50.0, 1e8])
@pytest.mark.parametrize("missing", [False, True])
def test_norm_clipping_is_torchs_bit_for_bit(scale: float, missing: bool) -> None:
    for seed in range(5):
        ours = parameters_with_gradients(scale, seed, missing)
        theirs = copies(ours)
        norm = clip_gradients_by_norm_(ours, 1.0)
        expected = nn.utils.clip_grad_norm_(theirs, 1.0)
        assert torch.equal(norm, expected)
        for mine, reference in zip(ours, theirs, strict=True):
            assert (mine.grad is None) == (reference.grad is None)
            if mine.grad is not None:
                assert torch.equal(mine.grad, reference.grad)
        assert gradient_norm(ours) <= 1.0 + 1e-6


def test_norm_clipping_keeps_the_direction_and_leaves_small_gradients_alone() -> None:
    small = parameters_with_gradients(1e-3, 0)
    before = [p.grad.clone() for p in small]
    clip_gradients_by_norm_(small, 1.0)
    assert all(torch.equal(p.grad, g) for p, g in zip(small, before, strict=True))
    large = parameters_with_gradients(100.0, 1)
    flat_before = torch.cat([p.grad.flatten() for p in large])
    clip_gradients_by_norm_(large, 2.0)
    flat_after = torch.cat([p.grad.flatten() for p in large])
    assert torch.nn.functional.cosine_similarity(flat_before, flat_after, dim=0) > 1 - 1e-6
    assert flat_after.norm() == pytest.approx(2.0, rel=1e-5)


@pytest.mark.parametrize("limit", [1e-3, 0.5, 10.0])
def test_value_clipping_is_torchs_bit_for_bit(limit: float) -> None:
    ours = parameters_with_gradients(3.0, 2, missing=True)
    theirs = copies(ours)
    clip_gradients_by_value_(ours, limit)
    nn.utils.clip_grad_value_(theirs, limit)
    for mine, reference in zip(ours, theirs, strict=True):
        if mine.grad is not None:
            assert torch.equal(mine.grad, reference.grad) and mine.grad.abs().max() <= limit


def test_an_infinite_norm_makes_the_gradients_nan_as_in_torch() -> None:
    ours = parameters_with_gradients(1.0, 3)
    ours[0].grad[0, 0] = math.inf
    theirs = copies(ours)
    assert math.isinf(clip_gradients_by_norm_(ours, 1.0))
    nn.utils.clip_grad_norm_(theirs, 1.0)
    for mine, reference in zip(ours, theirs, strict=True):
        assert torch.equal(mine.grad.isnan(), reference.grad.isnan())


@pytest.mark.parametrize("bad", [0, -1.0, "1", True, None])
def test_bad_thresholds_are_named(bad: object) -> None:
    with pytest.raises(ValueError, match="max_norm"):
        clip_gradients_by_norm_(parameters_with_gradients(1.0, 0), bad)
    with pytest.raises(ValueError, match="limit"):
        clip_gradients_by_value_(parameters_with_gradients(1.0, 0), bad)


def test_training_step_records_the_norm_before_clipping_and_updates() -> None:
    model = nn.Linear(3, 1)
    inputs, targets = torch.randn(8, 3), torch.randn(8, 1) * 100
    before = model.weight.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = training_step(model, inputs, targets, nn.functional.mse_loss, optimizer,
                           clip_norm=1.0)
    assert result.finite and result.grad_norm > 1.0, "recorded before clipping"
    assert gradient_norm(model.parameters()) <= 1.0 + 1e-5, "the update used clipped gradients"
    assert not torch.equal(model.weight, before)


def test_training_step_makes_no_update_on_a_non_finite_loss() -> None:
    model = nn.Linear(3, 1)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    targets = torch.full((4, 1), math.inf)
    result = training_step(model, torch.randn(4, 3), targets, nn.functional.mse_loss, optimizer)
    assert not result.finite
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before, strict=True))


def test_fit_takes_every_step_with_training_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The step the pages show is the step fit takes."""
    from rnncourse.training import fit, loop

    calls = []

    def counted(*arguments, **options):
        calls.append(options)
        return training_step(*arguments, **options)

    monkeypatch.setattr(loop, "training_step", counted)
    batches = [(torch.randn(4, 3), torch.randn(4, 1))]
    history = fit(nn.Linear(3, 1), batches, nn.functional.mse_loss, steps=3, clip_value=0.5,
                  progress=False)
    assert len(calls) == len(history.step) == 3
    assert all(call["clip_value"] == 0.5 for call in calls)
