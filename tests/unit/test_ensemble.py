"""`Ensemble`: K models stacked and run with vmap compute what the K models compute alone, and
train as they would alone (element-wise optimiser, per-member clipping)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.models.ensemble import Ensemble, clip_grad_norm_per_member_, member_gradient_norms
from rnncourse.models.recurrent_model import RecurrentModel

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def members(count: int, cell: str = "lstm", **kwargs) -> list[RecurrentModel]:
    kwargs = {"device": "cpu", **kwargs}  # the data are on the CPU, whatever the default device
    return [RecurrentModel(cell, input_size=2, hidden_size=6, output_size=1, seed=seed, **kwargs)
            for seed in range(count)]


def data(seed: int = 0, batch: int = 5, length: int = 7) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, length, 2, generator=generator),
            torch.randn(batch, 1, generator=generator))


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
def test_outputs_are_the_members_outputs(cell: str) -> None:
    models = members(3, cell)
    ensemble = Ensemble(models)
    inputs, _ = data()
    outputs = ensemble(inputs)
    assert outputs.shape == (3, 5, 1)
    for k, model in enumerate(models):
        torch.testing.assert_close(outputs[k], model(inputs), atol=1e-6, rtol=1e-5)


def test_per_member_inputs() -> None:
    models = members(2)
    ensemble = Ensemble(models)
    batches = torch.stack([data(seed)[0] for seed in range(2)])
    outputs = ensemble(batches, per_member_inputs=True)
    for k, model in enumerate(models):
        torch.testing.assert_close(outputs[k], model(batches[k]), atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="leading axis of size 2"):
        ensemble(batches[:1], per_member_inputs=True)


def train_alone(model: nn.Module, steps: int, clip: float) -> nn.Module:
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for step in range(steps):
        inputs, targets = data(step)
        optimizer.zero_grad()
        F.mse_loss(model(inputs), targets).backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
    return model


def test_training_the_ensemble_trains_each_member_as_if_alone() -> None:
    steps, clip = 5, 0.1  # a small clip, so that clipping acts on every step
    ensemble = Ensemble(members(3))
    optimizer = torch.optim.Adam(ensemble.parameters(), lr=0.05)
    for step in range(steps):
        inputs, targets = data(step)
        optimizer.zero_grad()
        outputs = ensemble(inputs)  # (K, B, 1)
        losses = ((outputs - targets) ** 2).mean(dim=(1, 2))  # one loss per member
        losses.sum().backward()  # ∂(Σ L_k)/∂θ_k = ∂L_k/∂θ_k
        norms = clip_grad_norm_per_member_(ensemble, clip)
        assert (norms > clip).all()
        optimizer.step()
    for k, model in enumerate(members(3)):
        alone = train_alone(model, steps, clip)
        trained = ensemble.member(k)
        for (name, expected), actual in zip(alone.state_dict().items(),
                                            trained.state_dict().values(), strict=True):
            torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-4, msg=name)


def test_member_gradient_norms_match_each_members_own_norm() -> None:
    models = members(2)
    ensemble = Ensemble(models)
    inputs, targets = data()
    ((ensemble(inputs) - targets) ** 2).mean(dim=(1, 2)).sum().backward()
    norms = member_gradient_norms(ensemble)
    for k, model in enumerate(models):
        F.mse_loss(model(inputs), targets).backward()
        expected = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))
        torch.testing.assert_close(norms[k], expected, atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="max_norm must be positive"):
        clip_grad_norm_per_member_(ensemble, 0.0)


def test_random_operations_differ_between_members() -> None:
    """Dropout inside a member draws its own masks: identical members give different outputs
    in training mode, identical ones in eval mode."""
    model = nn.Sequential(nn.Linear(4, 64), nn.Dropout(0.5))
    ensemble = Ensemble([model, model])
    inputs = torch.ones(3, 4)
    training = ensemble(inputs)
    assert not torch.equal(training[0], training[1])
    ensemble.eval()
    evaluation = ensemble(inputs)
    assert torch.equal(evaluation[0], evaluation[1])


def test_members_must_share_shapes() -> None:
    small = RecurrentModel("lstm", input_size=2, hidden_size=4, output_size=1, seed=0,
                           device="cpu")
    with pytest.raises(ValueError, match="same parameter names and shapes"):
        Ensemble([small, members(1)[0]])
    with pytest.raises(TypeError, match="non-empty sequence"):
        Ensemble([])
    with pytest.raises(IndexError, match="member index"):
        Ensemble(members(2)).member(2)
