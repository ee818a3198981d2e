"""Mutation testing of the exercises: wrong implementations of every graded part must lose that
part's points when autograded, while the solution keeps full marks and the untouched release
scores 0. Feedback pages, the mutants' included, must not show a line of any hidden test.

The mutants are in `tests/exercises/mutants/exNN.py`. Parts are graded independently, so one submission
holds the k-th mutant of every part at once ("round k"): each part's score tells about its own
mutant, and the other parts' solutions must keep their points beside them. The outcome of every
mutant is compared with `tests/exercises/mutants/results.json`, from which the instructors' guide shows its
table (`RNNCOURSE_UPDATE_MUTANT_RESULTS=1` rewrites the file from this run instead).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from mutants import KINDS, RESULTS, ZEROED_KINDS, Mutant, mutants_of

from rnncourse.grading.grader import GradeOptions, GradeReport, grade
from rnncourse.grading.nbgrader_cli import (
    HIDDEN_TEST_MARKERS,
    exercise_ids,
    fill_in_solutions,
    points_by_part,
    release,
)
from rnncourse.grading.outputs import COURSE_FOLDER

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = [exercise_id for exercise_id in exercise_ids(ROOT)
             if (ROOT / "tests" / "exercises" / "mutants" / f"{exercise_id.split('-')[0]}.py").is_file()]
QUESTION_KINDS = {"wrong answer", "fake object"}


def source_notebook(exercise_id: str, folder: Path = ROOT / "solutions"):
    return nbformat.read(folder / exercise_id / f"{exercise_id}.ipynb", as_version=4)


@pytest.mark.parametrize("exercise_id", exercise_ids(ROOT))
def test_every_part_has_mutants_of_several_kinds(exercise_id: str) -> None:
    assert exercise_id in EXERCISES, f"tests/exercises/mutants has no mutants of {exercise_id}"
    parts = points_by_part(source_notebook(exercise_id))
    mutants = mutants_of(exercise_id)
    assert set(mutants) == set(parts), (
        f"{exercise_id}: mutants for {sorted(mutants)}, parts {sorted(parts)}")
    for part, wrong in mutants.items():
        kinds = {mutant.kind for mutant in wrong}
        names = [mutant.name for mutant in wrong]
        assert len(names) == len(set(names)), f"{part}: two mutants share a name"
        assert len(wrong) >= 4, f"{exercise_id} {part}: {len(wrong)} mutants, at least 4 needed"
        if kinds <= QUESTION_KINDS:
            continue  # a concept question: its wrong answers
        assert len(kinds) >= 4, f"{exercise_id} {part}: mutants of {len(kinds)} kinds: {kinds}"


@dataclass
class GradedClass:
    exercise_id: str
    report: GradeReport
    mutants: dict[str, list[Mutant]]
    source: nbformat.NotebookNode

    def row(self, student: str):
        return next(row for row in self.report.grades if row.student == student)


def _with_mutants(solved, mutants: dict[str, Mutant]):
    notebook = nbformat.from_dict(solved)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in mutants:
            cell.source = mutants[grade_id].code
    return notebook


@pytest.fixture(scope="module", params=EXERCISES)
def graded(request, tmp_path_factory) -> GradedClass:
    exercise_id = request.param
    folder = tmp_path_factory.mktemp(exercise_id)
    root = folder / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "solutions" / exercise_id, root / "solutions" / exercise_id)
    release(root, [exercise_id])
    source = source_notebook(exercise_id, root / "solutions")
    released = source_notebook(exercise_id, root / "exercises")
    solved = fill_in_solutions(released, source)
    mutants = mutants_of(exercise_id)
    submissions = {"solution": solved, "untouched": released}
    for index in range(max(len(wrong) for wrong in mutants.values())):
        chosen = {part: wrong[index] for part, wrong in mutants.items() if index < len(wrong)}
        submissions[f"round-{index + 1:02d}"] = _with_mutants(solved, chosen)
    class_folder = folder / "class"
    class_folder.mkdir()
    for student, notebook in submissions.items():
        nbformat.write(notebook, class_folder / f"{student}.ipynb")
    report = grade(root, exercise_id, class_folder, folder / "out",
                   GradeOptions(cell_timeout=120, notebook_timeout=600, jobs=2))
    return GradedClass(exercise_id, report, mutants, source)


@pytest.mark.slow
def test_solution_keeps_full_marks_and_the_release_scores_0(graded: GradedClass) -> None:
    solution, untouched = graded.row("solution"), graded.row("untouched")
    assert solution.parts == graded.report.max_points, solution
    assert (solution.status, solution.message) == ("graded", ""), solution
    assert untouched.total == 0, untouched


def _outcomes(graded: GradedClass) -> dict[str, list[dict]]:
    outcomes: dict[str, list[dict]] = {}
    for part, wrong in graded.mutants.items():
        for index, mutant in enumerate(wrong):
            row = graded.row(f"round-{index + 1:02d}")
            outcomes.setdefault(part, []).append(
                {"name": mutant.name, "kind": mutant.kind, "points": row.parts[part],
                 "max": graded.report.max_points[part]})
    return outcomes


@pytest.mark.slow
def test_every_mutant_loses_its_part_and_only_its_part(graded: GradedClass) -> None:
    rounds = max(len(wrong) for wrong in graded.mutants.values())
    for index in range(rounds):
        row = graded.row(f"round-{index + 1:02d}")
        for part, maximum in graded.report.max_points.items():
            wrong = graded.mutants[part]
            if index >= len(wrong):
                assert row.parts[part] == maximum, (
                    f"{part}'s solution lost points beside other parts' mutants: {row}")
                continue
            mutant = wrong[index]
            assert row.parts[part] < maximum, (
                f"{graded.exercise_id} {part}: mutant {mutant.name} ({mutant.kind}) kept all "
                f"{maximum:g} points")
            if mutant.kind in ZEROED_KINDS:
                assert row.parts[part] == 0, (
                    f"{part}: {mutant.name} called a forbidden function and kept "
                    f"{row.parts[part]:g} points")
                assert part in row.message and "scores 0" in row.message, row.message


@pytest.mark.slow
def test_outcomes_match_the_recorded_results(graded: GradedClass) -> None:
    recorded = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    outcomes = _outcomes(graded)
    if os.environ.get("RNNCOURSE_UPDATE_MUTANT_RESULTS") == "1":
        recorded[graded.exercise_id] = outcomes
        RESULTS.write_text(results_text(recorded))
    assert recorded.get(graded.exercise_id) == outcomes, (
        "tests/exercises/mutants/results.json differs from this run: rerun with "
        "RNNCOURSE_UPDATE_MUTANT_RESULTS=1 and regenerate the guide's table")


def results_text(results: dict) -> str:
    """The results as JSON with one line per mutant (readable diffs)."""
    lines = ["{"]
    for exercise_number, (exercise_id, parts) in enumerate(sorted(results.items())):
        lines.append(f" {json.dumps(exercise_id)}: {{")
        for part_number, (part, outcomes) in enumerate(parts.items()):
            lines.append(f"  {json.dumps(part)}: [")
            lines += [f"   {json.dumps(outcome)}," for outcome in outcomes]
            lines[-1] = lines[-1].rstrip(",")
            lines.append("  ]" + ("," if part_number < len(parts) - 1 else ""))
        lines.append(" }" + ("," if exercise_number < len(results) - 1 else ""))
    return "\n".join(lines + ["}"]) + "\n"


def hidden_test_lines(source: nbformat.NotebookNode, elsewhere: str) -> set[str]:
    """The substantial lines of the hidden tests that appear nowhere else: not in the source
    outside hidden regions (the release, the solutions), nor in `elsewhere` (the mutants)."""
    hidden, outside, inside = set(), set(elsewhere.splitlines()), False
    for cell in source.cells:
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == HIDDEN_TEST_MARKERS[0]:
                inside = True
            elif stripped == HIDDEN_TEST_MARKERS[1]:
                inside = False
            elif inside:
                hidden.add(stripped)
            else:
                outside.add(stripped)
    outside = {line.strip() for line in outside}
    return {line for line in hidden if len(line) > 12 and line not in outside}


def page_text(page: Path) -> str:
    """The text of an HTML page as a reader sees it (tags dropped, entities decoded)."""
    raw = page.read_text(errors="replace")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


@pytest.mark.slow
def test_feedback_shows_no_hidden_test(graded: GradedClass) -> None:
    mutant_code = "\n".join(mutant.code for wrong in graded.mutants.values() for mutant in wrong)
    hidden = hidden_test_lines(graded.source, mutant_code)
    assert hidden, "the exercise has no hidden tests"
    pages = sorted(graded.report.feedback.rglob("*.html"))
    assert len(pages) == len(graded.report.grades)
    for page in pages:
        text = page_text(page)
        assert "BEGIN HIDDEN TESTS" not in text, f"{page}: a hidden test region"
        shown = {line.strip() for line in text.splitlines()}
        leaked = sorted(hidden & shown)
        assert not leaked, f"{page.parent.parent.name}'s feedback shows hidden tests: {leaked[:3]}"
        assert "_rnncourse_guard" not in text, f"{page}: the grading guard's name"
        assert COURSE_FOLDER not in text, f"{page}: a traceback into the course package"


def test_mutant_kinds_are_explained() -> None:
    assert all(KINDS.values())
