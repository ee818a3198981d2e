"""`rnncourse exercises list | start | check`: the student's commands."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest

from rnncourse.cli import main
from rnncourse.grading.exercises import (
    chapter_title,
    grade_cells_by_part,
    list_exercises,
    load_exercise,
    start_exercise,
)
from rnncourse.grading.nbgrader_cli import fill_in_solutions, points_by_part, release
from rnncourse.grading.sample import SAMPLE_ID, write_sample_exercise

ROOT = Path(__file__).resolve().parents[2]
EX01 = "ex01-vanishing-gradients"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course root holding the sample exercise, released, and a chapter page for it."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    write_sample_exercise(root)
    release(root, [SAMPLE_ID])
    (root / "book").mkdir()
    (root / "book" / "90-small-functions.md").write_text("# 90. Small functions\n\nText.\n")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Chapters\n    chapters:\n"
        "      - file: book/90-small-functions\n        sections:\n"
        f"          - file: exercises/{SAMPLE_ID}/{SAMPLE_ID}\n")
    return root


def notebooks(course: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    name = f"{SAMPLE_ID}/{SAMPLE_ID}.ipynb"
    return (nbformat.read(course / "solutions" / name, as_version=4),
            nbformat.read(course / "exercises" / name, as_version=4))


def test_list_shows_the_repository_exercises(capsys: pytest.CaptureFixture) -> None:
    assert main(["exercises", "list", "--root", str(ROOT)]) == 0
    printed = capsys.readouterr().out
    ex01 = load_exercise(ROOT, EX01)
    released = nbformat.read(ROOT / "exercises" / EX01 / f"{EX01}.ipynb", as_version=4)
    assert ex01.points == sum(points_by_part(released).values()) > 0
    assert ex01.title.startswith("Exercise 1")
    line = next(line for line in printed.splitlines() if line.startswith(EX01))
    assert f" {ex01.points:g} " in line and ex01.title in line


def test_list_names_the_chapter_from_the_toc(course: Path, capsys) -> None:
    assert chapter_title(course, SAMPLE_ID) == "90. Small functions"
    [exercise] = list_exercises(course)
    assert exercise.parts == {"mean": 2, "clip": 2, "relative_error": 1}
    assert main(["exercises", "list", "--root", str(course)]) == 0
    assert "90. Small functions" in capsys.readouterr().out


def test_start_copies_and_never_overwrites(course: Path, tmp_path: Path, capsys) -> None:
    work = tmp_path / "work"
    assert main(["exercises", "start", SAMPLE_ID, "--dir", str(work), "--root", str(course)]) == 0
    copied = work / f"{SAMPLE_ID}.ipynb"
    assert copied.read_bytes() == (course / "exercises" / SAMPLE_ID / copied.name).read_bytes()
    copied.write_text("my work")
    assert main(["exercises", "start", SAMPLE_ID, "--dir", str(work), "--root", str(course)]) == 1
    assert "not overwritten" in capsys.readouterr().out
    assert copied.read_text() == "my work"
    with pytest.raises(ValueError, match="is not an exercise"):
        start_exercise(course, "ex99-nothing", work)


def test_check_reports_each_part(course: Path, tmp_path: Path, capsys) -> None:
    """One notebook: a part passed, one failed (with its test cell and whole message), one not
    attempted, one test cell edited by the student (the released test runs). The file is left as
    it was."""
    source, released = notebooks(course)
    notebook = fill_in_solutions(released, source, leave_out={"relative_error"})
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "clip":
            cell.source = "def clip(x, low, high):\n    return x"
        if grade_id == "test_clip":
            cell.source = "print('looks fine to me')"
    path = tmp_path / "mine.ipynb"
    nbformat.write(notebook, path)
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
    assert main(["exercises", "check", str(path), "--root", str(course)]) == 1
    printed = capsys.readouterr().out
    lines = {line.split()[0]: line for line in printed.splitlines() if line.strip()}
    assert "passed" in lines["mean"] and lines["mean"].endswith("2/2")
    assert "failed" in lines["clip"] and lines["clip"].endswith("0/2")
    assert "test_clip: AssertionError: clip(5, 0, 3) should be 3" in lines["test_clip:"]
    assert "not attempted" in lines["relative_error"] and lines["relative_error"].endswith("0/1")
    assert "visible tests: 2 of 5 points" in printed
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


def test_check_shows_whole_messages(course: Path, tmp_path: Path, capsys) -> None:
    """A message of several hundred characters is shown whole (wrapped, never cut)."""
    source, released = notebooks(course)
    notebook = fill_in_solutions(released, source)
    long_message = " ".join(f"word{number}" for number in range(80))
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "mean":
            cell.source = f"def mean(values):\n    raise ValueError({long_message!r})"
    path = tmp_path / "long.ipynb"
    nbformat.write(notebook, path)
    assert main(["exercises", "check", str(path), "--root", str(course)]) == 1
    printed = " ".join(capsys.readouterr().out.split())
    assert len(long_message) > 400 and long_message in printed
    assert "..." not in printed


def test_check_passes_a_solved_notebook(course: Path, tmp_path: Path, capsys) -> None:
    source, released = notebooks(course)
    path = tmp_path / "solved.ipynb"
    nbformat.write(fill_in_solutions(released, source), path)
    assert main(["exercises", "check", str(path), "--root", str(course)]) == 0
    assert "visible tests: 5 of 5 points" in capsys.readouterr().out


def test_check_refuses_what_is_not_a_notebook(tmp_path: Path, capsys) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text("{")
    assert main(["exercises", "check", str(path), "--root", str(ROOT)]) == 2
    assert "not valid JSON" in capsys.readouterr().out


def test_parts_group_the_tests_that_follow_each_solution() -> None:
    source = nbformat.read(ROOT / "solutions" / EX01 / f"{EX01}.ipynb", as_version=4)
    parts = grade_cells_by_part(source)
    assert parts["rnn_cell"] == ["test_rnn_cell_shape", "test_rnn_cell_values",
                                 "test_rnn_cell_gradients"]
    assert list(parts) == list(points_by_part(source))
