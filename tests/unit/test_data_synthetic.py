"""Synthetic tasks: shapes, seeding, correctness of targets, and the published baselines."""

from __future__ import annotations

import math

import pytest
import torch

from rnncourse.data.synthetic import (
    AddingTask,
    CopyTask,
    adding_baseline_mse,
    adding_problem,
    copy_memory,
    copy_memory_baseline_loss,
)

# ----------------------------------------------------------------------------------------------
# Adding problem


def test_adding_shapes_dtypes_device(device: str) -> None:
    inputs, targets = adding_problem(5, 11, seed=0, device=device)
    assert inputs.shape == (5, 11, 2)
    assert targets.shape == (5, 1)
    assert inputs.dtype == targets.dtype == torch.float32
    assert inputs.device.type == targets.device.type == device


def test_adding_same_data_on_every_device(device: str) -> None:
    cpu_inputs, _ = adding_problem(4, 10, seed=3, device="cpu")
    inputs, _ = adding_problem(4, 10, seed=3, device=device)
    torch.testing.assert_close(inputs.cpu(), cpu_inputs, rtol=0, atol=0)


def test_adding_seeding() -> None:
    first, first_targets = adding_problem(8, 20, seed=1, device="cpu")
    again, again_targets = adding_problem(8, 20, seed=1, device="cpu")
    other, _ = adding_problem(8, 20, seed=2, device="cpu")
    assert torch.equal(first, again) and torch.equal(first_targets, again_targets)
    assert not torch.equal(first, other)


def test_adding_generator_and_global_seed() -> None:
    from_generator, _ = adding_problem(4, 10, generator=torch.Generator().manual_seed(5))
    from_seed, _ = adding_problem(4, 10, seed=5, device="cpu")
    assert torch.equal(from_generator, from_seed)

    torch.manual_seed(7)
    global_first, _ = adding_problem(4, 10, device="cpu")
    torch.manual_seed(7)
    global_again, _ = adding_problem(4, 10, device="cpu")
    assert torch.equal(global_first, global_again)


@pytest.mark.parametrize("seq_len", [2, 3, 10, 101])
def test_adding_one_marker_per_half_and_target(seq_len: int) -> None:
    inputs, targets = adding_problem(500, seq_len, seed=0, device="cpu")
    values, markers = inputs[..., 0], inputs[..., 1]
    half = seq_len // 2
    assert ((values >= 0) & (values < 1)).all()
    assert set(markers.unique().tolist()) <= {0.0, 1.0}
    assert (markers[:, :half].sum(dim=1) == 1).all(), "exactly one marker in the first half"
    assert (markers[:, half:].sum(dim=1) == 1).all(), "exactly one marker in the second half"
    first, second = markers[:, :half].argmax(dim=1), half + markers[:, half:].argmax(dim=1)
    rows = torch.arange(500)
    expected = values[rows, first] + values[rows, second]
    torch.testing.assert_close(targets[:, 0], expected)


def test_adding_markers_cover_each_half() -> None:
    # Positions are uniform in each half: with 4000 draws over 5 positions, every one appears.
    inputs, _ = adding_problem(4000, 10, seed=0, device="cpu")
    counts = inputs[..., 1].sum(dim=0)
    assert (counts[:5] > 600).all() and (counts[5:] > 600).all()
    assert counts[:5].sum() == counts[5:].sum() == 4000


def test_adding_baseline_holds_on_sampled_data() -> None:
    # MSE of predicting 1 estimates Var(u_p + u_q) = 1/6; with n = 100k samples its standard
    # error is sqrt(Var((y-1)^2) / n) = sqrt((E[(y-1)^4] - 1/36) / n) with E[(y-1)^4] = 1/15,
    # about 6.3e-4, so 0.003 is almost 5 standard errors.
    _, targets = adding_problem(100_000, 50, seed=0, device="cpu")
    mse = ((targets - 1.0) ** 2).mean().item()
    assert adding_baseline_mse() == pytest.approx(1 / 6)
    assert mse == pytest.approx(1 / 6, abs=0.003)
    assert AddingTask(50).loss(torch.ones_like(targets), targets).item() == pytest.approx(mse)


# ----------------------------------------------------------------------------------------------
# Copy memory


def test_copy_shapes_dtypes_device(device: str) -> None:
    inputs, targets = copy_memory(3, 7, num_symbols=4, copy_length=5, seed=0, device=device)
    assert inputs.shape == (3, 7 + 2 * 5, 4 + 2)
    assert targets.shape == (3, 7 + 2 * 5)
    assert inputs.dtype == torch.float32 and targets.dtype == torch.long
    assert inputs.device.type == targets.device.type == device
    assert (inputs.sum(dim=-1) == 1).all(), "inputs are one-hot"


def test_copy_seeding() -> None:
    first = copy_memory(8, 30, seed=1, device="cpu")
    again = copy_memory(8, 30, seed=1, device="cpu")
    other = copy_memory(8, 30, seed=2, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[1], other[1])


@pytest.mark.parametrize("delay", [1, 2, 25])
def test_copy_layout(delay: int) -> None:
    num_symbols, copy_length = 8, 10
    blank, delimiter = num_symbols, num_symbols + 1
    inputs, targets = copy_memory(
        64, delay, num_symbols=num_symbols, copy_length=copy_length, seed=0, device="cpu"
    )
    symbols = inputs.argmax(dim=-1)
    data = symbols[:, :copy_length]
    assert ((data >= 0) & (data < num_symbols)).all()
    assert (symbols[:, copy_length : copy_length + delay - 1] == blank).all()
    assert (symbols[:, copy_length + delay - 1] == delimiter).all()
    assert (symbols[:, copy_length + delay :] == blank).all()
    assert ((symbols == delimiter).sum(dim=1) == 1).all()

    assert (targets[:, : delay + copy_length] == blank).all()
    assert torch.equal(targets[:, delay + copy_length :], data)


def _memoryless_logits(targets: torch.Tensor, num_symbols: int, copy_length: int) -> torch.Tensor:
    """Blank with certainty until the delimiter, then uniform over the data symbols."""
    batch, seq_len = targets.shape
    impossible = -1e9  # log-probability ~ -inf, but finite so nothing turns into nan
    logits = torch.full((batch, seq_len, num_symbols + 1), impossible)
    logits[:, :-copy_length, num_symbols] = 0.0  # the blank
    logits[:, -copy_length:, :num_symbols] = 0.0  # equal logits for the K data symbols
    return logits


@pytest.mark.parametrize(
    ("delay", "published"), [(100, 0.173), (200, 0.095), (300, 0.065), (500, 0.040)]
)
def test_copy_baseline_matches_published(delay: int, published: float) -> None:
    assert copy_memory_baseline_loss(delay) == pytest.approx(published, abs=5e-4)
    assert CopyTask(delay).baseline_loss() == copy_memory_baseline_loss(delay)


@pytest.mark.parametrize(("delay", "num_symbols", "copy_length"), [(100, 8, 10), (7, 3, 4)])
def test_copy_baseline_holds_on_sampled_data(
    delay: int, num_symbols: int, copy_length: int
) -> None:
    task = CopyTask(delay, num_symbols=num_symbols, copy_length=copy_length)
    _, targets = task.sample(256, seed=0, device="cpu")
    logits = _memoryless_logits(targets, num_symbols, copy_length)
    assert logits.shape[-1] == task.output_size
    # The memoryless loss does not depend on the data: it equals the formula up to rounding.
    assert task.loss(logits, targets).item() == pytest.approx(task.baseline_loss(), rel=1e-5)
    # Its accuracy on the copied symbols is chance, 1/K.
    assert task.accuracy(logits, targets) == pytest.approx(1 / num_symbols, abs=0.1)


def test_copy_accuracy_perfect_predictions() -> None:
    task = CopyTask(5, num_symbols=4, copy_length=3)
    _, targets = task.sample(10, seed=0, device="cpu")
    logits = torch.nn.functional.one_hot(targets, task.output_size).float()
    assert task.accuracy(logits, targets) == 1.0
    assert task.loss(logits * 50, targets).item() < 1e-6


# ----------------------------------------------------------------------------------------------
# Task objects


def test_task_objects_describe_their_models() -> None:
    adding = AddingTask(30)
    assert (adding.input_size, adding.output_size, adding.readout) == (2, 1, "last")
    copy = CopyTask(100)
    assert (copy.input_size, copy.output_size, copy.readout) == (10, 9, "all")
    assert copy.seq_len == 120
    inputs, targets = copy.sample(2, seed=0, device="cpu")
    assert inputs.shape == (2, 120, 10) and targets.shape == (2, 120)
    inputs, targets = adding.sample(2, seed=0, device="cpu")
    assert inputs.shape == (2, 30, 2) and targets.shape == (2, 1)
    with pytest.raises(AttributeError):
        adding.seq_len = 5  # type: ignore[misc]  # frozen


def test_task_losses_train_a_model(device: str) -> None:
    # The losses are differentiable and fit what a readout="all" model returns.
    task = CopyTask(3, num_symbols=4, copy_length=2)
    inputs, targets = task.sample(4, seed=0, device=device)
    layer = torch.nn.Linear(task.input_size, task.output_size).to(device)
    loss = task.loss(layer(inputs), targets)
    loss.backward()
    assert layer.weight.grad is not None and math.isfinite(loss.item())


@pytest.mark.parametrize("task", [AddingTask(6), CopyTask(4, num_symbols=3, copy_length=2)])
def test_tasks_pair_with_recurrent_model(task: AddingTask | CopyTask, device: str) -> None:
    from rnncourse.models import RecurrentModel

    model = RecurrentModel(
        "gru",
        input_size=task.input_size,
        hidden_size=5,
        output_size=task.output_size,
        readout=task.readout,
        device=device,
        seed=0,
    )
    inputs, targets = task.sample(3, seed=0, device=device)
    loss = task.loss(model(inputs), targets)
    assert loss.dim() == 0 and math.isfinite(loss.item())


def test_losses_reject_mismatched_shapes() -> None:
    _, targets = adding_problem(4, 10, seed=0, device="cpu")
    with pytest.raises(ValueError, match=r"predictions must have shape \(B, 1\)"):
        AddingTask(10).loss(torch.zeros(4), targets)
    task = CopyTask(5)
    _, targets = task.sample(4, seed=0, device="cpu")
    with pytest.raises(ValueError, match="predictions must be logits"):
        task.loss(torch.zeros(4, task.output_size), targets)


# ----------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: adding_problem(0, 10), "batch_size must be at least 1, got 0"),
        (lambda: adding_problem(4, 1), r"seq_len must be at least 2 \(one marker in each half\)"),
        (lambda: adding_problem(4, 10, seed=1, generator=torch.Generator()), "seed or generator"),
        (lambda: copy_memory(-1, 10), "batch_size must be at least 1, got -1"),
        (lambda: copy_memory(4, 0), "delay must be at least 1"),
        (lambda: copy_memory(4, 10, num_symbols=0), "num_symbols must be at least 1, got 0"),
        (lambda: copy_memory(4, 10, copy_length=0), "copy_length must be at least 1, got 0"),
        (lambda: copy_memory_baseline_loss(0), "delay must be at least 1"),
        (lambda: AddingTask(1), "seq_len must be at least 2"),
        (lambda: CopyTask(10, num_symbols=0), "num_symbols must be at least 1"),
    ],
)
def test_bad_input_raises_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_non_integer_lengths_raise_type_error() -> None:
    with pytest.raises(TypeError, match="seq_len must be an int, got float"):
        adding_problem(4, 10.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="delay must be an int"):
        CopyTask("10")  # type: ignore[arg-type]
