"""The nbgrader pipeline, for every exercise, each run in a temporary course root.

- regenerating the release from solutions/ reproduces exercises/ exactly;
- the release holds no solution code and no hidden tests;
- autograding the solution gives full marks, the untouched release 0 (without crashing), and a
  submission with one part wrong keeps the points of the others.
"""

from __future__ import annotations

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
    # Every substantial line written inside a solution region must be gone from the release.
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == SOLUTION_MARKERS[0] or stripped == HIDDEN_TEST_MARKERS[0]:
                inside = True
            elif stripped == SOLUTION_MARKERS[1] or stripped == HIDDEN_TEST_MARKERS[1]:
                inside = False
            elif inside and len(stripped) > 12 and not stripped.startswith("#"):
                assert stripped not in released_code, (
                    f"{exercise_id}: a line of a solution or hidden test is in the release: "
                    f"{stripped!r}")
    assert all(c.outputs == [] for c in released.cells if c.cell_type == "code"), (
        "the release must not carry outputs")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_source_notebook_is_well_formed(exercise_id: str) -> None:
    """Title first (the book's table of contents needs it), then a locked set-up cell; every
    part has a solution region and a graded test cell with points."""
    source = nbformat.read(notebook_path(ROOT / "solutions", exercise_id), as_version=4)
    nbformat.validate(source)
    first, second = source.cells[0], source.cells[1]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        "first cell: an H1 title")
    assert second.cell_type == "code" and second.metadata["nbgrader"]["locked"], (
        "second cell: the locked set-up cell")
    assert "warnings.filterwarnings" in second.source, "the set-up cell silences warnings (stderr)"
    parts = points_by_part(source)
    assert len(parts) >= 3, f"{exercise_id}: at least three graded parts"
    assert all(points > 0 for points in parts.values()), f"a part without graded tests: {parts}"
    for grade_id, code in solution_cell_sources(source).items():
        assert code.strip(), f"{grade_id}: empty solution"
    graded = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert all(c.metadata["nbgrader"]["locked"] for c in graded), "graded test cells are locked"
    assert any(HIDDEN_TEST_MARKERS[0] in c.source for c in graded), "hidden tests are present"


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
