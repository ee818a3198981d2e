"""nbgrader preprocessors that give `nbgrader autograde` and `nbgrader generate_feedback` (the
formgrader's commands) the protections of `rnncourse grade`; `nbgrader_config.py` names them.

- `RestoreReleasedCells` (first of `Autograde.sanitize_preprocessors`) rebuilds a submission on
  the exercise's skeleton, as `rnncourse grade` does before it calls nbgrader: deleted test and
  set-up cells put back in place, edited ones restored, cell types and metadata as released
  (`rnncourse.grading.submissions.prepare`). nbgrader's own `OverwriteCells` then puts the hidden
  tests in, as usual.
- `HideHiddenTests` (in `GenerateFeedback.preprocessors`) removes the hidden tests from the
  feedback page, keeps only `Name: message` of test cells' errors (`outputs.clean_errors`), and
  hides every output line that quotes a hidden test (`outputs.hide_quoted_tests`).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool

from rnncourse.grading.outputs import clean_errors, hidden_test_lines, hide_quoted_tests
from rnncourse.grading.submissions import prepare

SANITIZE_PREPROCESSORS = [
    "rnncourse.grading.preprocessors.RestoreReleasedCells",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
FEEDBACK_PREPROCESSORS = [
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "rnncourse.grading.preprocessors.HideHiddenTests",
]


def without_hidden_tests(source: str) -> str:
    """A cell's source as released: its `### BEGIN/END HIDDEN TESTS` regions removed."""
    cell = new_code_cell(source)
    remover = ClearHiddenTests(enforce_metadata=False)
    while remover._remove_hidden_test_region(cell):
        pass
    return cell.source


def released_skeleton(source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The cells of a source notebook as students receive them, for `prepare`: hidden tests
    removed (solution cells are never compared, so they stay as they are)."""
    release = copy.deepcopy(source)
    for cell in release.cells:
        if cell.cell_type == "code" and utils.is_grade(cell):
            cell.source = without_hidden_tests(cell.source)
    return release


def _skeleton_from_gradebook(db_url: str, notebook_id: str, assignment_id: str):
    """The skeleton from the gradebook's record of the source cells (in the order nbgrader
    stored them), when the source notebook is not at hand."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        notebook = gradebook.find_notebook(notebook_id, assignment_id)
        points = {cell.name: cell.max_score for cell in notebook.grade_cells}
        solutions = {cell.name for cell in notebook.solution_cells}
        cells = []
        for record in notebook.source_cells:
            make = new_code_cell if record.cell_type == "code" else new_markdown_cell
            cell = make(record.source)
            metadata = {"grade": record.name in points, "grade_id": record.name,
                        "locked": bool(record.locked), "schema_version": 3,
                        "solution": record.name in solutions, "task": False}
            if record.name in points:
                metadata["points"] = points[record.name]
            cell.metadata["nbgrader"] = metadata
            cells.append(cell)
    return released_skeleton(new_notebook(cells=cells))


class RestoreReleasedCells(Preprocessor):
    """Rebuild a submission on the exercise's skeleton (see the module docstring)."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        source = Path(coursedir.format_path(coursedir.source_directory, ".",
                                            info["assignment"])) / f"{info['notebook']}.ipynb"
        if source.is_file():
            skeleton = released_skeleton(nbformat.read(source, as_version=4))
        else:
            skeleton = _skeleton_from_gradebook(info["db_url"], info["notebook"],
                                                info["assignment"])
        rebuilt, notes = prepare(nb, skeleton)
        for note in notes:
            self.log.warning("%s: %s", info.get("student", "submission"), note)
        return rebuilt, resources


class HideHiddenTests(Preprocessor):
    """Feedback without hidden tests or tracebacks of test cells (see the module docstring)."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        self._hidden = hidden_test_lines(nb)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.source = without_hidden_tests(cell.source)
            clean_errors(cell, locked=utils.is_locked(cell) or utils.is_grade(cell))
            hide_quoted_tests(cell, self._hidden)
        return cell, resources
