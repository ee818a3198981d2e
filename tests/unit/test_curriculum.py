"""Curricula: length schedules, mastery-driven levels, Zaremba and Sutskever's strategies, and
their use with the fit loop (chapter 5's experiments: tests/chapters/)."""

from __future__ import annotations

import pytest
import torch

from rnncourse.data.synthetic import AddingTask
from rnncourse.models import RecurrentModel
from rnncourse.training import fit
from rnncourse.training.curriculum import (
    ConstantLength,
    LinearLength,
    MasteryCurriculum,
    ScheduledBatches,
    SteppedLength,
    mastery_evaluator,
)
from rnncourse.training.curriculum_strategies import STRATEGIES, CurriculumStrategy

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# ----------------------------------------------------------------------------------------------
# Length schedules


def test_constant_length_never_changes() -> None:
    schedule = ConstantLength(50)
    assert [schedule(step) for step in (0, 1, 10_000)] == [50, 50, 50]


def test_linear_length_ramps_then_stays() -> None:
    schedule = LinearLength(10, 110, ramp_steps=100)
    assert schedule(0) == 10
    assert schedule(50) == 60
    assert schedule(100) == 110
    assert schedule(5_000) == 110


def test_stepped_length_follows_its_formula() -> None:
    schedule = SteppedLength(start=10, end=45, increment=10, every=100)
    expected = {0: 10, 99: 10, 100: 20, 250: 30, 399: 40, 400: 45, 10_000: 45}
    assert {step: schedule(step) for step in expected} == expected


@pytest.mark.parametrize("make", [
    lambda: ConstantLength(0),
    lambda: LinearLength(20, 10, 5),
    lambda: SteppedLength(10, 20, 0, 5),
    lambda: SteppedLength(10, 20, 1, 0),
    lambda: MasteryCurriculum([], 0.1),
    lambda: MasteryCurriculum([5, 10], float("nan")),
])
def test_bad_schedule_arguments_raise(make) -> None:
    with pytest.raises((ValueError, TypeError)):
        make()


def test_schedules_reject_negative_steps() -> None:
    with pytest.raises(ValueError, match="step"):
        SteppedLength(1, 5, 1, 1)(-1)


# ----------------------------------------------------------------------------------------------
# Mastery


def test_mastery_advances_on_a_low_loss_and_records_stages() -> None:
    curriculum = MasteryCurriculum([10, 20, 40], threshold=0.05)
    assert curriculum(0) == 10
    assert not curriculum.observe(0.2)  # not mastered yet
    assert curriculum.observe(0.01)  # mastered: next level
    assert curriculum(30) == 20 and curriculum(31) == 20
    assert curriculum.observe(0.04)
    assert curriculum(60) == 40 and curriculum.finished
    assert not curriculum.observe(0.0)  # the target is the last level
    assert curriculum.stages == [(0, 10), (30, 20), (60, 40)]


def test_mastery_with_accuracy_and_patience() -> None:
    curriculum = MasteryCurriculum([1, 2, 3], threshold=0.9, higher_is_better=True, patience=2)
    assert not curriculum.observe(0.5)
    assert not curriculum.observe(0.6)  # progress: a new best
    assert not curriculum.observe(0.55)  # one without progress
    assert curriculum.observe(0.58)  # two in a row: move on although 0.9 was never reached
    assert curriculum.level == 2
    assert curriculum.observe(0.95)  # mastered at once
    assert curriculum.level == 3


# ----------------------------------------------------------------------------------------------
# Strategies


def test_strategy_distributions_match_their_definitions() -> None:
    target = 4
    uniform = torch.full((target,), 0.25)
    none = CurriculumStrategy("none", target)
    naive = CurriculumStrategy("naive", target)
    mix = CurriculumStrategy("mix", target)
    combined = CurriculumStrategy("combined", target, mix_fraction=0.4)
    torch.testing.assert_close(none.distribution(), torch.tensor([0.0, 0, 0, 1]))
    torch.testing.assert_close(naive.distribution(), torch.tensor([1.0, 0, 0, 0]))
    torch.testing.assert_close(mix.distribution(), uniform)
    torch.testing.assert_close(combined.distribution(),
                               0.6 * torch.tensor([1.0, 0, 0, 0]) + 0.4 * uniform)
    for strategy in (none, naive, mix, combined):
        assert abs(float(strategy.distribution().sum()) - 1) < 1e-6


def test_naive_and_combined_move_up_and_the_others_do_not() -> None:
    strategies = {name: CurriculumStrategy(name, 3, threshold=0.9) for name in STRATEGIES}
    for strategy in strategies.values():
        strategy.observe(0.95)
    assert strategies["naive"].level == 2 and strategies["combined"].level == 2
    assert strategies["none"].level == 3 and strategies["mix"].level == 3
    assert strategies["none"].finished and strategies["mix"].finished
    assert not strategies["naive"].finished


def test_sampled_difficulties_follow_the_distribution() -> None:
    generator = torch.Generator().manual_seed(0)
    combined = CurriculumStrategy("combined", 5, mix_fraction=0.5)
    draws = combined.sample(20_000, generator)
    assert draws.dtype == torch.long and draws.min() >= 1 and draws.max() <= 5
    shares = torch.bincount(draws, minlength=6)[1:].float() / len(draws)
    torch.testing.assert_close(shares, combined.distribution(), atol=0.015, rtol=0)


def test_strategy_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="name"):
        CurriculumStrategy("easy-first", 3)
    with pytest.raises(ValueError, match="mix_fraction"):
        CurriculumStrategy("combined", 3, mix_fraction=1.5)
    with pytest.raises(TypeError, match="target"):
        CurriculumStrategy("mix", 2.5)


# ----------------------------------------------------------------------------------------------
# With the fit loop


def test_scheduled_batches_give_fit_growing_lengths() -> None:
    schedule = SteppedLength(start=4, end=12, increment=4, every=3)
    batches = ScheduledBatches(
        schedule, lambda length, generator: AddingTask(length).sample(8, generator=generator),
        seed=0)
    model = RecurrentModel("lstm", input_size=2, hidden_size=4, output_size=1, backend="torch",
                           device="cpu", seed=0)
    history = fit(model, batches, AddingTask(4).loss, steps=9, device="cpu", progress=False)
    assert len(history.loss) == 9
    assert batches.levels == [4, 4, 4, 8, 8, 8, 12, 12, 12]


def test_scheduled_batches_are_reproducible_with_a_seed() -> None:
    def make(length, generator):
        return AddingTask(length).sample(4, generator=generator)

    first = ScheduledBatches(ConstantLength(6), make, seed=3)
    second = ScheduledBatches(ConstantLength(6), make, seed=3)
    torch.testing.assert_close(first(0)[0], second(0)[0])


def test_mastery_evaluator_drives_the_curriculum_and_returns_the_target_score() -> None:
    curriculum = MasteryCurriculum([1, 2, 3], threshold=0.5)
    scores = iter([0.9, 0.1, 0.2])
    trace: list[tuple[float, int]] = []
    evaluate = mastery_evaluator(curriculum, lambda model, level: next(scores),
                                 lambda model: 7.0, trace=trace)
    assert evaluate(None) == 7.0 and curriculum.level == 1
    assert evaluate(None) == 7.0 and curriculum.level == 2
    assert evaluate(None) == 7.0 and curriculum.level == 3
    assert evaluate(None) == 7.0  # finished: the level is no longer scored
    assert trace == [(0.9, 1), (0.1, 1), (0.2, 2)]


# ----------------------------------------------------------------------------------------------
# The chapter's experiments, at toy size
