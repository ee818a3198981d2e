"""Grade a class's submissions of one exercise: `rnncourse grade ID SUBMISSIONS`.

Each student is graded by nbgrader in a course root of their own (configuration, source, a copy
of the exercise's gradebook, their one submission), so students are graded in parallel without
sharing a gradebook; the results are then merged. Each submission runs in a new kernel process,
forked from a warm template that has imported torch (`rnncourse.grading.warm_kernels`).
What comes out, in the output folder:

- `grades.csv`: student, the points of each part, total, status, message;
- `feedback/<student>/<exercise>/<notebook>.html`: nbgrader's feedback page for each student,
  laid out as in an nbgrader course folder (so `nbgrader release_feedback` can send it);
- `gradebook.db`: an nbgrader gradebook with every student's scores.

Each file is written to a temporary name and renamed, so an interrupted run leaves the previous
files (or none), never half-written ones. Submitted files are only read. Statuses:

| status | meaning |
|---|---|
| graded | every cell ran (the score may still be 0) |
| timeout | a time limit stopped a cell or the notebook; the cells that ran keep their points |
| crashed | a cell stopped the kernel; it was restarted and the other cells graded |
| tampered | notebook code changed what the tests use; those tests score 0 (review by hand) |
| unreadable | the file is not a notebook (0 points) |
| missing | no notebook was handed in (0 points) |
| error | nbgrader failed on this submission (0 points; see the message) |
"""

from __future__ import annotations

import csv
import html
import io
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnncourse.grading.atomic_files import write_atomically
from rnncourse.grading.exercises import grade_cells_by_part
from rnncourse.grading.pool import run_jobs, usable_cores
from rnncourse.grading.shards import Shard, check_shard_output, write_manifest
from rnncourse.grading.submissions import find_submissions, prepare, read_notebook
from rnncourse.grading.worker import REPORT_NAME, ROOT_STUDENT, run_converter

# When several statuses apply, the first in this order is shown.
STATUS_ORDER = ("error", "missing", "unreadable", "tampered", "crashed", "timeout", "graded")
_EVENT_STATUS = {"tampering": "tampered", "crash": "crashed", "timeout": "timeout",
                 "forbidden": "graded"}


@dataclass(frozen=True)
class GradeOptions:
    """Time limits (seconds), how many students are graded at once (None: one per core) and
    the kernel manager nbclient uses."""

    cell_timeout: int = 60
    notebook_timeout: int = 600
    jobs: int | None = None
    # Kernels forked from a warm process (`rnncourse.grading.warm_kernels`); jupyter_client's
    # "jupyter_client.manager.AsyncKernelManager" starts each from scratch.
    kernel_manager: str = "rnncourse.grading.warm_kernels.ForkedKernelManager"

    def __post_init__(self) -> None:
        for name in ("cell_timeout", "notebook_timeout"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive number of seconds, "
                                 f"got {getattr(self, name)!r}")
        if self.jobs is not None and (not isinstance(self.jobs, int) or self.jobs < 1):
            raise ValueError(f"jobs must be a positive integer or None, got {self.jobs!r}")


@dataclass
class StudentGrade:
    """One row of the grade table."""

    student: str
    parts: dict[str, float]
    status: str
    message: str = ""
    cell_scores: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def total(self) -> float:
        return sum(self.parts.values())


@dataclass
class GradeReport:
    """What `grade` produced: the rows, the maximum points per part and the files written."""

    exercise_id: str
    max_points: dict[str, float]
    grades: list[StudentGrade]
    table: Path
    feedback: Path
    gradebook: Path
    seconds: float
    jobs: int
    shard: str = ""  # "K/N" when one shard of the class was graded

    def summary(self) -> str:
        maximum = sum(self.max_points.values())
        counts = {status: sum(g.status == status for g in self.grades) for status in STATUS_ORDER}
        mean = sum(g.total for g in self.grades) / len(self.grades) if self.grades else 0.0
        of_shard = f" (shard {self.shard})" if self.shard else ""
        lines = [f"graded {len(self.grades)} submissions of {self.exercise_id}{of_shard} in "
                 f"{self.seconds:.0f} s ({self.jobs} at a time)",
                 f"mean {mean:.2f} of {maximum:g} points; "
                 + ", ".join(f"{n} {status}" for status, n in counts.items() if n)]
        for row in self.grades:
            if row.status != "graded":
                lines.append(f"  {row.student}: {row.status}, {row.total:g} points: {row.message}")
        lines.append(f"table: {self.table}\nfeedback: {self.feedback}\ngradebook: {self.gradebook}")
        return "\n".join(lines)


def _course_config(course_root: Path, options: GradeOptions, report: Path) -> str:
    from rnncourse.grading.execution import AUTOGRADE_PREPROCESSORS
    from rnncourse.grading.preprocessors import FEEDBACK_PREPROCESSORS, SANITIZE_PREPROCESSORS

    return ((course_root / "nbgrader_config.py").read_text()
            + "\n# Added by `rnncourse grade` for this run.\n"
            + f"c.Autograde.sanitize_preprocessors = {SANITIZE_PREPROCESSORS!r}\n"
            + f"c.Autograde.autograde_preprocessors = {AUTOGRADE_PREPROCESSORS!r}\n"
            + f"c.GenerateFeedback.preprocessors = {FEEDBACK_PREPROCESSORS!r}\n"
            + f"c.Execute.timeout = {options.cell_timeout}\n"
            + f"c.GuardedExecute.notebook_timeout = {options.notebook_timeout}\n"
            + f"c.GuardedExecute.report_file = {str(report)!r}\n"
            + "c.GuardedExecute.kernel_manager_class = "
            + f"{options.kernel_manager!r}\n")


def _make_root(root: Path, course_root: Path, exercise_id: str, options: GradeOptions) -> None:
    (root / "solutions").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        _course_config(course_root, options, root / REPORT_NAME))
    shutil.copytree(course_root / "solutions" / exercise_id, root / "solutions" / exercise_id,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


def _worker_environment(jobs: int) -> dict[str, str]:
    environment = dict(os.environ)
    # nbgrader calls `alembic` by name; each of `jobs` kernels gets its share of the cores.
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                           environment.get("PATH", "")])
    threads = str(max(1, usable_cores() // jobs))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        environment[name] = threads
    return environment


def _row(student: str, outcome: dict | None, parts: dict[str, list[str]],
         notes: list[str], limit: float, points: dict[str, float]) -> StudentGrade:
    """A table row from a worker's answer (None: the hard time limit or a dead worker). A test
    cell's score outside 0..its points in the release (a gradebook changed while the notebook
    ran) counts 0 and marks the row tampered."""
    if outcome is None:
        outcome = {"grades": {}, "feedback": "", "error": "",
                   "events": [{"kind": "timeout", "cell": "notebook",
                               "detail": f"grading ran past {limit:.0f} s and was stopped"}]}
    cells = {name: float(score) for name, (score, _) in outcome["grades"].items()}
    for name, score in cells.items():
        if not 0 <= score <= points.get(name, 0.0):
            outcome["events"].append({"kind": "tampering", "cell": name, "detail": (
                f"the gradebook held {score:g} of {points.get(name, 0.0):g} points: scored 0")})
            cells[name] = 0.0
    statuses = [_EVENT_STATUS[event["kind"]] for event in outcome["events"]]
    if outcome["error"]:
        statuses.append("error")
        if not outcome["error"].startswith("GenerateFeedback"):  # no trustworthy scores
            cells = {}
    # One message per distinct problem, naming the cells it happened in.
    where: dict[str, list[str]] = {}
    for event in outcome["events"]:
        where.setdefault(event["detail"], []).append(event["cell"])
    messages = list(notes) + [f"{', '.join(dict.fromkeys(names))}: {detail}"
                              for detail, names in where.items()]
    if outcome["error"]:
        messages.append(f"nbgrader failed: {outcome['error']}")
    status = min(statuses or ["graded"], key=STATUS_ORDER.index)
    scores = {part: sum(cells.get(cell, 0.0) for cell in part_cells)
              for part, part_cells in parts.items()}
    return StudentGrade(student, scores, status, "; ".join(messages), cells)


def _feedback_page(exercise_id: str, row: StudentGrade) -> bytes:
    """A small feedback page for a submission nbgrader could not grade."""
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{exercise_id}: "
            f"{html.escape(row.student)}</title></head><body>\n<h1>{exercise_id}</h1>\n"
            f"<p>Student: {html.escape(row.student)}. Status: <b>{row.status}</b>. "
            f"Score: {row.total:g}.</p>\n<p>{html.escape(row.message)}</p>\n</body></html>\n"
            ).encode()


def _write_table(path: Path, rows: list[StudentGrade], parts: list[str]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *parts, "total", "status", "message"])
    for row in rows:
        writer.writerow([row.student, *(f"{row.parts[p]:g}" for p in parts), f"{row.total:g}",
                         row.status, row.message])
    write_atomically(path, buffer.getvalue().encode())


def write_gradebook(template: Path, target: Path, exercise_id: str,
                     rows: list[StudentGrade]) -> None:
    """The exercise's gradebook with every student's scores, renamed into place when done."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        shutil.copy(template, partial)
        with warnings.catch_warnings(), Gradebook(f"sqlite:///{partial}") as gradebook:
            # nbgrader's own session use makes SQLAlchemy 2 warn; the rows are written right.
            warnings.simplefilter("ignore", SAWarning)
            for row in rows:
                gradebook.update_or_create_student(row.student)
                submission = gradebook.update_or_create_submission(exercise_id, row.student)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        grade.auto_score = row.cell_scores.get(grade.name, 0.0)
                        grade.needs_manual_grade = False
                gradebook.db.commit()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def grade(course_root: str | Path, exercise_id: str, submissions: str | Path,
          output: str | Path, options: GradeOptions = GradeOptions(),
          progress: Callable[[str], None] | None = None,
          shard: Shard | None = None) -> GradeReport:
    """Grade every submission of `exercise_id` in `submissions` into `output` (see the module
    docstring). `progress`, when given, receives one line per student as they finish. With
    `shard`, only that shard's students are graded, and `output` also gets the shard's manifest
    for `rnncourse grade merge` (`rnncourse.grading.shards`)."""
    course_root, output = Path(course_root), Path(output)
    check_shard_output(output, exercise_id, shard)
    sources = sorted((course_root / "solutions" / exercise_id).glob("*.ipynb"))
    if len(sources) != 1:
        raise ValueError(f"solutions/{exercise_id} must hold exactly one notebook, "
                         f"found {len(sources)}")
    notebook_name = sources[0].stem
    found = find_submissions(submissions, exercise_id, notebook_name)
    if shard is not None:
        found = [submission for submission in found if shard.holds(submission.student)]
    jobs = min(options.jobs or usable_cores(), max(1, len(found)))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rnncourse-grade-") as work_folder:
        work = Path(work_folder)
        template = work / "template"
        _make_root(template, course_root, exercise_id, options)
        problem = run_converter(template, "GenerateAssignment", exercise_id)
        if problem:
            raise RuntimeError(f"nbgrader could not release {exercise_id}: {problem}")
        release = nbformat.read(template / "exercises" / exercise_id / f"{notebook_name}.ipynb",
                                as_version=4)
        parts = grade_cells_by_part(release)
        points = {cell.metadata["nbgrader"]["grade_id"]: float(cell.metadata["nbgrader"]["points"])
                  for cell in release.cells if cell.metadata.get("nbgrader", {}).get("grade")}
        max_points = {part: sum(points[c] for c in cells) for part, cells in parts.items()}

        rows: dict[str, StudentGrade] = {}
        notes: dict[str, list[str]] = {}
        worker_jobs = []
        for number, submission in enumerate(found):
            student, zero = submission.student, dict.fromkeys(parts, 0.0)
            notes[student] = [submission.note] if submission.note else []
            if submission.path is None:
                rows[student] = StudentGrade(student, zero, "missing", submission.note)
                continue
            notebook, problem = read_notebook(submission.path)
            if notebook is None:
                rows[student] = StudentGrade(student, zero, "unreadable",
                                             f"{submission.path.name}: {problem}")
                continue
            prepared, fixes = prepare(notebook, release)
            notes[student] += fixes
            root = work / "students" / str(number)
            _make_root(root, course_root, exercise_id, options)
            shutil.copy(template / "gradebook.db", root / "gradebook.db")
            target = root / "submitted" / ROOT_STUDENT / exercise_id / f"{notebook_name}.ipynb"
            target.parent.mkdir(parents=True)
            nbformat.write(prepared, target)
            worker_jobs.append({"root": str(root), "exercise": exercise_id, "student": student})

        limit = options.notebook_timeout + 2 * options.cell_timeout + 300
        maximum = sum(max_points.values())

        def report(student: str, outcome: dict | None) -> None:
            rows[student] = _row(student, outcome, parts, notes[student], limit, points)
            if progress is not None:
                row = rows[student]
                progress(f"{student}: {row.total:g}/{maximum:g} ({row.status})")

        answers = run_jobs(worker_jobs, jobs, limit, _worker_environment(jobs),
                           work / "workers.log", on_result=report)
        ordered = [rows[submission.student] for submission in found]

        feedback = output / "feedback"
        output.mkdir(parents=True, exist_ok=True)  # a shard may have no students
        students = [row.student for row in ordered]
        if shard is not None:  # until the last file is written, the shard is incomplete
            write_manifest(output, exercise_id, shard, students, max_points, complete=False)
        for row in ordered:
            page = (answers.get(row.student) or {}).get("feedback", "")
            data = Path(page).read_bytes() if page else _feedback_page(exercise_id, row)
            write_atomically(feedback / row.student / exercise_id / f"{notebook_name}.html",
                              data)
        write_gradebook(template / "gradebook.db", output / "gradebook.db", exercise_id, ordered)
        _write_table(output / "grades.csv", ordered, list(parts))
        if shard is not None:
            write_manifest(output, exercise_id, shard, students, max_points, complete=True)
    return GradeReport(exercise_id, max_points, ordered, output / "grades.csv", feedback,
                       output / "gradebook.db", time.monotonic() - started, jobs,
                       shard.label if shard else "")
