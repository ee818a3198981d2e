"""Chapter 3's sentences about its own runs (claims.py), on results built for the purpose: each
claim is checked on a result where one side wins and on one where the other does."""

from __future__ import annotations

import math
import re

import pytest
import torch

from rnncourse.chapters.ch03_lstm_gru.claims import (
    adding_claim,
    copy_claim,
    forget_bias_claim,
    gradient_flow_claim,
    inspection_claim,
    number,
)
from rnncourse.chapters.ch03_lstm_gru.figures import long_range_table, seeds_caption
from rnncourse.chapters.ch03_lstm_gru.gradient_flow import (
    ForgetBiasDecay,
    GateInspection,
    GradientFlowResult,
)
from rnncourse.chapters.ch03_lstm_gru.long_range import LongRangeSettings
from rnncourse.chapters.ch03_lstm_gru.results import LongRangeResult, TaskRun
from rnncourse.training.diagnostics import HiddenStateGradients

ADDING_BASELINE, COPY_BASELINE = 1 / 6, 10 * math.log(8) / 30


def run(task: str, length: int, cell: str, seed: int, loss: float, steps: int = 100,
        solved: bool = False, accuracy: float | None = None) -> TaskRun:
    baseline = ADDING_BASELINE if task == "adding" else 10 * math.log(8) / (length + 20)
    return TaskRun(task=task, length=length, cell=cell, hidden_size=8, parameters=100,
                   baseline=baseline, final_loss=loss, steps=steps, solved=solved,
                   diverged=False, seconds=0.0, seed=seed, accuracy=accuracy)


def adding_result(solver: str, failer: str, seeds: int = 3) -> LongRangeResult:
    """`solver` solves the adding problem at T = 20 and 50 in every seed (more steps at 50),
    `failer` in none, ending 5% above the baseline; the third cell solves one seed of three."""
    runs = []
    third = ({"rnn_tanh", "lstm", "gru"} - {solver, failer}).pop()
    for length, steps in ((20, 200), (50, 400)):
        for seed in range(seeds):
            runs.append(run("adding", length, solver, seed, 0.002, steps + seed, solved=True))
            runs.append(run("adding", length, failer, seed, 1.05 * ADDING_BASELINE, 600))
            runs.append(run("adding", length, third, seed, 0.002 if seed == 0 else 0.1,
                            300, solved=seed == 0))
    return LongRangeResult(LongRangeSettings(num_seeds=seeds), runs, tuple(range(seeds)))


@pytest.mark.parametrize(("solver", "failer"), [("lstm", "rnn_tanh"), ("rnn_tanh", "lstm")])
def test_adding_claim_names_who_solved_it(solver: str, failer: str) -> None:
    label = {"lstm": "the LSTM", "rnn_tanh": "the tanh RNN"}
    text = adding_claim(adding_result(solver, failer))
    assert f"{label[solver]} solved it in every seed at T = 20 and T = 50" in text
    assert "(mean steps: 201 and 401)" in text
    assert f"{label[failer]} solved it in no seed, ending at 1.05 ± 0.00 and 1.05 ± 0.00" in text
    assert "the GRU solved it in 1 of 3 seeds at T = 20 and 1 of 3 seeds at T = 50" in text
    assert "needed more steps at the longer length" in text and "Not every" not in text


def test_adding_claim_with_one_seed_says_so() -> None:
    text = adding_claim(adding_result("gru", "lstm", seeds=1))
    assert "the GRU solved it (one seed) at T = 20" in text
    assert "the LSTM did not solve it (one seed), ending at 1.05 and 1.05 times" in text
    assert "One seed" in seeds_caption(adding_result("gru", "lstm", seeds=1))
    assert "over 3 seeds" in seeds_caption(adding_result("gru", "lstm"))


def copy_result(winner: str) -> LongRangeResult:
    """`winner` ends below the copy baseline in every seed (30% recall); the others sit at it."""
    runs = []
    for delay in (10, 20):
        baseline = 10 * math.log(8) / (delay + 20)
        for seed in range(3):
            for cell in ("rnn_tanh", "lstm", "gru"):
                ratio, recall = (0.9, 0.3) if cell == winner else (1.0 + 0.01 * seed, 0.125)
                runs.append(run("copy", delay, cell, seed, ratio * baseline, 200,
                                accuracy=recall))
    return LongRangeResult(LongRangeSettings(copy_max_steps=200), runs, (0, 1, 2))


@pytest.mark.parametrize(("winner", "label"), [("gru", "the GRU"), ("lstm", "the LSTM")])
def test_copy_claim_names_the_cell_below_the_baseline(winner: str, label: str) -> None:
    text = copy_claim(copy_result(winner))
    assert text.startswith("No run solved copy memory within 200 steps.")
    assert f"Only {label} ended below the baseline in every seed at every delay." in text
    assert "0.90 ± 0.00" in text and "30%" in text and "(chance: 1 in 8)" in text


def test_copy_claim_when_nobody_beats_the_baseline() -> None:
    result = copy_result("nobody")
    assert "No cell ended below the baseline in every seed at every delay." in copy_claim(result)
    assert "did not even reach the memoryless strategy" not in copy_claim(result)
    table = long_range_table(result)
    assert "solved 0/3" in table and "**" not in table, "bold only where every seed solved it"


def forget_result(shares: list[float], offset: float = 0.0) -> ForgetBiasDecay:
    biases = [0.0, 1.0, 2.0]
    sigmoids = [1 / (1 + math.exp(-bias)) for bias in biases]
    measured = [sigmoid + offset for sigmoid in sigmoids]
    return ForgetBiasDecay(100, 50, biases, sigmoids, measured, [0.6, 0.8, 0.95], shares,
                           [torch.ones(100)] * 3)


def test_forget_bias_claim_from_the_measured_shares() -> None:
    text = forget_bias_claim(forget_result([1.1e-11, 4.9e-5, 0.16]))
    assert "1.1 × 10⁻¹¹ with a bias of 0, 4.9 × 10⁻⁵ with a bias of 1 and 0.16 with a " \
           "bias of 2" in text
    assert "Each larger bias leaves more of it." in text
    # 0.5^50 ≈ 8.9e-16, 0.73^50 ≈ 1.5e-7, 0.88^50 ≈ 1.8e-3: all below the shares
    assert r"Every share is larger than $\sigma(b)^{50}$" in text
    assert "Even with b = 1, only 4.9 × 10⁻⁵" in text
    assert "usable" not in text
    assert "matches σ(b) to within 0.01 for every bias" in text
    assert "differs from σ(b) by up to 0.10" in forget_bias_claim(forget_result([1, 2, 3], 0.1))


def test_forget_bias_claim_when_the_bias_does_not_help() -> None:
    text = forget_bias_claim(forget_result([1e-3, 1e-20, 1e-30]))
    assert "does not grow with every increase of the bias" in text
    assert r"Some shares are larger than $\sigma(b)^{50}$ and some smaller" in text
    many = forget_bias_claim(forget_result([0.5, 0.6, 0.7]))
    assert "With b = 1, 0.6 of the gradient" in many and "Even" not in many


def flow_result(learner: str) -> GradientFlowResult:
    """At initialisation every cell decays (the LSTM least); training flattens `learner`'s
    gradient (factor 1) and steepens the others'."""
    lags = torch.arange(20, dtype=torch.float64).flip(0)  # in time order, lag 19 .. 0

    def norms(rate: float, cell: bool = False) -> HiddenStateGradients:
        values = rate**lags
        return HiddenStateGradients(values, values.clone() if cell else None)

    initial = {"rnn_tanh": 0.7, "lstm": 0.9, "gru": 0.8}
    trained = {cell: 1.0 if cell == learner else 0.5 for cell in initial}
    return GradientFlowResult(
        "adding", 20,
        {"initial": {c: norms(r, c == "lstm") for c, r in initial.items()},
         "trained": {c: norms(r, c == "lstm") for c, r in trained.items()}},
        {cell: 0.1 for cell in initial}, ADDING_BASELINE)  # fmt: skip


@pytest.mark.parametrize(("learner", "label"), [("gru", "the GRU"), ("rnn_tanh", "the tanh RNN")])
def test_gradient_flow_claim_says_whose_factor_training_raised(learner: str, label: str) -> None:
    text = gradient_flow_claim(flow_result(learner))
    assert "RNN ×0.700, LSTM ×0.900 and GRU ×0.800: the LSTM loses the least" in text
    assert f"Training raised the factor of {label} and lowered that of" in text
    assert re.search(rf"{label} 1(,| and|\.$)", text), "a flat gradient reaches step 1 whole"


def inspection(forget: float, at_marker: float) -> GateInspection:
    return GateInspection(torch.zeros(5, 2), 1.0, 1.0, None, [3], [at_marker], [0.02],
                          [forget], [-0.98], 0.004)


def test_inspection_claim_calls_a_carousel_a_carousel_and_a_leak_a_leak() -> None:
    good = inspection_claim(inspection(0.995, 0.9), ADDING_BASELINE)
    assert "MSE is 0.004, against 0.167" in good
    assert "Unit 3 (input gate 0.90 at the markers and 0.020 elsewhere" in good
    assert "comes close to a textbook carousel" in good and "leakier" not in good
    leaky = inspection_claim(inspection(0.8, 0.05), ADDING_BASELINE)
    assert "is a leakier memory" in leaky and "×0.80 per step" in leaky
    assert "not shut between the markers" in leaky and "carousel" not in leaky


def test_number_formats_small_shares_in_scientific_notation() -> None:
    assert number(4.88e-5) == "4.9 × 10⁻⁵"
    assert number(0.157) == "0.16" and number(0.0049) == "0.0049" and number(0) == "0"
    assert number(1.0) == "1" and number(12345.0) == "1.2 × 10⁴"


def test_describe_settings_follows_the_settings() -> None:
    from rnncourse.chapters.ch03_lstm_gru.figures import describe_settings
    from rnncourse.chapters.ch03_lstm_gru.settings import SETTINGS

    cpu = describe_settings(SETTINGS.cpu.long_range["settings"])
    assert "Adam (learning rate 0.01)" in cpu and "clipped by norm at 1" in cpu
    assert "from 3 seeds" in cpu and "stopping once its held-out loss is below 5%" in cpu
    paper = describe_settings(SETTINGS.paper.long_range["settings"])
    assert "RMSProp (learning rate 0.001, alpha 0.9)" in paper
    assert "clipped element-wise at ±1" in paper and "from one seed" in paper
    assert "stopping" not in paper and "batches of 20" in paper


def test_copy_claim_says_who_has_not_even_learned_the_memoryless_strategy() -> None:
    result = copy_result("gru")
    for run_ in result.runs:
        if run_.cell == "rnn_tanh" and run_.length == 20:
            run_.final_loss = 1.9 * run_.baseline
    text = copy_claim(result)
    assert "the tanh RNN at T = 20 did not even reach the memoryless strategy" in text
    assert "the LSTM at" not in text
