"""The `rnncourse` command line."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnncourse", description=__doc__)
    parser.parse_args(argv)
    parser.print_help()
    return 0
