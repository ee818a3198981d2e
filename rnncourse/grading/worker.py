"""A grading worker process: `python -m rnncourse.grading.worker`.

It reads jobs from stdin, one JSON object per line (`{"root": ..., "exercise": ...,
"student": ...}`), autogrades each submission with nbgrader in its own course root (which holds
the configuration, the source, a gradebook and the one submission, filed under the id
`ROOT_STUDENT` whatever the student's id: nbgrader reads ids as file globs and strips their
spaces, so `a[1]` or `alice ` would match no submission), generates its feedback, and
writes one JSON line per job to stdout: the score of every test cell, what the grader noticed
(time limits, crashes, tampering) and any nbgrader error. Keeping the process for many jobs pays
for importing nbgrader once, and its kernels are forked from one warm template that has imported
torch (`rnncourse.grading.warm_kernels`); `rnncourse.grading.grader` runs several, one per core.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPORT_NAME = "grading-report.json"
# The id of the one student of a course root; the job's "student" names the row it answers.
ROOT_STUDENT = "student"


def _last_error_line(result: dict) -> str:
    """The most telling line of a failed nbgrader run's log and traceback."""
    lines = (result.get("log", "") + "\n" + result.get("error", "")).splitlines()
    useful = [line.strip() for line in lines if "Error" in line and "see the error log" not in line]
    return (useful or [line.strip() for line in lines if line.strip()] or ["nbgrader failed"])[-1]


def run_converter(root: Path, converter_name: str, exercise_id: str,
                  student: str = "*") -> str:
    """Run nbgrader's converter (`Autograde`, `GenerateFeedback`, `GenerateAssignment`) in
    this process, configured by `root`'s nbgrader_config.py; "" or what went wrong."""
    from nbgrader import converters
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    config.HTMLExporter.template_name = "feedback"
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = exercise_id, student
    app = getattr(converters, converter_name)(coursedir=coursedir, config=config)
    app.force = True
    result = capture_log(app)
    return "" if result["success"] else f"{converter_name}: {_last_error_line(result)}"


def grade_in_root(root: Path, exercise_id: str, student: str) -> dict:
    """Autograde and generate feedback for `student` in the course root `root`."""
    from rnncourse.grading.nbgrader_cli import read_scores

    outcome = {"grades": {}, "events": [], "error": "", "feedback": ""}
    for converter_name in ("Autograde", "GenerateFeedback"):
        outcome["error"] = run_converter(root, converter_name, exercise_id, student)
        if outcome["error"]:
            break
    report = root / REPORT_NAME
    if report.is_file():
        outcome["events"] = json.loads(report.read_text())["events"]
    try:
        scores = read_scores(root, exercise_id).get(student, [])
    except Exception as error:  # a gradebook left incomplete by a failed autograde
        scores = []
        outcome["error"] = outcome["error"] or f"reading the gradebook: {error}"
    outcome["grades"] = {part.name: [part.score, part.max_score] for part in scores}
    feedback = sorted((root / "feedback" / student / exercise_id).glob("*.html"))
    outcome["feedback"] = str(feedback[0]) if feedback else ""
    return outcome


def main() -> None:
    results = sys.stdout
    sys.stdout = sys.stderr  # anything printed while grading goes to the log, not the results
    for line in sys.stdin:
        job = json.loads(line)
        try:
            outcome = grade_in_root(Path(job["root"]), job["exercise"], ROOT_STUDENT)
        except Exception as error:  # one broken job must not stop the worker
            outcome = {"grades": {}, "events": [], "feedback": "",
                       "error": f"{type(error).__name__}: {error}"}
        results.write(json.dumps(outcome) + "\n")
        results.flush()


if __name__ == "__main__":
    main()
