"""Multi-digit addition as a character sequence: layout, targets, difficulties, metrics."""

from __future__ import annotations

import pytest
import torch

from rnncourse.data.arithmetic import (
    ADDITION_SYMBOLS,
    IGNORE_INDEX,
    AdditionTask,
    addition_problem,
    decode_addition,
)


def _check_sums(texts: list[str], reverse: bool) -> None:
    for text in texts:
        left, answer = text.split("=")
        a, b = left.split("+")
        if reverse:
            a, b, answer = a[::-1], b[::-1], answer[::-1]
        assert len(a) == len(b) and len(answer) == len(a) + 1, text
        assert int(a) + int(b) == int(answer), text


@pytest.mark.parametrize("reverse", [True, False])
def test_problems_are_correct_sums_of_the_asked_sizes(reverse: bool) -> None:
    difficulties = torch.tensor([1, 2, 3, 4, 4, 2])
    inputs, targets = addition_problem(difficulties, 4, reverse_digits=reverse, seed=0)
    assert inputs.shape == (6, 3 * 4 + 2, len(ADDITION_SYMBOLS))
    assert targets.shape == (6, 3 * 4 + 2)
    texts = decode_addition(inputs, targets)
    assert [len(t.split("+")[0]) for t in texts] == difficulties.tolist()
    _check_sums(texts, reverse)


def test_only_the_answer_digits_are_targets() -> None:
    difficulties = torch.tensor([1, 3])
    _, targets = addition_problem(difficulties, 3, seed=1)
    scored = targets != IGNORE_INDEX
    assert scored.sum(1).tolist() == [2, 4]  # d + 1 answer digits, right-aligned
    assert scored[:, -1].all()
    assert (targets[scored] <= 9).all()


def test_numbers_have_exactly_d_digits() -> None:
    inputs, targets = addition_problem(3, 3, batch_size=500, seed=2)
    for text in decode_addition(inputs, targets):
        a = text.split("+")[0][::-1]
        assert 100 <= int(a) <= 999


def test_seed_reproduces_and_bad_input_raises() -> None:
    first = addition_problem(2, 3, batch_size=4, seed=5)
    second = addition_problem(2, 3, batch_size=4, seed=5)
    torch.testing.assert_close(first[0], second[0])
    torch.testing.assert_close(first[1], second[1])
    with pytest.raises(ValueError, match="difficulties"):
        addition_problem(torch.tensor([0, 2]), 3)
    with pytest.raises(ValueError, match="difficulties"):
        addition_problem(torch.tensor([4]), 3)
    with pytest.raises(ValueError, match="batch_size"):
        addition_problem(2, 3)
    with pytest.raises(TypeError, match="difficulties"):
        addition_problem([1, 2], 3)


def test_task_metrics() -> None:
    task = AdditionTask(2)
    inputs, targets = task.sample(torch.tensor([1, 2, 2]), seed=0)
    perfect = torch.full((*targets.shape, task.output_size), -10.0)
    rows, steps = torch.nonzero(targets != IGNORE_INDEX, as_tuple=True)
    perfect[rows, steps, targets[rows, steps]] = 10.0
    assert task.accuracy(perfect, targets) == 1.0
    assert task.sequence_accuracy(perfect, targets) == 1.0
    assert task.loss(perfect, targets).item() < 1e-6
    wrong = perfect.clone()
    wrong[0, -1] = wrong[0, -1].roll(1)  # one wrong digit in the first example
    assert task.sequence_accuracy(wrong, targets) == pytest.approx(2 / 3)
    assert task.accuracy(wrong, targets) == pytest.approx(7 / 8)
    with pytest.raises(ValueError, match="logits"):
        task.loss(perfect[:, :, :5].flatten(1), targets)
