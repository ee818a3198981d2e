"""The fit loop: learning, gradient norms, clipping, seeding, divergence, progress, checkpoints."""

from __future__ import annotations

import copy
import io
import math
import sys
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from rnncourse.data.synthetic import AddingTask
from rnncourse.models import RecurrentModel
from rnncourse.training import History, fit, gradient_norm, load_checkpoint, make_optimizer

Batch = tuple[torch.Tensor, torch.Tensor]


def _regression_batches(seed: int = 0, batch_size: int = 32) -> Callable[[int], Batch]:
    """A learnable problem: y = x · w_true + noise, a fresh batch at every step."""
    generator = torch.Generator().manual_seed(seed)
    w_true = torch.randn(4, 1, generator=generator)

    def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(batch_size, 4, generator=generator)
        return x, x @ w_true + 0.01 * torch.randn(batch_size, 1, generator=generator)

    return batch


def _linear(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Linear(4, 1)


def _fit_regression(model: nn.Module | None = None, **options: Any) -> History:
    """`fit` of `model` (a fresh `_linear()` by default) on `_regression_batches()` with MSE."""
    model = model if model is not None else _linear()
    return fit(model, _regression_batches(), nn.functional.mse_loss, **options)


# ----------------------------------------------------------------------------------------------
# Learning


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd"])
def test_loss_decreases_on_a_learnable_problem(optimizer: str, device: str) -> None:
    history = _fit_regression(
        steps=200, optimizer=optimizer, lr=0.05, device=device, progress=False
    )
    assert len(history.loss) == len(history.grad_norm) == len(history.step) == 200
    assert history.step == list(range(200))
    assert not history.diverged and history.seconds > 0
    assert sum(history.loss[-10:]) / 10 < 0.01 * sum(history.loss[:10]) / 10


def test_lstm_beats_the_adding_baseline_at_a_short_length(device: str) -> None:
    task = AddingTask(seq_len=10)
    model = RecurrentModel(
        "lstm",
        input_size=task.input_size,
        hidden_size=32,
        output_size=task.output_size,
        readout=task.readout,
        seed=0,
    )
    generator = torch.Generator().manual_seed(0)
    history = fit(
        model,
        lambda step: task.sample(64, generator=generator),
        task.loss,
        steps=300,
        lr=1e-2,
        clip_norm=1.0,
        device=device,
        seed=0,
        progress=False,
    )
    final = sum(history.loss[-20:]) / 20
    assert final < 0.5 * task.baseline_loss(), f"final MSE {final:.3f} vs baseline 1/6"
    assert model.device.type == device


def test_iterable_batches_cycle_and_generators_end() -> None:
    batches = [_regression_batches()(step) for step in range(3)]
    history = fit(_linear(), batches, nn.functional.mse_loss, steps=7, progress=False)
    assert history.step == list(range(7))  # a list starts over, like epochs

    one_shot = (pair for pair in batches)
    history = fit(_linear(), one_shot, nn.functional.mse_loss, steps=7, progress=False)
    assert history.step == [0, 1, 2]  # a generator ends training when it runs out


def test_tuple_outputs_and_model_on_device(device: str) -> None:
    torch.manual_seed(0)
    rnn = nn.RNN(3, 5, batch_first=True)  # returns (output, h_n)
    inputs, targets = torch.randn(2, 4, 3), torch.randn(2, 4, 5)
    history = fit(
        rnn, [(inputs, targets)], nn.functional.mse_loss, steps=2, device=device, progress=False
    )
    assert next(rnn.parameters()).device.type == device
    assert len(history.loss) == 2


def test_evaluation_schedule_and_mode_restored() -> None:
    model = _linear()
    model.eval()
    modes: list[bool] = []

    def evaluate(m: nn.Module) -> float:
        modes.append(m.training)
        assert not torch.is_grad_enabled()
        return 1.5

    history = _fit_regression(model, steps=10, evaluate=evaluate, eval_every=4, progress=False)
    assert history.eval_step == [3, 7, 9]  # every 4 steps and after the last
    assert history.eval_loss == [1.5, 1.5, 1.5]
    assert modes == [False, False, False]
    assert not model.training, "fit gives the model back in the mode it came in"


# ----------------------------------------------------------------------------------------------
# Gradient norms and clipping


def test_grad_norm_is_the_norm_before_clipping() -> None:
    batch = _regression_batches()(0)
    reference = _linear()
    nn.functional.mse_loss(reference(batch[0]), batch[1]).backward()
    expected = nn.utils.clip_grad_norm_(reference.parameters(), 0.1).item()
    assert gradient_norm(reference.parameters()).item() < expected  # clipped now

    history = fit(
        _linear(),
        [batch],
        nn.functional.mse_loss,
        steps=1,
        clip_norm=0.1,
        device="cpu",
        progress=False,
    )
    assert history.grad_norm[0] == pytest.approx(expected, rel=1e-6)
    assert expected > 0.1


@pytest.mark.parametrize(
    ("clip", "bound"), [({"clip_norm": 0.1}, 0.1), ({"clip_value": 0.01}, 0.01 * math.sqrt(5))]
)
def test_clipping_bounds_the_update(clip: dict, bound: float) -> None:
    # With SGD, Δθ = -lr·g, so ‖Δθ‖ ≤ lr · (largest norm the clipping allows).
    x = 100 * torch.randn(32, 4, generator=torch.Generator().manual_seed(0))
    batch = (x, torch.zeros(32, 1) + 100.0)
    lr = 0.5
    before = torch.cat([p.detach().flatten().clone() for p in _linear().parameters()])

    def sgd_step(**clip_options: float) -> tuple[float, float]:
        """(‖Δθ‖, ‖g‖ before clipping) of one SGD step from the same initial weights."""
        model = _linear()
        history = fit(
            model,
            [batch],
            nn.functional.mse_loss,
            steps=1,
            optimizer="sgd",
            lr=lr,
            progress=False,
            **clip_options,
        )
        after = torch.cat([p.detach().flatten() for p in model.parameters()])
        return (after - before).norm().item(), history.grad_norm[0]

    step_size, grad_norm = sgd_step()
    assert step_size == pytest.approx(lr * grad_norm, rel=1e-5)
    assert grad_norm > 100 * bound  # the gradient is far larger than the bound

    step_size, _ = sgd_step(**clip)
    assert step_size <= lr * bound * (1 + 1e-5)


# ----------------------------------------------------------------------------------------------
# Seeding and divergence


def test_same_seed_same_history() -> None:
    def run(seed: int) -> History:
        def batches(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            x = torch.randn(8, 4)  # the global generator: seeded by fit
            return x, x.sum(dim=1, keepdim=True)

        # The model is built before fit, so its initialisation is seeded here.
        torch.manual_seed(123)
        model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 1))
        return fit(model, batches, nn.functional.mse_loss, steps=20, seed=seed, progress=False)

    first, again, other = run(0), run(0), run(1)
    assert first.loss == again.loss and first.grad_norm == again.grad_norm
    assert first.loss != other.loss


def test_nonfinite_loss_stops_and_marks_divergence() -> None:
    model = _linear()
    before = copy.deepcopy(model.state_dict())

    def infinite_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (outputs - targets).pow(2).mean() * float("inf")

    history = fit(model, _regression_batches(), infinite_loss, steps=50, progress=False)
    assert history.diverged
    assert len(history.loss) == 1 and not math.isfinite(history.loss[0])
    for name, value in model.state_dict().items():  # the bad update never reached the weights
        assert torch.equal(value, before[name]), name


def test_huge_learning_rate_diverges_and_training_can_go_on() -> None:
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    batch = (x, x.sum(dim=1, keepdim=True))

    def fit_at_learning_rate_10(steps: int, **options: bool) -> History:
        return fit(
            _linear(),
            [batch],
            nn.functional.mse_loss,
            steps=steps,
            optimizer="sgd",
            lr=10.0,
            progress=False,
            **options,
        )

    history = fit_at_learning_rate_10(500)
    assert history.diverged and len(history.loss) < 500
    assert not math.isfinite(history.loss[-1]) or not math.isfinite(history.grad_norm[-1])

    history = fit_at_learning_rate_10(50, stop_on_nonfinite=False)
    assert history.diverged and len(history.loss) == 50  # recorded, but training went on


# ----------------------------------------------------------------------------------------------
# Progress bar


def test_progress_off_writes_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    _fit_regression(steps=5, progress=False)
    _fit_regression(steps=5)  # auto: not a tty
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_on_shows_loss(capfd: pytest.CaptureFixture[str]) -> None:
    _fit_regression(steps=5, progress=True)
    captured = capfd.readouterr()
    assert "loss=" in captured.err and captured.out == ""


@pytest.mark.parametrize(
    ("variable", "shown"), [(None, True), ("CI", False), ("NBGRADER_EXECUTION", False)]
)
def test_progress_auto(monkeypatch: pytest.MonkeyPatch, variable: str | None, shown: bool) -> None:
    # progress=None: a bar only in a terminal, and never under CI or nbgrader.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    if variable is not None:
        monkeypatch.setenv(variable, "1")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _fit_regression(steps=3, progress=None)
    assert ("loss=" in terminal.getvalue()) is shown


# ----------------------------------------------------------------------------------------------
# Checkpoints


def test_checkpoint_round_trip(tmp_path, device: str) -> None:
    path = tmp_path / "run" / "checkpoint.pt"
    model = _linear(seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    history = _fit_regression(
        model, steps=5, optimizer=optimizer, device=device, checkpoint_path=path, progress=False
    )
    assert path.exists()

    restored = _linear(seed=1)
    restored_optimizer = torch.optim.Adam(restored.parameters(), lr=0.01)
    loaded = load_checkpoint(path, restored, restored_optimizer)  # onto the CPU
    assert loaded == history
    for name, value in model.state_dict().items():
        assert torch.equal(restored.state_dict()[name], value.cpu()), name
    saved_state = optimizer.state_dict()["state"]
    for index, state in restored_optimizer.state_dict()["state"].items():
        assert torch.equal(state["exp_avg"], saved_state[index]["exp_avg"].cpu())


# ----------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"steps": 0}, "steps must be a positive int, got 0"),
        ({"steps": 5, "lr": 0.0}, "lr must be positive, got 0.0"),
        ({"steps": 5, "clip_norm": 0.0}, "clip_norm must be positive"),
        ({"steps": 5, "clip_value": -1.0}, "clip_value must be positive"),
        ({"steps": 5, "clip_norm": 1.0, "clip_value": 1.0}, "clip_norm or clip_value, not both"),
        ({"steps": 5, "optimizer": "adamw2"}, "optimizer must be one of adam, rmsprop, sgd"),
        ({"steps": 5, "eval_every": 2}, "eval_every was given without an evaluate function"),
        (
            {"steps": 5, "evaluate": lambda m: 0.0, "eval_every": 0},
            "eval_every must be a positive int, got 0",
        ),
    ],
)
def test_bad_arguments_raise_value_error(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _fit_regression(progress=False, **arguments)


def test_bad_types_raise_type_error() -> None:
    with pytest.raises(TypeError, match="optimizer must be a name"):
        make_optimizer(3, _linear().parameters(), 0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="batches must be a callable"):
        fit(_linear(), 3, nn.functional.mse_loss, steps=1, progress=False)  # type: ignore[arg-type]
