"""`rnncourse grade`: grading that survives whatever students hand in.

One grading run of the sample exercise (standard library only, so kernels start fast) covers a
class of synthetic submissions, one per thing that can go wrong; each test checks one row of
the resulting table. A second, smaller run on a flat folder checks that grading again gives the
same table, and one run of ex01 checks the defence against replaced torch comparisons.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest

from rnncourse.grading import grader as grader_module
from rnncourse.grading.grader import GradeOptions, grade
from rnncourse.grading.nbgrader_cli import fill_in_solutions, release
from rnncourse.grading.sample import SAMPLE_ID, write_sample_exercise
from rnncourse.grading.submissions import prepare

ROOT = Path(__file__).resolve().parents[1]
EX01 = "ex01-vanishing-gradients"
OPTIONS = GradeOptions(cell_timeout=6, notebook_timeout=60, jobs=2)


def make_course(folder: Path, exercise_id: str) -> tuple[Path, nbformat.NotebookNode,
                                                        nbformat.NotebookNode]:
    """A course root in `folder` with one exercise released; its source and release."""
    root = folder / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    if exercise_id == SAMPLE_ID:
        write_sample_exercise(root)
    else:
        shutil.copytree(ROOT / "solutions" / exercise_id, root / "solutions" / exercise_id)
    release(root, [exercise_id])
    name = f"{exercise_id}/{exercise_id}.ipynb"
    return (root, nbformat.read(root / "solutions" / name, as_version=4),
            nbformat.read(root / "exercises" / name, as_version=4))


def with_code(notebook: nbformat.NotebookNode, **code: str) -> nbformat.NotebookNode:
    """A copy of `notebook` whose cells with these grade ids hold this code instead."""
    changed = nbformat.from_dict(notebook)
    for cell in changed.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in code:
            cell.source = code[grade_id]
    return changed


def without_cells(notebook: nbformat.NotebookNode, *grade_ids: str) -> nbformat.NotebookNode:
    changed = nbformat.from_dict(notebook)
    changed.cells = [cell for cell in changed.cells
                     if cell.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]
    return changed


WRONG = {"mean": "def mean(values):\n    return 0.0",
         "clip": "def clip(x, low, high):\n    return x",
         "relative_error": "def relative_error(estimate, exact):\n    return 0.0"}


def sample_class(source, released) -> dict[str, nbformat.NotebookNode | str | None]:
    """Student -> their submission (a notebook, raw file text, or None for an empty folder)."""
    solved = fill_in_solutions(released, source)
    stuck_kernel = with_code(solved, clip=(
        "import time\ndef clip(x, low, high):\n    while True:\n        try:\n"
        "            time.sleep(0.05)\n        except BaseException:\n            pass"))
    unknown_kernel = nbformat.from_dict(solved)
    unknown_kernel.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "x",
                                             "language": "python"}
    noisy = with_code(solved, mean=(
        "import sys, warnings\nwarnings.simplefilter('always')\ndef mean(values):\n"
        "    print('checking', values, file=sys.stderr)\n"
        "    warnings.warn('a warning from student code')\n"
        "    return sum(values) / len(values)"))
    edited = with_code(without_cells(solved, "test_clip", "test_relative_error"),
                       mean=WRONG["mean"], relative_error=WRONG["relative_error"],
                       test_mean="print('all good')")
    skipped = with_code(released, **WRONG)
    for cell in skipped.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata["tags"] = ["skip-execution"]
    return {
        "untouched": released,
        "solved": solved,
        "infinite-loop": with_code(solved, mean="def mean(values):\n    while True:\n"
                                   "        pass"),
        "stuck-kernel": stuck_kernel,
        "exception": with_code(solved, mean="def mean(values):\n    return 1 / 0"),
        "crash": with_code(solved, relative_error=(
            "import os\ndef relative_error(estimate, exact):\n    os._exit(1)")),
        "edited-tests": edited,
        "unreadable": '{"cells": [ this is not json',
        "unknown-kernel": unknown_kernel,
        "stderr": noisy,
        "huge-output": with_code(solved, clip=(
            "def clip(x, low, high):\n    for _ in range(2000):\n        print('x' * 100)\n"
            "    if low > high:\n        raise ValueError('low > high')\n"
            "    return max(low, min(x, high))")),
        # Replacing what the tests compare with: in the cell, directly or through vars() ...
        "patch-modules": with_code(
            solved, mean="def mean(values):\n    return 7 / 3\n"
            "import builtins\nbuiltins.abs = lambda value: 0.0",
            clip="def clip(x, low, high):\n    return max(low, min(x, high))\n"
            "import builtins\nbuiltins.AssertionError = type('AssertionError', (Warning,), {})",
            relative_error="def relative_error(estimate, exact):\n    return 0.1\n"
            "import builtins\nvars(builtins)['abs'] = lambda value: 0.0"),
        # ... with a global of the same name, the display hook, or while the tests run.
        "patch-at-call-time": with_code(
            solved, mean="abs = lambda value: 0.0\ndef mean(values):\n    return 7 / 3",
            clip="def clip(x, low, high):\n    get_ipython().displayhook(2)\n    return x",
            relative_error="import builtins\ndef relative_error(estimate, exact):\n"
                           "    vars(builtins)['abs'] = lambda value: 0.0\n    return 0.1"),
        # ... by rewriting test cells before they run, or tagging them to be skipped.
        "patch-kernel": with_code(skipped, mean=(
            WRONG["mean"] + "\nimport ast\nclass NoAsserts(ast.NodeTransformer):\n"
            "    def visit_Assert(self, node):\n        return ast.Pass()\n"
            "get_ipython().ast_transformers.append(NoAsserts())")),
        "no-notebook": None,
    }


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("grading")
    root, source, released = make_course(folder, SAMPLE_ID)
    submitted = folder / "class" / "submitted"
    for student, submission in sample_class(source, released).items():
        target = submitted / student / SAMPLE_ID / f"{SAMPLE_ID}.ipynb"
        target.parent.mkdir(parents=True)
        if isinstance(submission, str):
            target.write_text(submission)
        elif submission is not None:
            nbformat.write(submission, target)
    fingerprint = {path: hashlib.sha256(path.read_bytes()).hexdigest()
                   for path in submitted.rglob("*") if path.is_file()}
    report = grade(root, SAMPLE_ID, folder / "class", folder / "out", OPTIONS)
    after = {path: hashlib.sha256(path.read_bytes()).hexdigest()
             for path in submitted.rglob("*") if path.is_file()}
    with report.table.open() as table:
        rows = {row["student"]: row for row in csv.DictReader(table)}
    return report, rows, fingerprint == after


def scores(rows: dict, student: str) -> tuple[float, float, float, float]:
    row = rows[student]
    return (float(row["mean"]), float(row["clip"]), float(row["relative_error"]),
            float(row["total"]))


def test_every_student_is_in_the_table_with_feedback(sample_run) -> None:
    report, rows, _ = sample_run
    assert list(rows) == sorted(rows), "rows are sorted by student"
    assert set(rows) == {"untouched", "solved", "infinite-loop", "stuck-kernel", "exception",
                         "crash", "edited-tests", "unreadable", "unknown-kernel", "stderr",
                         "huge-output", "patch-modules", "patch-at-call-time", "patch-kernel",
                         "no-notebook"}
    for student in rows:
        page = report.feedback / student / SAMPLE_ID / f"{SAMPLE_ID}.html"
        assert page.is_file(), f"no feedback for {student}"
        assert page.stat().st_size < 2_000_000, f"feedback of {student} is huge"
    assert report.gradebook.is_file()


def test_grading_never_modifies_submissions(sample_run) -> None:
    assert sample_run[2], "a submitted file changed while it was graded"


def test_untouched_release_and_solution(sample_run) -> None:
    _, rows, _ = sample_run
    assert scores(rows, "untouched") == (0, 0, 0, 0)
    assert scores(rows, "solved") == (2, 2, 1, 5)
    assert rows["solved"]["status"] == rows["untouched"]["status"] == "graded"


def test_time_limits_stop_loops_and_the_rest_is_graded(sample_run) -> None:
    _, rows, _ = sample_run
    assert scores(rows, "infinite-loop") == (0, 2, 1, 3)
    assert rows["infinite-loop"]["status"] == "timeout"
    # A loop that swallows the interrupt: the kernel is restarted and the later part graded.
    assert scores(rows, "stuck-kernel") == (2, 0, 1, 3)
    assert rows["stuck-kernel"]["status"] == "timeout"
    assert "ignored the interrupt" in rows["stuck-kernel"]["message"]


def test_exceptions_and_crashes_cost_only_their_part(sample_run) -> None:
    _, rows, _ = sample_run
    assert scores(rows, "exception") == (0, 2, 1, 3)
    assert rows["exception"]["status"] == "graded"
    assert scores(rows, "crash") == (2, 2, 0, 4)
    assert rows["crash"]["status"] == "crashed"


def test_edited_and_deleted_tests_are_restored(sample_run) -> None:
    _, rows, _ = sample_run
    assert scores(rows, "edited-tests") == (0, 2, 0, 2)
    message = rows["edited-tests"]["message"]
    assert "test_clip" in message and "test_relative_error" in message and "test_mean" in message


def test_unreadable_missing_and_unknown_kernel(sample_run) -> None:
    _, rows, _ = sample_run
    assert rows["unreadable"]["status"] == "unreadable" and scores(rows, "unreadable")[3] == 0
    assert "not valid JSON" in rows["unreadable"]["message"]
    assert rows["no-notebook"]["status"] == "missing" and scores(rows, "no-notebook")[3] == 0
    assert scores(rows, "unknown-kernel") == (2, 2, 1, 5)
    assert "no-such-kernel" in rows["unknown-kernel"]["message"]


def test_stderr_and_huge_outputs_cost_nothing(sample_run) -> None:
    report, rows, _ = sample_run
    assert scores(rows, "stderr") == (2, 2, 1, 5)
    assert rows["stderr"]["status"] == "graded"
    assert scores(rows, "huge-output") == (2, 2, 1, 5)
    page = (report.feedback / "stderr" / SAMPLE_ID / f"{SAMPLE_ID}.html").read_text()
    assert "a warning from student code" in page, "student warnings stay visible in feedback"


def test_replaced_comparisons_earn_nothing(sample_run) -> None:
    _, rows, _ = sample_run
    assert scores(rows, "patch-modules") == (0, 0, 0, 0)
    assert rows["patch-modules"]["status"] == "tampered"
    assert "builtins.abs" in rows["patch-modules"]["message"]
    assert "builtins.AssertionError" in rows["patch-modules"]["message"]
    assert scores(rows, "patch-at-call-time") == (0, 0, 0, 0)
    assert rows["patch-at-call-time"]["status"] == "tampered"
    assert scores(rows, "patch-kernel") == (0, 0, 0, 0)
    assert rows["patch-kernel"]["status"] == "tampered"


def test_flat_folder_graded_twice_gives_the_same_table(sample_run, tmp_path: Path) -> None:
    root = sample_run[0].table.parents[1] / "course"
    source = nbformat.read(root / "solutions" / SAMPLE_ID / f"{SAMPLE_ID}.ipynb", as_version=4)
    released = nbformat.read(root / "exercises" / SAMPLE_ID / f"{SAMPLE_ID}.ipynb", as_version=4)
    flat = tmp_path / "flat"
    flat.mkdir()
    nbformat.write(fill_in_solutions(released, source, leave_out={"clip"}), flat / "ann.ipynb")
    nbformat.write(released, flat / "ben.ipynb")
    (flat / "cem.ipynb").write_bytes(b"\x89PNG not a notebook")
    options = GradeOptions(cell_timeout=6, notebook_timeout=60, jobs=1)
    first = grade(root, SAMPLE_ID, flat, tmp_path / "out", options).table.read_bytes()
    second = grade(root, SAMPLE_ID, flat, tmp_path / "out", options).table.read_bytes()
    assert first == second
    assert first.decode().splitlines()[1:] == [
        "ann,2,0,1,3,graded,", "ben,0,0,0,0,graded,",
        "cem,0,0,0,0,unreadable,cem.ipynb: the file is not UTF-8 text"]


def test_an_interrupted_run_leaves_the_old_table(sample_run, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = sample_run[0].table.parents[1] / "course"
    out = tmp_path / "out"
    out.mkdir()
    (out / "grades.csv").write_text("the previous table\n")
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(root / "exercises" / SAMPLE_ID / f"{SAMPLE_ID}.ipynb", flat / "ann.ipynb")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(grader_module, "run_jobs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grade(root, SAMPLE_ID, flat, out, OPTIONS)
    assert (out / "grades.csv").read_text() == "the previous table\n"
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv"], "no partial files"


def test_prepare_puts_back_cells_and_drops_tags(sample_run) -> None:
    root = sample_run[0].table.parents[1] / "course"
    released = nbformat.read(root / "exercises" / SAMPLE_ID / f"{SAMPLE_ID}.ipynb", as_version=4)
    damaged = without_cells(released, "setup", "test_mean")
    damaged.cells[0].metadata["tags"] = ["skip-execution"]
    rebuilt, notes = prepare(damaged, released)
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in rebuilt.cells]
    expected = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in released.cells]
    assert ids == expected
    assert all("tags" not in cell.metadata for cell in rebuilt.cells)
    assert notes == ["put back deleted cells: setup, test_mean"]


def test_the_course_configuration_grades_with_the_guard() -> None:
    from traitlets.config.loader import PyFileConfigLoader

    from rnncourse.grading.execution import AUTOGRADE_PREPROCESSORS

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert list(config.Autograde.autograde_preprocessors) == AUTOGRADE_PREPROCESSORS


def test_grade_options_are_checked() -> None:
    with pytest.raises(ValueError, match="cell_timeout"):
        GradeOptions(cell_timeout=0)
    with pytest.raises(ValueError, match="jobs"):
        GradeOptions(jobs=0)


@pytest.mark.slow
def test_replaced_torch_comparisons_earn_nothing(tmp_path: Path) -> None:
    root, source, released = make_course(tmp_path, EX01)
    solved = fill_in_solutions(released, source)
    wrong_cell = ("def rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
                  "    return torch.zeros(x.shape[0], h.shape[1])\n")
    wrong_forward = ("def rnn_forward(cell, inputs, h0):\n"
                     "    torch.testing.assert_close = lambda *args, **kwargs: None\n"
                     "    torch.allclose = lambda *args, **kwargs: True\n"
                     "    return [h0.clone().requires_grad_() for _ in inputs]\n")
    class_folder = tmp_path / "class"
    class_folder.mkdir()
    submissions = {
        "solved": solved,
        "untouched": released,
        "allclose": with_code(solved, rnn_cell=wrong_cell
                              + "torch.allclose = lambda *args, **kwargs: True"),
        "assert-close": with_code(solved, rnn_forward=wrong_forward),
        "tensor-method": with_code(solved, rnn_cell=wrong_cell
                                   + "torch.Tensor.abs = lambda self: torch.zeros(1)"),
    }
    for student, notebook in submissions.items():
        nbformat.write(notebook, class_folder / f"{student}.ipynb")
    report = grade(root, EX01, class_folder, tmp_path / "out",
                   GradeOptions(cell_timeout=60, notebook_timeout=300, jobs=2))
    rows = {row.student: row for row in report.grades}
    total = sum(report.max_points.values())
    assert rows["solved"].total == total and rows["solved"].status == "graded", rows["solved"]
    assert rows["untouched"].total == 0
    for cheat, part in (("allclose", "rnn_cell"), ("assert-close", "rnn_forward"),
                        ("tensor-method", "rnn_cell")):
        assert rows[cheat].parts[part] == 0, f"{cheat} earned points: {rows[cheat]}"
        assert rows[cheat].total == total - report.max_points[part], rows[cheat]
        assert rows[cheat].status == "tampered", rows[cheat]


@pytest.mark.slow
def test_benchmark_smoke(sample_run) -> None:
    from rnncourse.grading.benchmark import run_benchmark

    root = sample_run[0].table.parents[1] / "course"
    serial, parallel = run_benchmark(root, SAMPLE_ID, count=2, jobs=2,
                                     options=GradeOptions(cell_timeout=6, notebook_timeout=60))
    assert (serial.jobs, parallel.jobs) == (1, 2)
    assert serial.notebooks == parallel.notebooks == 2
    assert serial.per_minute > 0 and parallel.per_minute > 0
