"""The expected outputs the exercises show students are what the solutions print: each
notebook's **Expected output** block (printed values, within 5%) and figures beside it."""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from rnncourse.grading.nbgrader_cli import exercise_ids

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = exercise_ids(ROOT)
NUMBER = re.compile(r"[-+]?\d[\d,]*\.?\d*(?:e[-+]?\d+)?|[-+]?\.\d+(?:e[-+]?\d+)?")


def source_notebook(exercise_id: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / exercise_id / f"{exercise_id}.ipynb", as_version=4)


def expected_block(notebook: nbformat.NotebookNode) -> tuple[str, str]:
    """The heading (Expected or Sample output) and the text of the expected-output cell."""
    cell = next(cell for cell in notebook.cells if cell.get("id") == "expected-output")
    match = re.search(r"\*\*(Expected|Sample) output\*\*.*?```text\n(.*?)\n```", cell.source,
                      re.S)
    assert match, "the expected-output cell holds a ```text block"
    return match.group(1), match.group(2)


def same_output(printed: str, expected: str, numbers_too: bool) -> bool:
    """The same words, and (if `numbers_too`) numbers within 5% (or 1e-3 near zero)."""
    if NUMBER.sub("#", printed).split() != NUMBER.sub("#", expected).split():
        return False
    if not numbers_too:
        return True
    pairs = zip(NUMBER.findall(printed), NUMBER.findall(expected), strict=True)
    return all(math.isclose(float(a.replace(",", "")), float(b.replace(",", "")),
                            rel_tol=0.05, abs_tol=1e-3) for a, b in pairs)


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_exercise_shows_what_to_compare_with(exercise_id: str) -> None:
    notebook = source_notebook(exercise_id)
    ids = [cell.get("id") for cell in notebook.cells]
    assert ids.index("expected-output") == ids.index("explore-code") + 1, (
        "the expected output comes right after the explore cell")
    _, text = expected_block(notebook)
    assert text.strip() and "OUTPUT" not in text
    for image in re.findall(r"!\[[^]]+\]\(([^)]+)\)", notebook.cells[ids.index("expected-output")]
                            .source):
        for folder in ("solutions", "exercises"):
            assert (ROOT / folder / exercise_id / image).is_file(), f"{folder}: no {image}"


def test_comparing_outputs() -> None:
    assert same_output("rate 0.527 (bound 1.000)", "rate 0.53 (bound 1.0)", numbers_too=True)
    assert not same_output("rate 0.7 (bound 1.0)", "rate 0.53 (bound 1.0)", numbers_too=True)
    assert same_output("loop 3.2 ms", "loop 0.2 ms", numbers_too=False)
    assert not same_output("loop 3.2 ms", "scan 0.2 ms", numbers_too=False)


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_expected_outputs_are_what_the_solution_prints(exercise_id: str) -> None:
    notebook = source_notebook(exercise_id)
    kind, expected = expected_block(notebook)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    cell = next(cell for cell in notebook.cells if cell.get("id") == "explore-code")
    printed = "".join(output.get("text", "") for output in cell.outputs
                      if output.output_type == "stream" and output.name == "stdout")
    assert not [output for output in cell.outputs if output.output_type == "error"]
    assert same_output(printed.strip(), expected.strip(), numbers_too=kind == "Expected"), (
        f"{exercise_id} prints\n{printed}\nbut shows students\n{expected}")
