"""Check a student's notebook against its visible tests: `rnncourse exercises check PATH`.

The notebook is read, rebuilt on its release (so the visible tests and set-up run as released,
even if they were edited or deleted) and executed in a fresh kernel, in memory: the student's
file is never written. Each part is then passed, failed or not attempted (its solution cell is
as released, or raises NotImplementedError); each of its checks (test cells) passed or failed
with its whole message. Checks that pass earn their points, except in a part whose code called
a library function the part forbids: it scores 0, as when graded.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import nbformat

from rnncourse.grading.exercises import grade_cells_by_part
from rnncourse.grading.outputs import FORBIDDEN_ERROR
from rnncourse.grading.submissions import prepare, read_notebook


@dataclass(frozen=True)
class TestCheck:
    """One test cell of a part: passed or not, the error's message, its points."""

    name: str
    passed: bool
    message: str
    points: float
    max_points: float


@dataclass(frozen=True)
class PartCheck:
    """How one part fared: status is "passed", "failed" or "not attempted"."""

    part: str
    status: str
    message: str
    points: float
    max_points: float
    checks: tuple[TestCheck, ...] = ()


@dataclass(frozen=True)
class CheckReport:
    path: Path
    parts: list[PartCheck]
    notes: list[str]

    @property
    def passed(self) -> bool:
        return bool(self.parts) and all(part.status == "passed" for part in self.parts)

    @property
    def points(self) -> float:
        return sum(part.points for part in self.parts)

    @property
    def max_points(self) -> float:
        return sum(part.max_points for part in self.parts)


def _grade_ids(notebook: nbformat.NotebookNode) -> set[str]:
    return {cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
            if isinstance(cell.metadata.get("nbgrader", {}).get("grade_id"), str)}


def find_release(notebook: nbformat.NotebookNode, course_root: Path | None):
    """The release notebook in `course_root/exercises/` sharing most grade ids with
    `notebook`, or None."""
    if course_root is None or not (course_root / "exercises").is_dir():
        return None
    ids, best, overlap = _grade_ids(notebook), None, 0
    for path in sorted((course_root / "exercises").glob("*/*.ipynb")):
        candidate = nbformat.read(path, as_version=4)
        shared = len(ids & _grade_ids(candidate))
        if shared > overlap:
            best, overlap = candidate, shared
    return best


def _first_error(cell) -> tuple[str, str] | None:
    """The first error of a cell: its name and whole message (never cut short)."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            return output.ename, f"{output.ename}: {output.evalue}".strip()
    return None


def check_notebook(path: str | Path, course_root: Path | None = None,
                   timeout: int = 60) -> CheckReport:
    """Run the notebook at `path` with its visible tests (see the module docstring).

    Raises a ValueError when the file is not a notebook.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    notebook, problem = read_notebook(path)
    if notebook is None:
        raise ValueError(f"{path} cannot be checked: {problem}")
    release = find_release(notebook, course_root)
    notes = []
    if release is not None:
        notebook, notes = prepare(notebook, release)
    else:
        notes.append("no release found for this notebook: its own test cells were run")
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
    stub = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in
            (release or notebook).cells if cell.metadata.get("nbgrader", {}).get("solution")}
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
        interrupt_on_timeout=True, resources={"metadata": {"path": str(path.parent.resolve())}},
        error_on_timeout={"ename": "TimeoutError",
                          "evalue": f"the cell ran longer than {timeout} s and was stopped"})
    try:
        # The kernel's own log lines would only clutter the report.
        client.execute(stderr=subprocess.DEVNULL)
    except DeadKernelError:
        notes.append("the kernel died (exit, crash or out of memory); later cells did not run")
    cells = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
             if cell.metadata.get("nbgrader", {}).get("grade_id")}
    parts = [_part_check(part, [cells[test] for test in test_ids], cells.get(part),
                         stub.get(part) if release is not None else None)
             for part, test_ids in grade_cells_by_part(notebook).items()]
    return CheckReport(path, parts, notes)


def _part_check(part: str, tests: list, solution, stub: str | None) -> PartCheck:
    checks = []
    for cell in tests:
        error = _first_error(cell)
        points = float(cell.metadata["nbgrader"]["points"])
        if cell.get("execution_count") is None and error is None:
            error = ("NotRun", "the tests did not run")
        checks.append(TestCheck(cell.metadata["nbgrader"]["grade_id"], error is None,
                                error[1] if error else "", points if error is None else 0.0,
                                points))
    max_points = sum(check.max_points for check in checks)
    errors = [message for check in checks if (message := check.message)]
    untouched = solution is not None and stub is not None and (
        solution.source.strip() == stub.strip())
    if untouched or any(message.startswith("NotImplementedError") for message in errors):
        return PartCheck(part, "not attempted", "", 0.0, max_points, tuple(checks))
    if not errors:
        return PartCheck(part, "passed", "", max_points, max_points, tuple(checks))
    forbidden = any(message.startswith(f"{FORBIDDEN_ERROR}:") for message in errors)
    points = 0.0 if forbidden else sum(check.points for check in checks)
    return PartCheck(part, "failed", errors[0], points, max_points, tuple(checks))
