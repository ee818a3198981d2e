"""The sentences chapter 3 prints about its own runs, written from the results.

Whatever the CPU or the seed, a sentence that names a number, a winner or a baseline beaten says
what this run measured: the page glues these strings into its prose. Each function takes a
result object and returns Markdown.

    forget_bias_claim(ForgetBiasDecay)       the share of the gradient left k steps back
    adding_claim(LongRangeResult)            who solved the adding problem, in how many seeds
    copy_claim(LongRangeResult)              copy memory: loss against the baseline, recall
    gradient_flow_claim(GradientFlowResult)  the per-step factors before and after training
    inspection_claim(GateInspection)         what the trained LSTM's memory units do
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rnncourse.chapters.ch03_lstm_gru.gradient_flow import (
    ForgetBiasDecay,
    GateInspection,
    GradientFlowResult,
)
from rnncourse.chapters.ch03_lstm_gru.long_range import CELL_LABELS, CELLS
from rnncourse.chapters.ch03_lstm_gru.results import CellSummary, LongRangeResult

__all__ = [
    "adding_claim",
    "copy_claim",
    "forget_bias_claim",
    "gradient_flow_claim",
    "inspection_claim",
    "number",
]

SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

# A memory unit is called a textbook carousel when its input gate opens at the markers at least
# this many times as wide as elsewhere, its forget gate holds at least this value after the
# first marker, and its final cell state correlates with the target at least this strongly.
CAROUSEL_GATE_RATIO, CAROUSEL_FORGET, CAROUSEL_CORRELATION = 5.0, 0.95, 0.9
# A copy-memory loss this many times the baseline or more: not yet the memoryless strategy.
NOT_YET_MEMORYLESS = 1.1


def number(value: float) -> str:
    """0.0049 → "0.0049", 4.9e-05 → "4.9 × 10⁻⁵" (two significant digits below 10⁻³)."""
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.2g}" if abs(value) < 1 else f"{value:.3g}"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = value / 10**exponent
    return f"{mantissa:.1f} × 10{str(exponent).translate(SUPERSCRIPTS)}"


def _join(parts: Sequence[str]) -> str:
    """["a"] → "a", ["a", "b"] → "a and b", ["a", "b", "c"] → "a, b and c"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _label(cell: str) -> str:
    return {"rnn_tanh": "the tanh RNN"}.get(cell, f"the {CELL_LABELS[cell]}")


def _cells(result: LongRangeResult) -> list[str]:
    return [cell for cell in CELLS if cell in result.cells()]


def _ratio(summary: CellSummary) -> str:
    spread = f" ± {summary.std_ratio:.2f}" if summary.seeds > 1 else ""
    return f"{summary.mean_ratio:.2f}{spread}"


# ----------------------------------------------------------------------------------------------


def forget_bias_claim(result: ForgetBiasDecay, usual_bias: float = 1.0) -> str:
    """How much of ‖∂L/∂c_T‖ is left `fit_lags` steps back for each bias, whether it grows with
    the bias, and how it compares with σ(b)^k, what the cell path alone would leave."""
    lags, biases, shares = result.fit_lags, result.biases, result.share_left
    gap = max(abs(measured - sigmoid) for measured, sigmoid in
              zip(result.mean_forget_gate, result.sigmoid_of_bias, strict=True))
    bound = math.ceil(gap * 100) / 100  # 0.002 → "within 0.01"
    text = (f"The measured mean forget gate matches σ(b) to within {max(bound, 0.01):.2f} for "
            "every bias. " if gap < 0.02 else
            f"The measured mean forget gate differs from σ(b) by up to {gap:.2f}. ")
    listed = _join([f"{number(share)} with a bias of {bias:g}"
                    for bias, share in zip(biases, shares, strict=True)])
    text += f"{lags} steps back from the end, the share of the end gradient left is {listed}. "
    order = sorted(range(len(biases)), key=lambda index: biases[index])
    growing = all(shares[a] < shares[b] for a, b in zip(order, order[1:], strict=False))
    if len(biases) > 1:
        text += ("Each larger bias leaves more of it. " if growing else
                 "Here the share does not grow with every increase of the bias. ")
    predicted = [sigmoid**lags for sigmoid in result.sigmoid_of_bias]
    above = [share > expected for share, expected in zip(shares, predicted, strict=True)]
    if all(above):
        text += (f"Every share is larger than $\\sigma(b)^{{{lags}}}$, what the cell path alone "
                 "would leave: the gradient also reaches back through $h_{t-1}$ and the gates. ")
    elif not any(above):
        text += (f"Every share is smaller than $\\sigma(b)^{{{lags}}}$, what the cell path alone "
                 "would leave. ")
    else:
        text += f"Some shares are larger than $\\sigma(b)^{{{lags}}}$ and some smaller. "
    if usual_bias in biases:
        share = shares[biases.index(usual_bias)]
        if share < 1e-2:
            text += (f"Even with b = {usual_bias:g}, only {number(share)} of the gradient reaches "
                     f"{lags} steps back at initialisation: the bias gives training a start, and "
                     "training must push $f_t$ further towards 1 where a memory is needed.")
        else:
            text += (f"With b = {usual_bias:g}, {number(share)} of the gradient reaches {lags} "
                     "steps back at initialisation.")
    return text.strip()


def adding_claim(result: LongRangeResult) -> str:
    """Which cells solved the adding problem at which lengths, in how many seeds, how many steps
    they needed, and where the others ended against the baseline."""
    lengths = result.lengths("adding")
    seeds = len(result.seeds)
    clauses, both = [], []
    for cell in _cells(result):
        summaries = [result.summary("adding", length, cell) for length in lengths]
        solved = [summary.num_solved for summary in summaries]
        at = _join([f"T = {length}" for length in lengths])
        if all(count == seeds for count in solved):
            steps = _join([f"{summary.mean_steps_solved:.0f}" for summary in summaries])
            where = "in every seed" if seeds > 1 else "(one seed)"
            clauses.append(f"{_label(cell)} solved it {where} at {at} (mean steps: {steps})")
            both.append([summary.mean_steps_solved for summary in summaries])
        elif not any(solved):
            ratios = _join([_ratio(summary) for summary in summaries])
            where = "in no seed" if seeds > 1 else "(one seed)"
            verb = "solved it" if seeds > 1 else "did not solve it"
            clauses.append(f"{_label(cell)} {verb} {where}, ending at {ratios} times the "
                           f"baseline at {at}")
        else:
            counts = _join([f"{count} of {seeds} seeds at T = {length}"
                            for count, length in zip(solved, lengths, strict=True)])
            clauses.append(f"{_label(cell)} solved it in {counts}")
    text = "On the adding problem, " + "; ".join(clauses) + "."
    if both and len(lengths) > 1:
        longer = all(steps[-1] > steps[0] for steps in both)
        text += (" Every cell that solved it throughout needed more steps at the longer length."
                 if longer else " Not every cell that solved it throughout needed more steps at "
                 "the longer length.")
    return text


def copy_claim(result: LongRangeResult) -> str:
    """Copy memory: how many runs solved it, each cell's loss against the baseline and its recall
    at each delay, and which cells ended below the baseline in every seed."""
    delays = result.lengths("copy")
    cells = _cells(result)
    solved = sum(result.summary("copy", delay, cell).num_solved
                 for delay in delays for cell in cells)  # fmt: skip
    max_steps = result.settings.copy_max_steps
    text = (f"No run solved copy memory within {max_steps} steps. " if solved == 0 else
            f"{solved} of {len(delays) * len(cells) * len(result.seeds)} runs solved copy memory "
            f"within {max_steps} steps. ")
    for delay in delays:
        summaries = [result.summary("copy", delay, cell) for cell in cells]
        ratios = _join([f"{CELL_LABELS[s.cell]} {_ratio(s)}" for s in summaries])
        recall = _join([f"{s.mean_accuracy:.0%}" for s in summaries])
        text += (f"At T = {delay} the final loss was {ratios} times the baseline, and the share of "
                 f"copied symbols recalled {recall} (chance: 1 in 8). ")
    above = [f"{_label(cell)} at T = {delay}" for delay in delays for cell in cells
             if result.summary("copy", delay, cell).mean_ratio > NOT_YET_MEMORYLESS]
    if above:
        text += (f"Within the budget, {_join(above)} did not even reach the memoryless strategy "
                 f"(a mean loss over {NOT_YET_MEMORYLESS:g} times the baseline). ")
    below = [cell for cell in cells
             if all(result.summary("copy", delay, cell).seeds_below_baseline == len(result.seeds)
                    for delay in delays)]  # fmt: skip
    if below:
        text += (f"Only {_join([_label(cell) for cell in below])} ended below the baseline in "
                 "every seed at every delay." if len(below) < len(cells) else
                 "Every cell ended below the baseline in every seed at every delay.")
    else:
        text += "No cell ended below the baseline in every seed at every delay."
    return text


def gradient_flow_claim(flow: GradientFlowResult) -> str:
    """The fitted per-step factor of ‖∂L/∂h_t‖ for each cell before and after training, which
    cell kept most at initialisation, which factors training raised, and how much of the end
    gradient the trained models pass back to the first step."""
    cells = [cell for cell in CELLS if cell in flow.norms["initial"]]
    initial = {cell: flow.decay_per_step("initial", cell) for cell in cells}
    trained = {cell: flow.decay_per_step("trained", cell) for cell in cells}

    def factors(values: dict[str, float]) -> str:
        return _join([f"{CELL_LABELS[cell]} ×{values[cell]:.3f}" for cell in cells])

    slowest = max(cells, key=initial.get)
    text = (f"At initialisation the fitted factors per step back are {factors(initial)}: "
            f"{_label(slowest)} loses the least per step. After training they are "
            f"{factors(trained)}. ")
    raised = [cell for cell in cells if trained[cell] > initial[cell]]
    lowered = [cell for cell in cells if trained[cell] <= initial[cell]]
    if raised:
        text += f"Training raised the factor of {_join([_label(c) for c in raised])}"
        text += (f" and lowered that of {_join([_label(c) for c in lowered])}. " if lowered
                 else ". ")
    else:
        text += "Training raised no cell's factor. "
    first = []
    for cell in cells:
        first.append(f"{_label(cell)} {number(flow.relative('trained', cell)[-1].item())}")
        if flow.norms["trained"][cell].cell is not None:
            share = flow.relative("trained", cell, "cell")[-1].item()
            first.append(f"{_label(cell)}'s cell state {number(share)}")
    text += (f"Of the gradient at the last step, the trained models pass back to the first step "
             f"(T − 1 = {flow.seq_len - 1} steps): {_join(first)}.")
    return text


def inspection_claim(inside: GateInspection, baseline: float) -> str:
    """What each inspected unit does, and whether it behaves like a textbook carousel (input gate
    open at the markers only, forget gate near 1, final cell state tracking the target)."""
    text = (f"This LSTM's held-out MSE is {number(inside.mse)}, against {baseline:.3f} for the "
            "constant prediction. ")
    for unit, at, away, forget, corr in zip(
            inside.units, inside.input_gate_at_markers, inside.input_gate_elsewhere,
            inside.forget_gate_after_first_marker, inside.cell_target_correlation, strict=True):
        facts = (f"input gate {at:.2f} at the markers and {away:.3f} elsewhere, forget gate "
                 f"{forget:.3f} after the first marker, corr($c_T$, $u_p + u_q$) = {corr:+.2f}")
        failures = []
        if at < CAROUSEL_GATE_RATIO * away:
            failures.append("its input gate is not shut between the markers")
        if forget < CAROUSEL_FORGET:
            failures.append(f"its forget gate lets the content fade (×{forget:.2f} per step)")
        if abs(corr) < CAROUSEL_CORRELATION:
            failures.append("its final cell state tracks the target only loosely")
        if failures:
            text += f"Unit {unit} ({facts}) is a leakier memory: {_join(failures)}. "
        else:
            text += (f"Unit {unit} ({facts}) comes close to a textbook carousel: written "
                     "mostly at the markers, held, and read out at the end. ")
    return text.strip()
