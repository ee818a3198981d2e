"""`rnncourse exercises list | start ID [--dir DIR] | check PATH`: the student's commands."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

WIDTH = 100  # messages are wrapped at this width, never cut
HELP = "list the exercises, start one in a working folder, check a notebook's visible tests"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the exercises, their points and chapters")
    start = actions.add_parser("start", help="copy an exercise's notebook into a folder "
                                             "(never overwrites)")
    start.add_argument("id", help="the exercise, e.g. ex01-vanishing-gradients")
    start.add_argument("--dir", default=".", help="working folder (default: this folder)")
    check = actions.add_parser("check", help="run a notebook's visible tests (the file is not "
                                             "changed); exit 0 when they all pass")
    check.add_argument("path", help="your notebook")
    check.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    for action in (listing, start, check):
        action.add_argument("--root", default=None,
                            help="course folder (default: found from here)")


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned plain-text columns."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths,
                                                                             strict=True)).rstrip()
                     for row in [header, *rows])


def run(arguments: argparse.Namespace) -> int:
    from rnncourse.grading.exercises import list_exercises, locate_course_root, start_exercise

    if arguments.action == "check":
        return _check(arguments)
    root = locate_course_root(arguments.root)
    if arguments.action == "list":
        rows = [[exercise.id, f"{exercise.points:g}", exercise.chapter or "-", exercise.title]
                for exercise in list_exercises(root)]
        print(format_table(["exercise", "points", "chapter", "title"], rows))
        return 0
    try:
        copied = start_exercise(root, arguments.id, arguments.dir)
    except (FileExistsError, ValueError) as error:
        print(f"rnncourse exercises start: {error}")
        return 1
    for path in copied:
        print(f"copied {path}")
    print(f"open it with: jupyter lab {copied[0]}")
    return 0


def _check(arguments: argparse.Namespace) -> int:
    from rnncourse.grading.checker import check_notebook
    from rnncourse.grading.exercises import locate_course_root

    path = Path(arguments.path)
    if not path.is_file():
        print(f"rnncourse exercises check: no file {path}")
        return 2
    try:
        root = locate_course_root(arguments.root)
    except FileNotFoundError:
        root = None
    try:
        report = check_notebook(path, root, timeout=arguments.timeout)
    except ValueError as error:
        print(f"rnncourse exercises check: {error}")
        return 2
    rows = [[part.part, part.status, f"{part.points:g}/{part.max_points:g}"]
            for part in report.parts]
    lines = format_table(["part", "status", "points"], rows).splitlines()
    print(lines[0])
    for line, part in zip(lines[1:], report.parts, strict=True):
        print(line)
        if part.status == "failed":
            for check in part.checks:
                if not check.passed:  # the whole message, wrapped, never cut short
                    print(textwrap.fill(f"{check.name}: {check.message}", width=WIDTH,
                                        initial_indent="    ", subsequent_indent="      "))
    for note in report.notes:
        print(f"note: {note}")
    print(f"visible tests: {report.points:g} of {report.max_points:g} points. Hidden tests "
          "check the same functions on other inputs when your notebook is graded.")
    return 0 if report.passed else 1
