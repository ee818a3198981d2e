"""What graded notebooks may show students: error outputs without hidden test source or course
internals, no output line that quotes a hidden test, and whole parts scored 0 when their code
called a forbidden library shortcut.

Used by `GuardedExecute` as it grades (both grading paths) and again by the feedback
preprocessor, so a feedback page never shows a test cell's traceback (whose context lines are
the hidden tests' source), the grading guard's line, or frames inside the course package. Code
running in the kernel can read the source of the cell that calls it (IPython's `In`, the
calling frame's file in `linecache`), so the feedback preprocessor also replaces every output
line that contains a line of a hidden test (one of at least `SHORTEST_HIDDEN_LINE` characters
that the notebook does not show elsewhere) by `HIDDEN_LINE`.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from nbformat.v4 import new_output

from rnncourse.grading.exercises import grade_cells_by_part
from rnncourse.grading.nbgrader_cli import HIDDEN_TEST_MARKERS

COURSE_FOLDER = str(Path(__file__).resolve().parents[1])
_GUARD_NAME = re.compile(r"_rnncourse_guard\w*")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FORBIDDEN_ERROR = "ForbiddenCallError"
HIDDEN_LINE = "[a line of a hidden test: not shown]"
SHORTEST_HIDDEN_LINE = 10


def error_output(ename: str, evalue: str):
    """An error output that shows only its one line."""
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _mentions_course_code(entry: str) -> bool:
    plain = _ANSI.sub("", entry)
    return COURSE_FOLDER in plain or bool(_GUARD_NAME.search(plain))


def clean_errors(cell, locked: bool) -> None:
    """Errors of a locked cell (set-up, tests) keep only `Name: message`; errors of a student's
    cell keep their traceback but lose the frames inside course code."""
    for index, output in enumerate(cell.get("outputs", [])):
        if output.get("output_type") != "error":
            continue
        ename, evalue = str(output.get("ename", "Error")), str(output.get("evalue", ""))
        evalue = _GUARD_NAME.sub("grader", evalue)
        if locked:
            cell.outputs[index] = error_output(ename, evalue)
        else:
            kept = [entry for entry in output.get("traceback", [])
                    if not _mentions_course_code(entry)]
            cell.outputs[index] = new_output("error", ename=ename, evalue=evalue,
                                             traceback=kept or [f"{ename}: {evalue}"])


def zero_parts_with_forbidden_calls(notebook) -> dict[str, str]:
    """A part whose code called a forbidden shortcut in one check scores 0 in all its checks:
    add an error to the part's other test cells. Returns part -> the first check's message."""
    cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}
    zeroed = {}
    for part, test_ids in grade_cells_by_part(notebook).items():
        found = [(test_id, output.get("evalue", "")) for test_id in test_ids
                 for output in cells[test_id].get("outputs", [])
                 if output.get("output_type") == "error" and output.get("ename") == FORBIDDEN_ERROR]
        if not found:
            continue
        where, message = found[0]
        zeroed[part] = message
        for test_id in test_ids:
            outputs = cells[test_id].setdefault("outputs", [])
            if not any(output.get("output_type") == "error" for output in outputs):
                outputs.append(error_output(FORBIDDEN_ERROR, (
                    f"this part scores 0: its code called a library function it asks you to "
                    f"write yourself (see {where})")))
    return zeroed


def hidden_test_lines(notebook) -> set[str]:
    """The lines of the notebook's hidden tests (stripped, at least `SHORTEST_HIDDEN_LINE`
    characters long) that no locked cell shows outside its hidden tests."""
    hidden, shown = set(), set()
    for cell in notebook.cells:
        metadata = cell.get("metadata", {}).get("nbgrader", {})
        if metadata.get("solution") or not (metadata.get("grade") or metadata.get("locked")):
            continue
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped in HIDDEN_TEST_MARKERS:
                inside = stripped == HIDDEN_TEST_MARKERS[0]
            elif len(stripped) >= SHORTEST_HIDDEN_LINE:
                (hidden if inside else shown).add(stripped)
    return hidden - shown


def hide_quoted_tests(cell, hidden: set[str]) -> None:
    """Replace each line of the cell's outputs that contains one of the `hidden` lines (as
    text or HTML-escaped) by `HIDDEN_LINE`."""
    quoted = hidden | {html.escape(line, quote=quote) for line in hidden for quote in (0, 1)}

    def clean(text):
        text = "".join(text) if isinstance(text, list) else text
        if not isinstance(text, str) or not any(line in text for line in quoted):
            return text
        return "\n".join(HIDDEN_LINE if any(line in part for line in quoted) else part
                         for part in text.split("\n"))

    for output in cell.get("outputs", []) if quoted else []:
        for key in ("text", "evalue"):
            if key in output:
                output[key] = clean(output[key])
        if "traceback" in output:
            output["traceback"] = [clean(entry) for entry in output["traceback"]]
        for kind, value in output.get("data", {}).items():
            output["data"][kind] = clean(value)
