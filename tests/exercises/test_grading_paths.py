"""One set of faulty submissions, graded on both paths: `rnncourse grade` and nbgrader's own
commands (`nbgrader autograde` and `nbgrader generate_feedback`, as the formgrader runs them)
with the course's `nbgrader_config.py`. Both must give every part the same score, and both
feedback pages must hide the hidden tests.

The exercise is ex01 (its checks use `own_code`, so forbidden calls are part of the set): deleted
and edited test cells, a deleted set-up cell, skip tags, stderr and warnings, an endless loop, a
crash, replaced comparisons and a forbidden library function.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from test_mutants import hidden_test_lines, page_text

from rnncourse.grading.exercises import grade_cells_by_part
from rnncourse.grading.grader import GradeOptions, grade
from rnncourse.grading.nbgrader_cli import fill_in_solutions, read_scores, release, run_nbgrader

ROOT = Path(__file__).resolve().parents[2]
EX01 = "ex01-vanishing-gradients"
CELL_TIMEOUT = 10
PATHS = ("rnncourse grade", "nbgrader autograde")


def _with_code(notebook, **code):
    changed = nbformat.from_dict(notebook)
    for cell in changed.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") in code:
            cell.source = code[cell.metadata["nbgrader"]["grade_id"]]
    return changed


def _without(notebook, *grade_ids):
    changed = nbformat.from_dict(notebook)
    changed.cells = [cell for cell in changed.cells
                     if cell.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]
    return changed


RATE = "def decay_rate(norms):\n    return 0.5\n"
NOISY = ("import sys, warnings\n"
         "def rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
         "    print('computing a step', file=sys.stderr)\n"
         "    warnings.warn('a warning from student code')\n"
         "    return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)\n"
         "probe = torch.ones(2, requires_grad=True) * 2\nprobe.sum().backward()\nprobe.grad\n")


def class_of_faults(source, released) -> dict[str, tuple[nbformat.NotebookNode, dict]]:
    """Student -> (submission, the points each part should get that differ from full marks)."""
    solved = fill_in_solutions(released, source)
    untouched = {part: 0.0 for part in grade_cells_by_part(source)}
    skipped = nbformat.from_dict(released)
    for cell in skipped.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata["tags"] = ["skip-execution"]
    return {
        "solved": (solved, {}),
        "untouched": (released, untouched),
        "skip-tags": (skipped, untouched),
        "deleted-tests": (_without(solved, "test_rnn_cell_shape", "test_decay_rate_fit"), {}),
        "deleted-setup": (_without(solved, "setup"), {}),
        "edited-tests": (_with_code(solved, test_rnn_forward_values="pass",
                                    test_decay_rate_fit="print('all good')", decay_rate=RATE),
                         {"decay_rate": 0.0}),
        "stderr-and-warnings": (_with_code(solved, rnn_cell=NOISY), {}),
        "endless-loop": (_with_code(solved, jacobian_bound=(
            "def jacobian_bound(weight_hh, lag, gamma=1.0):\n    while True:\n        pass")),
                         {"jacobian_bound": 0.0}),
        "crash": (_with_code(solved, question_2="import os\nos._exit(1)"), {"question_2": 0.0}),
        "replaced-comparisons": (_with_code(solved, decay_rate=(
            RATE + "import math\nmath.isclose = lambda *args, **kwargs: True"),
            jacobian_bound=("def jacobian_bound(weight_hh, lag, gamma=1.0):\n"
                            "    import math\n    math.isclose = lambda *args, **kwargs: True\n"
                            "    return 0.0")),
            {"decay_rate": 0.0, "jacobian_bound": 0.0}),
        "forbidden": (_with_code(solved, rnn_cell=(
            "def rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
            "    return torch.rnn_tanh_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh)")),
                      {"rnn_cell": 0.0}),
    }


def _course(folder: Path) -> Path:
    root = folder / "course"
    (root / "solutions").mkdir(parents=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    (root / "nbgrader_config.py").write_text(config + f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    shutil.copytree(ROOT / "solutions" / EX01, root / "solutions" / EX01)
    return root


def _by_part(cell_scores: dict[str, float], parts: dict[str, list[str]]) -> dict[str, float]:
    return {part: sum(cell_scores.get(cell, 0.0) for cell in cells)
            for part, cells in parts.items()}


@pytest.fixture(scope="module", params=PATHS)
def graded(request, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp(request.param.replace(" ", "-"))
    root = _course(folder)
    name = f"{EX01}/{EX01}.ipynb"
    source = nbformat.read(root / "solutions" / name, as_version=4)
    if request.param == "rnncourse grade":
        release(root, [EX01])
    else:
        run_nbgrader(["generate_assignment", EX01, "--force"], root)
    released = nbformat.read(root / "exercises" / name, as_version=4)
    parts = grade_cells_by_part(released)
    faults = class_of_faults(source, released)
    submitted = root / "submitted"
    for student, (notebook, _) in faults.items():
        target = submitted / student / EX01 / f"{EX01}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)
    if request.param == "rnncourse grade":
        report = grade(root, EX01, root, folder / "out",
                       GradeOptions(cell_timeout=CELL_TIMEOUT, notebook_timeout=300, jobs=2))
        scores = {row.student: row.parts for row in report.grades}
        messages = {row.student: row.message for row in report.grades}
        feedback = report.feedback
    else:
        run_nbgrader(["autograde", EX01, "--create", "--force"], root, timeout=1800)
        run_nbgrader(["generate_feedback", EX01, "--force"], root, timeout=600)
        scores = {student: _by_part({grade.name: grade.score for grade in grades}, parts)
                  for student, grades in read_scores(root, EX01).items()}
        messages = {}
        feedback = root / "feedback"
    return {"path": request.param, "scores": scores, "messages": messages, "faults": faults,
            "feedback": feedback, "source": source, "max": _by_part(
                {cell.metadata["nbgrader"]["grade_id"]: float(cell.metadata["nbgrader"]["points"])
                 for cell in released.cells if cell.metadata.get("nbgrader", {}).get("grade")},
                parts)}


@pytest.mark.slow
def test_both_paths_score_every_fault_alike(graded: dict) -> None:
    for student, (_, changes) in graded["faults"].items():
        expected = {**graded["max"], **changes}
        assert graded["scores"][student] == expected, (
            f"{graded['path']}: {student} scored {graded['scores'][student]}, expected {expected}")


@pytest.mark.slow
def test_both_paths_hide_the_hidden_tests_in_feedback(graded: dict) -> None:
    hidden = hidden_test_lines(graded["source"], "")
    pages = sorted(Path(graded["feedback"]).rglob(f"{EX01}.html"))
    assert {page.parents[1].name for page in pages} == set(graded["faults"])
    for page in pages:
        text = page_text(page)
        shown = {line.strip() for line in text.splitlines()}
        assert not hidden & shown, (
            f"{graded['path']}: {page.parents[1].name}'s feedback shows hidden tests")
        assert "_rnncourse_guard" not in text
    forbidden = page_text(Path(graded["feedback"]) / "forbidden" / EX01 / f"{EX01}.html")
    assert "torch.rnn_tanh_cell" in forbidden and "write yourself" in forbidden
    noisy = page_text(Path(graded["feedback"]) / "stderr-and-warnings" / EX01 / f"{EX01}.html")
    assert "a warning from student code" in noisy
    assert "is not a leaf Tensor" in noisy, "PyTorch's warning about .grad of a non-leaf is shown"


@pytest.mark.slow
def test_the_grade_table_says_what_happened(graded: dict) -> None:
    if graded["path"] != "rnncourse grade":
        pytest.skip("nbgrader keeps no grade table")
    messages = graded["messages"]
    assert "put back deleted cells: test_rnn_cell_shape, test_decay_rate_fit" in messages[
        "deleted-tests"]
    assert "restored edited cells" in messages["edited-tests"]
    assert "rnn_cell: scores 0" in messages["forbidden"] and "torch.rnn_tanh_cell" in messages[
        "forbidden"]
    assert "time limit" in messages["endless-loop"]
    assert "math.isclose" in messages["replaced-comparisons"]
