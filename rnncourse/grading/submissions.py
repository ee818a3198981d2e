"""Finding the submissions of a class and turning each into a notebook nbgrader can grade.

Two layouts are read: nbgrader's `submitted/<student>/<exercise>/<notebook>.ipynb` (the folder
given may be `submitted/` or the course folder above it), and a flat folder of notebooks named
by student (`alice.ipynb`). Hidden files and folders (`.ipynb_checkpoints`, the `._alice.ipynb`
that macOS puts in archives) are not submissions. A student id is a file or folder name, and
must be text: a name that is not UTF-8 (from an archive made with another encoding) is refused,
naming the files to rename, before anything is graded; so is a folder that holds no notebook at
all (the wrong folder, or one given before the notebooks were collected). Files are only read,
never written.

`prepare` rebuilds a submission on the release's skeleton, so that whatever a student did to
the file, nbgrader sees a well-formed notebook: every locked cell (set-up, instructions, tests)
back as released, deleted ones put back in place, cell types and nbgrader metadata as released,
the release's kernel, no outputs and no other metadata (a `skip-execution` tag would make a
test cell pass unrun). The student's own cells and solution code are kept as written.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

_NEW_CELL = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}


@dataclass(frozen=True)
class Submission:
    """One student's hand-in: the notebook file, or None when there is none."""

    student: str
    path: Path | None
    note: str = ""


def _notebooks_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.glob("*.ipynb")
                  if path.is_file() and not path.name.startswith("."))


def _check_names(submissions: list[Submission]) -> None:
    """ValueError naming the submissions whose student id is not text (not UTF-8 on disk)."""
    undecodable = []
    for submission in submissions:
        try:
            submission.student.encode("utf-8")
        except UnicodeEncodeError:
            undecodable.append(submission)
    if undecodable:
        raise ValueError("these submissions' names are not UTF-8 text, so they cannot name a "
                         "student in the grade table; rename them and grade again: " + ", ".join(
                             repr(os.fsencode(submission.path or submission.student))
                             for submission in undecodable))


def find_submissions(folder: str | Path, exercise_id: str,
                     notebook_name: str) -> list[Submission]:
    """The submissions in `folder`, sorted by student (see the module docstring)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"
    found = {path.stem: Submission(path.stem, path) for path in _notebooks_in(folder)}
    for student_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
        student = student_folder.name
        if student.startswith(".") or student in found:
            continue
        exercise_folder = student_folder / exercise_id
        expected = exercise_folder / f"{notebook_name}.ipynb"
        others = _notebooks_in(exercise_folder) if exercise_folder.is_dir() else []
        if expected.is_file():
            found[student] = Submission(student, expected)
        elif len(others) == 1:
            found[student] = Submission(student, others[0],
                                        f"graded {others[0].name} (expected {expected.name})")
        else:
            found[student] = Submission(student, None,
                                        f"no {expected.name} in {student}/{exercise_id}/")
    submissions = [found[student] for student in sorted(found)]
    if not any(submission.path for submission in submissions):
        raise ValueError(f"no notebook of {exercise_id} in {folder}: expected "
                         f"submitted/<student>/{exercise_id}/{notebook_name}.ipynb or a flat "
                         f"folder of <student>.ipynb")
    _check_names(submissions)
    return submissions


def read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """The notebook in `path`, or None and why it cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None, "the file is not UTF-8 text"
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        return None, f"not valid JSON ({error.msg} at line {error.lineno})"
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        return None, "not a Jupyter notebook (no list of cells)"
    try:
        return nbformat.reads(text, as_version=4), ""
    except Exception as error:  # nbformat raises many kinds on malformed notebooks
        return None, f"not a Jupyter notebook ({type(error).__name__})"


def _grade_id(cell: dict) -> str | None:
    metadata = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def prepare(notebook: nbformat.NotebookNode,
            release: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """Rebuild `notebook` on the skeleton of `release` (see the module docstring); return it
    with notes on what had to be put right."""
    released = {_grade_id(cell): cell for cell in release.cells if _grade_id(cell)}
    order = [_grade_id(cell) for cell in release.cells if _grade_id(cell)]
    cells = [cell for cell in notebook.cells if isinstance(cell, dict)]
    # A copied cell repeats its grade id; like nbgrader, the last copy is the one graded.
    last_copy = {_grade_id(cell): position for position, cell in enumerate(cells)}
    notes, edited, demoted = [], [], []
    rebuilt = []
    for position, cell in enumerate(cells):
        grade_id = _grade_id(cell)
        reference = released.get(grade_id)
        if reference is None or last_copy[grade_id] != position:
            if grade_id is not None:
                demoted.append(grade_id)
            kind = cell.get("cell_type") if cell.get("cell_type") in _NEW_CELL else "raw"
            rebuilt.append((None, _NEW_CELL[kind](_source(cell))))
            continue
        if reference.metadata["nbgrader"].get("solution"):
            source = _source(cell)
        else:
            source = reference.source
            if _source(cell) != reference.source:
                edited.append(grade_id)
        new_cell = _NEW_CELL[reference.cell_type](source)
        new_cell.metadata["nbgrader"] = copy.deepcopy(reference.metadata["nbgrader"])
        rebuilt.append((grade_id, new_cell))
    present = {grade_id for grade_id, _ in rebuilt if grade_id}
    missing = [grade_id for grade_id in order if grade_id not in present]
    for grade_id in missing:
        # Insert after the nearest cell that comes before it in the release.
        earlier = order[:order.index(grade_id)]
        positions = [i for i, (other, _) in enumerate(rebuilt) if other in earlier]
        cell = copy.deepcopy(released[grade_id])
        cell.pop("id", None)
        rebuilt.insert(positions[-1] + 1 if positions else 0, (grade_id, cell))
    if missing:
        notes.append("put back deleted cells: " + ", ".join(missing))
    if edited:
        notes.append("restored edited cells: " + ", ".join(edited))
    if demoted:
        notes.append("graded as plain cells (unknown or repeated ids): "
                     + ", ".join(sorted(set(demoted))))
    kernel = notebook.metadata.get("kernelspec", {})
    expected_kernel = release.metadata.get("kernelspec", {})
    if isinstance(kernel, dict) and kernel.get("name") != expected_kernel.get("name"):
        notes.append(f"kernel {kernel.get('name')!r} replaced by {expected_kernel.get('name')!r}")
    result = new_notebook(metadata=copy.deepcopy(release.metadata))
    for number, (grade_id, cell) in enumerate(rebuilt):
        cell.id = grade_id if grade_id else f"cell-{number}"
        result.cells.append(cell)
    nbformat.validate(result)
    return result, notes
