"""`rnncourse grade ID SUBMISSIONS`: grade a class's submissions into a table and feedback."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "grade a folder of submissions: grade table (CSV), feedback pages, gradebook"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="the exercise, e.g. ex01-vanishing-gradients")
    parser.add_argument("submissions", help="nbgrader's submitted/<student>/<id>/ folders (or "
                                            "the folder above submitted/), or a flat folder "
                                            "of <student>.ipynb")
    parser.add_argument("--out", default=None,
                        help="output folder (default: grades/<id> in this folder)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="students graded at once (default: one per CPU core)")
    parser.add_argument("--cell-timeout", type=int, default=60, help="seconds per cell")
    parser.add_argument("--notebook-timeout", type=int, default=600,
                        help="seconds per notebook")
    parser.add_argument("--root", default=None, help="course folder (default: found from here)")


def run(arguments: argparse.Namespace) -> int:
    from rnncourse.grading.grader import GradeOptions, grade
    from rnncourse.grading.nbgrader_cli import find_course_root

    root = find_course_root(arguments.root)
    output = Path(arguments.out) if arguments.out else Path("grades") / arguments.id
    options = GradeOptions(cell_timeout=arguments.cell_timeout,
                           notebook_timeout=arguments.notebook_timeout, jobs=arguments.jobs)
    try:
        report = grade(root, arguments.id, arguments.submissions, output, options,
                       progress=print)
    except (FileNotFoundError, ValueError) as error:
        print(f"rnncourse grade: {error}")
        return 2
    except KeyboardInterrupt:
        print(f"rnncourse grade: interrupted; no file in {output} was left half-written")
        return 130
    print(report.summary())
    return 0
