"""The nbgrader pipeline, for every exercise, each run in a temporary course root.

- regenerating the release from solutions/ reproduces exercises/ exactly;
- the release holds no solution code and no hidden tests;
- autograding the solution gives full marks, the untouched release 0 (without crashing), and a
  submission with one part wrong keeps the points of the others.
"""

from __future__ import annotations

import ast
import filecmp
import shutil
from pathlib import Path

import nbformat
import pytest

from rnncourse.grading.nbgrader_cli import (
    HIDDEN_TEST_MARKERS,
    SOLUTION_MARKERS,
    autograde,
    exercise_ids,
    fill_in_solutions,
    points_by_part,
    read_scores,
    release,
    solution_cell_sources,
)

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = exercise_ids(ROOT)


def notebook_path(folder: Path, exercise_id: str) -> Path:
    return folder / exercise_id / f"{exercise_id}.ipynb"


def make_course_root(tmp_path: Path, ids: list[str]) -> Path:
    """A throwaway course folder holding the config and the given exercises' sources."""
    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for exercise_id in ids:
        shutil.copytree(ROOT / "solutions" / exercise_id, root / "solutions" / exercise_id)
    return root


def test_every_exercise_has_source_and_release() -> None:
    assert EXERCISES, "solutions/ holds no exercise"
    for exercise_id in EXERCISES:
        assert notebook_path(ROOT / "solutions", exercise_id).is_file()
        assert notebook_path(ROOT / "exercises", exercise_id).is_file(), (
            f"exercises/{exercise_id} is missing: run `rnncourse release`")
    released = sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir())
    assert released == EXERCISES, "exercises/ must hold exactly the releases of solutions/"


def test_regenerating_the_release_reproduces_exercises(tmp_path: Path) -> None:
    course = make_course_root(tmp_path, EXERCISES)
    release(course)
    for exercise_id in EXERCISES:
        comparison = filecmp.dircmp(course / "exercises" / exercise_id,
                                    ROOT / "exercises" / exercise_id)
        assert not comparison.left_only and not comparison.right_only, (
            f"{exercise_id}: release and exercises/ hold different files "
            f"({comparison.left_only} vs {comparison.right_only})")
        for name in comparison.common_files:
            regenerated = (course / "exercises" / exercise_id / name).read_bytes()
            committed = (ROOT / "exercises" / exercise_id / name).read_bytes()
            assert regenerated == committed, (
                f"exercises/{exercise_id}/{name} differs from a fresh release of solutions/: "
                "exercises/ is only ever regenerated (`rnncourse release`), never edited")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_release_holds_no_solutions_or_hidden_tests(exercise_id: str) -> None:
    released_text = notebook_path(ROOT / "exercises", exercise_id).read_text()
    for marker in SOLUTION_MARKERS + HIDDEN_TEST_MARKERS:
        assert marker not in released_text, f"{marker!r} leaked into the release of {exercise_id}"
    source = nbformat.read(notebook_path(ROOT / "solutions", exercise_id), as_version=4)
    released = nbformat.read(notebook_path(ROOT / "exercises", exercise_id), as_version=4)
    released_code = "\n".join(c.source for c in released.cells if c.cell_type == "code")
    # Every substantial line written only inside a solution or hidden region must be gone from
    # the release (lines the visible code has too, `with own_code(...):`, may stay).
    inside_lines, outside_lines = set(), set()
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == SOLUTION_MARKERS[0] or stripped == HIDDEN_TEST_MARKERS[0]:
                inside = True
            elif stripped == SOLUTION_MARKERS[1] or stripped == HIDDEN_TEST_MARKERS[1]:
                inside = False
            elif len(stripped) > 12 and not stripped.startswith("#"):
                (inside_lines if inside else outside_lines).add(stripped)
    released_lines = {line.strip() for line in released_code.splitlines()}
    leaked = sorted((inside_lines - outside_lines) & released_lines)
    assert not leaked, f"{exercise_id}: solution or hidden lines in the release: {leaked[:3]}"
    assert all(c.outputs == [] for c in released.cells if c.cell_type == "code"), (
        "the release must not carry outputs")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_source_notebook_is_well_formed(exercise_id: str) -> None:
    """Title first (the book's table of contents needs it), then a locked set-up cell; every
    part has a solution region and graded test cells with points, each saying what it checks."""
    source = nbformat.read(notebook_path(ROOT / "solutions", exercise_id), as_version=4)
    nbformat.validate(source)
    first, second = source.cells[0], source.cells[1]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        "first cell: an H1 title")
    assert second.cell_type == "code" and second.metadata["nbgrader"]["locked"], (
        "second cell: the locked set-up cell")
    parts = points_by_part(source)
    assert len(parts) >= 3, f"{exercise_id}: at least three graded parts"
    assert all(points > 0 for points in parts.values()), f"a part without graded tests: {parts}"
    for grade_id, code in solution_cell_sources(source).items():
        assert code.strip(), f"{grade_id}: empty solution"
    graded = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert all(c.metadata["nbgrader"]["locked"] for c in graded), "graded test cells are locked"
    assert all(HIDDEN_TEST_MARKERS[0] in c.source for c in graded), "every check has hidden tests"
    for cell in graded:
        first_line = cell.source.splitlines()[0]
        assert first_line.startswith("# ") and "point" in first_line, (
            f"{cell.metadata['nbgrader']['grade_id']}: the first line says what it checks and "
            f"its points, got {first_line!r}")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_warnings_are_shown_not_silenced(exercise_id: str) -> None:
    """PyTorch's warnings explain common mistakes (reading .grad of a non-leaf tensor): no cell
    silences them all. Grading keeps them from costing points (they go to stdout)."""
    source = nbformat.read(notebook_path(ROOT / "solutions", exercise_id), as_version=4)
    code = "\n".join(cell.source for cell in source.cells if cell.cell_type == "code")
    for silencer in ('filterwarnings("ignore")', "filterwarnings('ignore')",
                     'simplefilter("ignore")', "simplefilter('ignore')"):
        assert silencer not in code, f"{exercise_id}: {silencer} hides PyTorch's warnings"


def _hidden_code(cell_source: str) -> str:
    inside, lines = False, []
    for line in cell_source.splitlines():
        if line.strip() == HIDDEN_TEST_MARKERS[0]:
            inside = True
        elif line.strip() == HIDDEN_TEST_MARKERS[1]:
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_brief_is_the_test(exercise_id: str) -> None:
    """Each part's text lists what is checked, each test cell states its points, every hidden
    assert has a message, hidden helpers leave no names behind, and the set-up imports no
    reference implementation from the course library."""
    source = nbformat.read(notebook_path(ROOT / "solutions", exercise_id), as_version=4)
    texts = [c.source for c in source.cells if c.cell_type == "markdown"]
    parts = points_by_part(source)
    code_parts = [part for part in parts if not part.startswith("question_")]
    part_texts = [text for text in texts if text.startswith("## Part") and "question" not in text]
    assert len(part_texts) == len(code_parts) and all("**Checked" in t for t in part_texts), (
        f"{exercise_id}: every part's text lists what its tests check under **Checked**")
    questions = [part for part in parts if part.startswith("question_")]
    assert len(questions) >= 2, f"{exercise_id}: at least two concept questions"
    for cell in source.cells:
        if not cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        tree = ast.parse(_hidden_code(cell.source))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.Assert) or node.msg is not None, (
                f"{cell.metadata['nbgrader']['grade_id']}: a hidden assert without a message")
        top = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        deleted = {target.id for node in tree.body if isinstance(node, ast.Delete)
                   for target in node.targets if isinstance(target, ast.Name)}
        assert top <= deleted, f"hidden helpers {top - deleted} stay in the student's namespace"
    setup = source.cells[1].source
    imported = {node.module for node in ast.walk(ast.parse(setup))
                if isinstance(node, ast.ImportFrom) and node.module}
    course = {module for module in imported if module.startswith("rnncourse")}
    assert course <= {"rnncourse.grading.checks", "rnncourse.data", "rnncourse.data.timeseries"}, (
        f"{exercise_id}: the set-up imports {course}: reference implementations stay out of "
        "the student's namespace")


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_autograding(exercise_id: str, tmp_path: Path) -> None:
    course = make_course_root(tmp_path, [exercise_id])
    release(course, [exercise_id], record_in_gradebook=True)
    source = nbformat.read(notebook_path(course / "solutions", exercise_id), as_version=4)
    released = nbformat.read(notebook_path(course / "exercises", exercise_id), as_version=4)
    parts = points_by_part(source)
    total = sum(parts.values())

    submissions = {"solved": fill_in_solutions(released, source), "untouched": released}
    for part in parts:
        submissions[f"without-{part}"] = fill_in_solutions(released, source, leave_out={part})
    for student, notebook in submissions.items():
        target = notebook_path(course / "submitted" / student, exercise_id)
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)

    autograde(course, exercise_id)
    scores = read_scores(course, exercise_id)

    def total_score(student: str) -> float:
        return sum(part.score for part in scores[student])

    assert sum(part.max_score for part in scores["solved"]) == total
    assert total_score("solved") == total, f"the solution loses points: {scores['solved']}"
    assert total_score("untouched") == 0, (
        f"the untouched release earns points: {scores['untouched']}")
    for part, points in parts.items():
        assert total_score(f"without-{part}") == total - points, (
            f"leaving out {part} should cost exactly its {points} points: "
            f"{scores[f'without-{part}']}")
