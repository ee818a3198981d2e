"""The `rnncourse` command line: one subcommand per course task (`rnncourse --help` lists them)."""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommand name -> the module in rnncourse/commands/ that implements it.
SUBCOMMANDS = {
    "bench": "rnncourse.commands.bench",
    "exercises": "rnncourse.commands.exercises",
    "grade": "rnncourse.commands.grade",
    "pretrain": "rnncourse.commands.pretrain",
    "release": "rnncourse.commands.release",
    "run": "rnncourse.commands.run",
    "train": "rnncourse.commands.train",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnncourse", description="Course tools for rnncourse.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        subparser = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(subparser)
        subparser.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help()
        return 2
    return arguments.run(arguments)


if __name__ == "__main__":
    sys.exit(main())
