"""`fit_ensemble`: K members trained as one stacked model train as each would alone with `fit`
(its own learning rate, clipping and weight decay), and a diverging member is frozen alone."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from rnncourse.models.ensemble import Ensemble
from rnncourse.models.recurrent_model import RecurrentModel
from rnncourse.training import fit
from rnncourse.training.ensemble_fit import fit_ensemble, per_member

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def model(seed: int) -> RecurrentModel:
    return RecurrentModel("rnn_tanh", input_size=2, hidden_size=5, output_size=1, seed=seed,
                          device="cpu")  # where the batches are, whatever the default device


def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(step)
    return torch.randn(6, 4, 2, generator=generator), torch.randn(6, 1, generator=generator)


def mse_per_member(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return (outputs - targets).pow(2).flatten(1).mean(1)


SETTINGS = [  # (lr, clip_norm, clip_value, weight_decay): one per member
    (0.1, None, None, 0.0),
    (0.3, 0.05, None, 0.0),
    (0.2, None, 0.01, 0.0),
    (0.1, 0.5, None, 0.05),
]


def test_each_member_trains_as_it_would_alone_with_sgd():
    steps = 6
    ensemble = Ensemble([model(seed) for seed in range(len(SETTINGS))])
    run = fit_ensemble(ensemble, batch, mse_per_member, steps=steps, optimizer="sgd",
                       lr=[s[0] for s in SETTINGS], clip_norm=[s[1] for s in SETTINGS],
                       clip_value=[s[2] for s in SETTINGS],
                       weight_decay=[s[3] for s in SETTINGS], record_gradients=[1])
    for k, (lr, clip_norm, clip_value, decay) in enumerate(SETTINGS):
        alone = model(k)
        optimizer = torch.optim.SGD(alone.parameters(), lr=lr, weight_decay=decay)
        history = fit(alone, batch, F.mse_loss, steps=steps, optimizer=optimizer,
                      clip_norm=clip_norm, clip_value=clip_value, device="cpu", progress=False)
        assert run.histories[k].loss == pytest.approx(history.loss, rel=1e-4)
        assert run.histories[k].grad_norm == pytest.approx(history.grad_norm, rel=1e-4)
        for (name, expected), actual in zip(alone.state_dict().items(),
                                            ensemble.member(k).state_dict().values(),
                                            strict=True):
            torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-4, msg=name)
    # The raw gradients of member 1, before clipping: their norms are the recorded ones.
    assert run.gradient_steps[1] == list(range(steps))
    norms = [g.norm().item() for g in run.gradients[1]]
    assert norms == pytest.approx(run.histories[1].grad_norm, rel=1e-4)
    assert sum(run.sizes) == run.gradients[1][0].numel()


def test_rmsprop_with_one_learning_rate_and_evaluation():
    ensemble = Ensemble([model(seed) for seed in range(2)])
    calls = []

    def evaluate(stack: Ensemble) -> torch.Tensor:
        calls.append(stack.training)
        return torch.tensor([1.0, 2.0])

    run = fit_ensemble(ensemble, batch, mse_per_member, steps=5, optimizer="rmsprop", lr=1e-2,
                       clip_norm=1.0, evaluate=evaluate, eval_every=2)
    alone = model(1)
    history = fit(alone, batch, F.mse_loss, steps=5, optimizer="rmsprop", lr=1e-2, clip_norm=1.0,
                  device="cpu", progress=False)
    assert run.histories[1].loss == pytest.approx(history.loss, rel=1e-4)
    assert run.histories[0].eval_step == [1, 3, 4] and run.histories[1].eval_loss[0] == 2.0
    assert calls == [False, False, False]  # evaluated in eval mode


def test_a_diverging_member_is_frozen_and_the_others_train_on():
    ensemble = Ensemble([model(0), model(1)])
    with torch.no_grad():
        ensemble.stacked["head__weight"][0].fill_(1e30)  # member 0 overflows at once
    before = ensemble.member(0).state_dict()
    run = fit_ensemble(ensemble, batch, mse_per_member, steps=4, optimizer="adam", lr=1e-2)
    assert run.histories[0].diverged and len(run.histories[0].loss) == 1
    assert not math.isfinite(run.histories[0].loss[0])
    assert not run.histories[1].diverged and len(run.histories[1].loss) == 4
    for name, value in ensemble.member(0).state_dict().items():
        assert torch.equal(value, before[name]), name  # no update reached the frozen member


def test_arguments_are_checked():
    ensemble = Ensemble([model(0), model(1)])
    with pytest.raises(ValueError, match="needs optimizer='sgd'"):
        fit_ensemble(ensemble, batch, mse_per_member, steps=1, optimizer="adam", lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="by norm or by value, not both"):
        fit_ensemble(ensemble, batch, mse_per_member, steps=1, clip_norm=1.0, clip_value=1.0)
    with pytest.raises(ValueError, match="2 values"):
        per_member("lr", [0.1, 0.2, 0.3], 2, none=0.0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        fit_ensemble(ensemble, batch, mse_per_member, steps=1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="steps must be a positive int"):
        fit_ensemble(ensemble, batch, mse_per_member, steps=0)


def test_batches_are_moved_to_the_members_device():
    """As `fit` does: a batch stream on the CPU trains an ensemble on a GPU. Each batch here is
    an object that only `.to(device)` turns into a tensor, and records the device asked for."""
    asked = []

    class Elsewhere:
        def __init__(self, tensor: torch.Tensor) -> None:
            self.tensor = tensor

        def to(self, device: torch.device) -> torch.Tensor:
            asked.append(torch.device(device))
            return self.tensor.to(device)

    def batches_elsewhere(step: int) -> tuple[Elsewhere, Elsewhere]:
        return tuple(Elsewhere(tensor) for tensor in batch(step))

    ensemble = Ensemble([model(seed) for seed in range(2)])
    run = fit_ensemble(ensemble, batches_elsewhere, mse_per_member, steps=2)
    assert asked == [torch.device("cpu")] * 4
    assert all(len(history.loss) == 2 for history in run.histories)
