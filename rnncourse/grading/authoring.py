"""Write nbgrader source notebooks from Python: cells with the right metadata.

Instructors usually author exercises in JupyterLab with nbgrader's "Create Assignment" toolbar.
These helpers do the same from code, so that an exercise can be written and reviewed as text:

    cells = [
        title("# Exercise 1: vanishing gradients", "intro"),
        setup("import torch", "setup"),
        solution("def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n    ### END SOLUTION", "f"),
        tests("assert f(1) == 1", "test-f", points=2),
    ]
    write_source_notebook(cells, "solutions/ex07-slug/ex07-slug.ipynb")
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def _nbgrader(cell, grade_id: str, *, solution: bool, grade: bool, locked: bool,
              points: float | None = None):
    metadata = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                "solution": solution, "task": False}
    if points is not None:
        metadata["points"] = points
    cell.metadata["nbgrader"] = metadata
    cell.id = grade_id
    return cell


def title(text: str, grade_id: str) -> nbformat.NotebookNode:
    """A locked markdown cell (instructions students should not edit)."""
    return _nbgrader(new_markdown_cell(text), grade_id, solution=False, grade=False, locked=True)


def markdown(text: str, grade_id: str) -> nbformat.NotebookNode:
    """A plain markdown cell, left editable (students may take notes in it)."""
    cell = new_markdown_cell(text)
    cell.id = grade_id
    return cell


def setup(code: str, grade_id: str) -> nbformat.NotebookNode:
    """A locked code cell: imports, seeds and sizes the tests rely on."""
    return _nbgrader(new_code_cell(code), grade_id, solution=False, grade=False, locked=True)


def solution(code: str, grade_id: str) -> nbformat.NotebookNode:
    """A cell with `### BEGIN SOLUTION` / `### END SOLUTION` regions that students fill in."""
    if "### BEGIN SOLUTION" not in code:
        raise ValueError(f"solution cell {grade_id!r} has no '### BEGIN SOLUTION' region")
    return _nbgrader(new_code_cell(code), grade_id, solution=True, grade=False, locked=False)


def tests(code: str, grade_id: str, points: float) -> nbformat.NotebookNode:
    """A locked, graded test cell worth `points`; `### BEGIN HIDDEN TESTS` regions stay private."""
    if points <= 0:
        raise ValueError(f"points must be positive, got {points} for {grade_id!r}")
    return _nbgrader(new_code_cell(code), grade_id, solution=False, grade=True, locked=True,
                     points=points)


def write_source_notebook(cells: list, path: str | Path) -> Path:
    """Write a Python-kernel notebook with these cells (validated by nbformat)."""
    notebook = new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"},
    }
    ids = [cell.id for cell in cells]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"cell ids must be unique, repeated: {duplicated}")
    nbformat.validate(notebook)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
