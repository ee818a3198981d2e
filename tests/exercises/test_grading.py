"""`rnncourse grade`: grading that survives whatever students hand in.

One grading run of the sample exercise (standard library only, so kernels start fast) covers a
class of synthetic submissions, one per thing that can go wrong; each test checks one row of
the resulting table. A second, smaller run on a flat folder checks that grading again gives the
same table. A run of a small torch exercise checks that what libraries change on their own
(torch wrapping `Adam.step` when the first optimizer is built, lazy imports, plots, progress
bars) is not taken for tampering, while students' replacements still are; one run of ex01
checks the defence against replaced torch comparisons.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from test_mutants import hidden_test_lines, page_text

from rnncourse.cli import main
from rnncourse.grading import authoring
from rnncourse.grading import grader as grader_module
from rnncourse.grading.grader import GradeOptions, grade
from rnncourse.grading.nbgrader_cli import fill_in_solutions, read_scores, release
from rnncourse.grading.outputs import HIDDEN_LINE, SHORTEST_HIDDEN_LINE
from rnncourse.grading.preprocessors import released_skeleton
from rnncourse.grading.sample import SAMPLE_ID, sample_cells, write_sample_exercise
from rnncourse.grading.submissions import find_submissions, prepare

ROOT = Path(__file__).resolve().parents[2]
EX01 = "ex01-vanishing-gradients"
TRAINING_ID = "ex91-training"
OPTIONS = GradeOptions(cell_timeout=6, notebook_timeout=60, jobs=2)
ODD_ID = " o'neil [2]* é "
LEAKS = {"mean": "import linecache, sys\ndef mean(values):\n"
                 "    print(linecache.getlines(sys._getframe(1).f_code.co_filename))\n"
                 "    return sum(values) / len(values)",
         "clip": "print(In)\ndef clip(x, low, high):\n    if low > high:\n"
                 "        raise ValueError('low > high')\n    return max(low, min(x, high))"}


def make_course(folder: Path, exercise_id: str) -> tuple[Path, nbformat.NotebookNode,
                                                        nbformat.NotebookNode]:
    """A course root in `folder` with one exercise released; its source and release."""
    root = folder / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    if exercise_id == SAMPLE_ID:
        write_sample_exercise(root)
    elif exercise_id == TRAINING_ID:
        write_training_exercise(root)
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
        # ... or reading the course's solutions while it is graded.
        "reads-solutions": with_code(solved, mean=(
            "from pathlib import Path\ndef mean(values):\n"
            "    Path('../../../solutions/ex90-sample/ex90-sample.ipynb').read_text()\n"
            "    return sum(values) / len(values)")),
        # ... or the gradebook: as a database (scores are written there), or through links.
        "gradebook-as-database": with_code(solved, mean=(
            "import sqlite3\ndef mean(values):\n"
            "    database = sqlite3.connect('../../../gradebook.db')\n"
            "    database.execute('CREATE TRIGGER IF NOT EXISTS full AFTER UPDATE ON grade BEGIN "
            "UPDATE grade SET auto_score = 100 WHERE id = NEW.id; END')\n"
            "    database.commit()\n    return sum(values) / len(values)"),
            clip=("def clip(x, low, high):\n"
                  "    with open('../../../nbgrader_config.py', 'a') as config:\n"
                  "        config.write('\\n# c.Autograde.autograde_preprocessors = []\\n')\n"
                  "    return max(low, min(x, high)) if low <= high else 1 / 0")),
        "gradebook-through-links": with_code(solved, mean=(
            "import os\nGRADEBOOK = '../../../gradebook.db'\ndef mean(values):\n"
            "    if not os.path.lexists('symbolic.txt'):\n"
            "        os.symlink(os.path.abspath(GRADEBOOK), 'symbolic.txt')\n"
            "    open('symbolic.txt', 'rb').read()\n    return sum(values) / len(values)"),
            clip=("def clip(x, low, high):\n    if not os.path.exists('hard.txt'):\n"
                  "        os.link(GRADEBOOK, 'hard.txt')\n    open('hard.txt', 'rb').read()\n"
                  "    return max(low, min(x, high)) if low <= high else 1 / 0"),
            relative_error=("def relative_error(estimate, exact):\n"
                            "    os.replace(GRADEBOOK, 'renamed.txt')\n"
                            "    open('renamed.txt', 'rb').read()\n"
                            "    os.replace('renamed.txt', GRADEBOOK)\n"
                            "    return abs(estimate - exact) / abs(exact)")),
        # ... or replacing the gradebook or nbgrader's configuration with a file of its own.
        "replaces-course-files": with_code(solved, mean=(
            "import os\ndef mean(values):\n    open('mine.txt', 'w').close()\n"
            "    os.replace('mine.txt', '../../../gradebook.db')\n"
            "    return sum(values) / len(values)"),
            relative_error=("def relative_error(estimate, exact):\n"
                            "    open('mine.txt', 'w').close()\n"
                            "    os.replace('mine.txt', '../../../nbgrader_config.py')\n"
                            "    return abs(estimate - exact) / abs(exact)")),
        # Printing the hidden tests: from the input history, or the calling cell's source.
        "leaks-hidden-tests": with_code(solved, **LEAKS),
        "no-notebook": None,
        # nbgrader reads student ids as file globs and strips their spaces.
        ODD_ID: solved,
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
                         "reads-solutions", "gradebook-as-database",
                         "gradebook-through-links", "replaces-course-files",
                         "leaks-hidden-tests", "no-notebook",
                         ODD_ID}
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


def test_any_folder_name_is_a_student_id(sample_run) -> None:
    report, rows, _ = sample_run
    assert scores(rows, ODD_ID) == (2, 2, 1, 5)
    assert rows[ODD_ID]["status"] == "graded"
    assert (report.feedback / ODD_ID / SAMPLE_ID / f"{SAMPLE_ID}.html").is_file()
    gradebook = read_scores(report.gradebook.parent, SAMPLE_ID)
    assert sum(part.score for part in gradebook[ODD_ID]) == 5


def test_names_that_are_no_student_id_are_refused_or_skipped(sample_run, tmp_path: Path,
                                                             capsys) -> None:
    root = sample_run[0].table.parents[1] / "course"
    released = root / "exercises" / SAMPLE_ID / f"{SAMPLE_ID}.ipynb"
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("ann.ipynb", "._ann.ipynb", ".~ben.ipynb"):  # macOS and editors' hidden files
        shutil.copy(released, flat / name)
    with pytest.raises(ValueError, match="no notebook of ex90-sample in"):
        find_submissions(tmp_path, SAMPLE_ID, SAMPLE_ID)  # flat/ holds no submission for it
    assert [found.student for found in find_submissions(flat, SAMPLE_ID, SAMPLE_ID)] == ["ann"]
    # An archive unpacked with another encoding than UTF-8: the name is not text.
    shutil.copy(released, os.fsencode(flat) + b"/caf\xe9.ipynb")
    with pytest.raises(ValueError, match=r"not UTF-8.*caf\\xe9\.ipynb"):
        find_submissions(flat, SAMPLE_ID, SAMPLE_ID)
    out = tmp_path / "out"
    assert main(["grade", SAMPLE_ID, str(flat), "--root", str(root), "--out", str(out)]) == 2
    assert "rename them and grade again" in capsys.readouterr().out
    assert not out.exists()


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


def test_feedback_hides_printed_hidden_tests(sample_run) -> None:
    report, rows, _ = sample_run
    root = report.table.parents[1] / "course"
    source = nbformat.read(root / "solutions" / SAMPLE_ID / f"{SAMPLE_ID}.ipynb", as_version=4)
    hidden = hidden_test_lines(source, "\n".join(LEAKS.values()))
    page = page_text(report.feedback / "leaks-hidden-tests" / SAMPLE_ID / f"{SAMPLE_ID}.html")
    assert scores(rows, "leaks-hidden-tests") == (2, 2, 1, 5)
    assert HIDDEN_LINE in page
    assert not [line for line in hidden if len(line) >= SHORTEST_HIDDEN_LINE and line in page]


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
    assert scores(rows, "reads-solutions") == (0, 2, 1, 3)
    assert rows["reads-solutions"]["status"] == "tampered"
    assert "may not read the course's notebooks" in rows["reads-solutions"]["message"]
    assert scores(rows, "gradebook-as-database") == (0, 0, 1, 1)
    assert rows["gradebook-as-database"]["status"] == "tampered"
    assert "may not open a database" in rows["gradebook-as-database"]["message"]
    assert scores(rows, "gradebook-through-links") == (0, 0, 0, 0)
    assert rows["gradebook-through-links"]["status"] == "tampered"
    assert scores(rows, "replaces-course-files") == (0, 2, 0, 2)
    assert rows["replaces-course-files"]["status"] == "tampered"


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


def test_prepare_grades_changed_copied_and_claimed_ids_as_plain_cells() -> None:
    release = released_skeleton(nbformat.v4.new_notebook(cells=sample_cells()))
    submission = nbformat.from_dict(release)
    by_id = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in submission.cells}
    by_id["test_mean"].metadata["nbgrader"]["grade_id"] = "mine"  # the test, renamed
    by_id["test_mean"].source = "print('all good')"
    copy = nbformat.from_dict(by_id["test_clip"])  # the test, copied before its part
    copy.source = "pass"
    submission.cells.insert(submission.cells.index(by_id["clip"]), copy)
    claim = nbformat.v4.new_code_cell("bonus = 1")  # a cell of its own that claims points
    claim.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 100,
                                  "locked": False, "solution": False, "schema_version": 3}
    submission.cells.append(claim)
    rebuilt, notes = prepare(submission, release)
    graded = [(cell.metadata["nbgrader"]["grade_id"], cell.source) for cell in rebuilt.cells
              if cell.metadata.get("nbgrader", {}).get("grade")]
    assert graded == [(cell.metadata["nbgrader"]["grade_id"], cell.source) for cell in release.cells
                      if cell.metadata.get("nbgrader", {}).get("grade")]
    assert notes == ["put back deleted cells: test_mean",
                     "graded as plain cells (unknown or repeated ids): bonus, mine, test_clip"]


def test_scores_beyond_a_cells_points_count_nothing() -> None:
    parts = {"mean": ["test_mean"], "clip": ["test_clip"]}
    outcome = {"grades": {"test_mean": [100.0, 100.0], "test_clip": [2.0, 2.0]}, "events": [],
               "error": "", "feedback": ""}
    row = grader_module._row("ann", outcome, parts, [], 60, {"test_mean": 2.0, "test_clip": 2.0})
    assert (row.parts, row.status) == ({"mean": 0.0, "clip": 2.0}, "tampered")
    assert "test_mean: the gradebook held 100 of 2 points: scored 0" in row.message


def test_the_course_configuration_grades_with_the_guard() -> None:
    from traitlets.config.loader import PyFileConfigLoader

    from rnncourse.grading.execution import AUTOGRADE_PREPROCESSORS
    from rnncourse.grading.preprocessors import FEEDBACK_PREPROCESSORS, SANITIZE_PREPROCESSORS

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert list(config.Autograde.autograde_preprocessors) == AUTOGRADE_PREPROCESSORS
    assert list(config.Autograde.sanitize_preprocessors) == SANITIZE_PREPROCESSORS
    assert list(config.GenerateFeedback.preprocessors) == FEEDBACK_PREPROCESSORS


def test_grade_options_are_checked() -> None:
    with pytest.raises(ValueError, match="cell_timeout"):
        GradeOptions(cell_timeout=0)
    with pytest.raises(ValueError, match="jobs"):
        GradeOptions(jobs=0)


# --- a test cell that trains with torch optimizers ----------------------------------------------

TRAINING_SETUP = ("import warnings\n\nimport torch\n\nwarnings.filterwarnings('ignore')\n"
                  "INPUTS = torch.linspace(-1, 1, 16).unsqueeze(1)\nTARGETS = 3 * INPUTS + 0.5")
# The test cell builds the kernel's first Adam and SGD: torch then wraps their `step` methods.
TRAINING_TEST = (
    "for optimizer_class, rate in ((torch.optim.Adam, 0.1), (torch.optim.SGD, 0.5)):\n"
    "    torch.manual_seed(0)\n    model = torch.nn.Linear(1, 1)\n"
    "    optimizer = optimizer_class(model.parameters(), lr=rate)\n"
    "    losses = [train_step(model, optimizer, INPUTS, TARGETS) for _ in range(200)]\n"
    "    assert losses[-1] < 1e-3 * losses[0], f'{optimizer_class.__name__} did not fit'\n"
    "    assert torch.allclose(model.weight.detach(), torch.tensor([[3.0]]), atol=0.05)\n"
    "    torch.testing.assert_close(model.bias.detach(), torch.tensor([0.5]), atol=0.05,\n"
    "                               rtol=0)\n")


def write_training_exercise(course_root: Path) -> None:
    """One part, `train_step`, whose test trains a line with Adam and SGD (2 points)."""
    cells = [
        authoring.title("# Training a line\n\nWrite `train_step`.", "intro"),
        authoring.setup(TRAINING_SETUP, "setup"),
        authoring.solution("def train_step(model, optimizer, inputs, targets):\n"
                           "    ### BEGIN SOLUTION\n    optimizer.zero_grad()\n"
                           "    loss = torch.nn.functional.mse_loss(model(inputs), targets)\n"
                           "    loss.backward()\n    optimizer.step()\n"
                           "    return loss.item()\n    ### END SOLUTION", "train_step"),
        authoring.tests(TRAINING_TEST, "test_train_step", points=2),
    ]
    authoring.write_source_notebook(cells, course_root / "solutions" / TRAINING_ID
                                    / f"{TRAINING_ID}.ipynb")


# A student cell that uses libraries which change their own state: plots (the inline backend),
# a progress bar, warning filters, seeds, module hooks, another optimizer and its scheduler,
# copies, a lazy import.
LIBRARY_USE = (
    "import copy, io, random\nimport warnings\n\nimport matplotlib.pyplot as plt\n"
    "import numpy as np\nfrom tqdm.auto import tqdm\n\nwarnings.simplefilter('ignore')\n"
    "random.seed(1); np.random.seed(1); torch.manual_seed(1)\n"
    "net = torch.nn.Sequential(torch.nn.Linear(1, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))\n"
    "hook = net[0].register_forward_hook(lambda module, inputs, output: None)\n"
    "adamw = torch.optim.AdamW(net.parameters())\n"
    "schedule = torch.optim.lr_scheduler.StepLR(adamw, step_size=5)\n"
    "for _ in tqdm(range(10), file=io.StringIO()):\n"
    "    adamw.zero_grad()\n    net(INPUTS).pow(2).mean().backward()\n"
    "    adamw.step()\n    schedule.step()\n"
    "hook.remove()\nbackup = copy.deepcopy(adamw)\nimport torch.distributions\n"
    "figure, axes = plt.subplots()\naxes.plot([1, 2, 3])\nplt.show()\n")
NO_BACKWARD = ("def train_step(model, optimizer, inputs, targets):\n"
               "    loss = torch.nn.functional.mse_loss(model(inputs), targets)\n"
               "    optimizer.step()\n    return loss.item()\n")
# A `step` that puts the parameters where the tests want them, without any training.
JUMP = ("def jump(self, *args, **kwargs):\n"
        "    for parameter, value in zip(self.param_groups[0]['params'], (3.0, 0.5)):\n"
        "        parameter.data.fill_(value)\n")
FAKE_LOSSES = ("fake_losses = iter(10.0 ** -k for k in range(10**6))\n"
               "def train_step(model, optimizer, inputs, targets):\n")


def training_class(source, released) -> dict[str, nbformat.NotebookNode]:
    solved = fill_in_solutions(released, source)
    busy = nbformat.from_dict(solved)
    part = next(index for index, cell in enumerate(busy.cells)
                if cell.metadata.get("nbgrader", {}).get("grade_id") == "train_step")
    busy.cells.insert(part, nbformat.v4.new_code_cell(LIBRARY_USE))
    return {
        "solved": busy,
        "step-in-cell": with_code(solved, train_step=NO_BACKWARD + JUMP
                                  + "torch.optim.Adam.step = torch.optim.SGD.step = jump\n"),
        "step-in-test": with_code(solved, train_step=JUMP + NO_BACKWARD.replace(
            "    optimizer.step()", "    type(optimizer).step = jump\n    optimizer.step()")),
        "allclose": with_code(solved, train_step=FAKE_LOSSES + "    return next(fake_losses)\n"
                              "torch.allclose = lambda *args, **kwargs: True\n"),
        # Library helpers doing the student's replacing: a C function in a class, a swapped
        # function body, `unittest.mock` while the tests run.
        "library-helpers": with_code(solved, train_step=(
            FAKE_LOSSES + "    from unittest import mock\n"
            "    mock.patch('torch.allclose', lambda *args, **kwargs: True).start()\n"
            "    return next(fake_losses)\n"
            "import functools, operator\n"
            "torch.Tensor.__lt__ = functools.partialmethod(operator.is_not)\n"
            "torch.testing.assert_close.__code__ = (lambda *args, **kwargs: None).__code__\n")),
    }


@pytest.fixture(scope="module")
def training_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("training")
    root, source, released = make_course(folder, TRAINING_ID)
    class_folder = folder / "class"
    class_folder.mkdir()
    for student, notebook in training_class(source, released).items():
        nbformat.write(notebook, class_folder / f"{student}.ipynb")
    report = grade(root, TRAINING_ID, class_folder, folder / "out",
                   GradeOptions(cell_timeout=60, notebook_timeout=120, jobs=2))
    return {row.student: row for row in report.grades}


def test_optimizers_and_libraries_are_not_tampering(training_run) -> None:
    row = training_run["solved"]
    assert (row.total, row.status, row.message) == (2, "graded", ""), row


def test_replaced_optimizer_steps_earn_nothing(training_run) -> None:
    for student, how in (("step-in-cell", "put back before the tests"),
                         ("step-in-test", "while the tests ran")):
        row = training_run[student]
        assert (row.total, row.status) == (0, "tampered"), row
        assert how in row.message and "torch.optim.adam.Adam.step" in row.message, row


def test_replaced_comparisons_through_library_helpers_earn_nothing(training_run) -> None:
    row = training_run["allclose"]
    assert (row.total, row.status) == (0, "tampered"), row
    assert "may not replace torch.allclose" in row.message, row
    row = training_run["library-helpers"]
    assert (row.total, row.status) == (0, "tampered"), row
    for change in ("torch.Tensor.__lt__", "assert_close.__code__", "replace torch.allclose"):
        assert change in row.message, f"{change} not reported: {row}"


@pytest.mark.slow
def test_replaced_torch_comparisons_earn_nothing(tmp_path: Path) -> None:
    root, source, released = make_course(tmp_path, EX01)
    solved = fill_in_solutions(released, source)
    # Wrong in every check (shape included), so that any point earned would be the cheat's.
    wrong_cell = ("def rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
                  "    return torch.zeros(x.shape[0], 1)\n")
    wrong_forward = ("def rnn_forward(cell, inputs, h0):\n"
                     "    torch.testing.assert_close = lambda *args, **kwargs: None\n"
                     "    torch.allclose = lambda *args, **kwargs: True\n"
                     "    return [h0[:, :1].clone().requires_grad_()]\n")
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
