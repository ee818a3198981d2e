"""`rnncourse release [ID ...]`: regenerate exercises/ from solutions/ with nbgrader."""

from __future__ import annotations

import argparse

HELP = "regenerate exercises/ from solutions/ with nbgrader"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", help="exercises to release (default: all in solutions/)")
    parser.add_argument("--root", default=None, help="course folder (default: found from here)")


def run(arguments: argparse.Namespace) -> int:
    from rnncourse.grading.nbgrader_cli import find_course_root, release

    root = find_course_root(arguments.root)
    for folder in release(root, arguments.ids or None):
        print(f"released {folder.relative_to(root)}")
    return 0
