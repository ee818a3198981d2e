"""The `rnncourse` command line: one command per course task.

    rnncourse release [ID ...]     regenerate exercises/ from solutions/ with nbgrader
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

# Each subcommand registers itself here: name -> (add its arguments, run it).
Subcommand = tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]


def _add_release_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", help="exercises to release (default: all in solutions/)")
    parser.add_argument("--root", default=None, help="course folder (default: found from here)")


def _release(arguments: argparse.Namespace) -> int:
    from rnncourse.grading.nbgrader_cli import find_course_root, release

    root = find_course_root(arguments.root)
    for folder in release(root, arguments.ids or None):
        print(f"released {folder.relative_to(root)}")
    return 0


SUBCOMMANDS: dict[str, tuple[str, Subcommand]] = {
    "release": ("regenerate exercises/ from solutions/ with nbgrader",
                (_add_release_arguments, _release)),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnncourse", description="Course tools for rnncourse.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, (add_arguments, _)) in SUBCOMMANDS.items():
        add_arguments(commands.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help()
        return 2
    _, (_, run) = SUBCOMMANDS[arguments.command]
    return run(arguments)


if __name__ == "__main__":
    sys.exit(main())
