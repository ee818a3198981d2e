"""Run nbgrader on a course folder: release exercises, autograde submissions, read the scores.

A course folder ("course root") holds `nbgrader_config.py`, `solutions/` (the source) and
`exercises/` (the release). nbgrader writes a gradebook and working folders (`submitted/`,
`autograded/`, `feedback/`) there; tests and graders use a temporary copy, never the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_TEST_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


class NbgraderError(RuntimeError):
    """nbgrader exited with an error; the message holds the end of its log."""


def find_course_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: the working folder) holding
    nbgrader_config.py."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise FileNotFoundError(f"no nbgrader_config.py in {here} or any folder above it")


def run_nbgrader(arguments: list[str], course_root: str | Path,
                 timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGUMENTS` in `course_root`; raise NbgraderError when it fails.

    nbgrader calls its `alembic` executable by name, so this interpreter's bin folder goes first
    on PATH.
    """
    course_root = Path(course_root).resolve()
    environment = dict(os.environ)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                           environment.get("PATH", "")])
    command = [sys.executable, "-m", "nbgrader", *arguments,
               f"--CourseDirectory.root={course_root}"]
    completed = subprocess.run(command, cwd=course_root, env=environment, capture_output=True,
                               text=True, timeout=timeout)
    if completed.returncode != 0:
        log = (completed.stdout + completed.stderr)[-3000:]
        raise NbgraderError(f"nbgrader {' '.join(arguments)} failed in {course_root}:\n{log}")
    return completed


def exercise_ids(course_root: str | Path) -> list[str]:
    """The exercises of a course: the folders of `solutions/` that hold a notebook."""
    source = Path(course_root) / "solutions"
    return sorted(folder.name for folder in source.iterdir()
                  if folder.is_dir() and any(folder.glob("*.ipynb")))


def release(course_root: str | Path, ids: list[str] | None = None, *,
            record_in_gradebook: bool = False) -> list[Path]:
    """Regenerate `exercises/ID/` from `solutions/ID/` for each exercise; return the folders.

    With `record_in_gradebook`, nbgrader also stores the exercise (its grade cells and hidden
    tests) in the course's gradebook, which autograding needs.
    """
    course_root = Path(course_root)
    released = []
    for exercise_id in ids or exercise_ids(course_root):
        arguments = ["generate_assignment", exercise_id, "--force"]
        if not record_in_gradebook:
            arguments.append("--no-db")
        run_nbgrader(arguments, course_root)
        released.append(course_root / "exercises" / exercise_id)
    return released


def autograde(course_root: str | Path, exercise_id: str, timeout: float | None = None) -> None:
    """Autograde every submission in `submitted/*/EXERCISE_ID/` (students created as needed)."""
    run_nbgrader(["autograde", exercise_id, "--create", "--force"], course_root, timeout=timeout)


@dataclass(frozen=True)
class GradedPart:
    """One grade cell of a graded notebook."""

    name: str
    score: float
    max_score: float


def read_scores(course_root: str | Path, exercise_id: str) -> dict[str, list[GradedPart]]:
    """Scores from the course's gradebook: student id -> the graded parts of their notebook(s)."""
    from nbgrader.api import Gradebook

    url = f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"
    scores: dict[str, list[GradedPart]] = {}
    with Gradebook(url) as gradebook:
        for submission in gradebook.assignment_submissions(exercise_id):
            parts = []
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    parts.append(GradedPart(grade.name, float(grade.score), float(grade.max_score)))
            scores[submission.student.id] = sorted(parts, key=lambda part: part.name)
    return scores


def solution_cell_sources(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """grade_id -> the code of each solution cell, its `### BEGIN/END SOLUTION` lines removed."""
    sources = {}
    for cell in notebook.cells:
        metadata = cell.metadata.get("nbgrader", {})
        if metadata.get("solution") and cell.cell_type == "code":
            lines = [line for line in cell.source.splitlines()
                     if line.strip() not in SOLUTION_MARKERS]
            sources[metadata["grade_id"]] = "\n".join(lines)
    return sources


def fill_in_solutions(release_notebook: nbformat.NotebookNode,
                      source_notebook: nbformat.NotebookNode,
                      leave_out: set[str] = frozenset()) -> nbformat.NotebookNode:
    """A copy of the release with its solution cells filled in from the source, as a student
    who solved everything (but the parts in `leave_out`) would hand it in."""
    solutions = solution_cell_sources(source_notebook)
    filled = nbformat.from_dict(release_notebook)
    for cell in filled.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions and grade_id not in leave_out:
            cell.source = solutions[grade_id]
    return filled


def points_by_part(notebook: nbformat.NotebookNode) -> dict[str, float]:
    """For each solution cell, the points of the grade cells that follow it (up to the next one).

    In the course's exercises each part is a solution cell followed by its own test cells, so a
    part done wrong costs exactly these points.
    """
    points: dict[str, float] = {}
    current = None
    for cell in notebook.cells:
        metadata = cell.metadata.get("nbgrader", {})
        if metadata.get("solution") and cell.cell_type == "code":
            current = metadata["grade_id"]
            points[current] = 0.0
        elif metadata.get("grade") and current is not None:
            points[current] += float(metadata.get("points", 0))
    return points
