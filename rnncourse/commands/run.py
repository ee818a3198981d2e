"""`rnncourse run chNN`: run a chapter's experiments from a shell, at the book's scale or the
papers' (a GPU is used when present), and print the tables the page prints.

    rnncourse run ch03 --scale paper                 # every experiment of chapter 3
    rnncourse run ch01 --experiment adding --scale paper --device cuda
    rnncourse run ch05 --list                        # what chapter 5 runs
    rnncourse run ch02 --report runs/ch02.md         # also write the report to a file

The experiments and both scales are the chapter's (`rnncourse/chapters/chNN_*/run.py` and
`settings.py`), the same the page runs with `book.setup("chNN", scale=...)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "run a chapter's experiments at the book's scale or the papers' (--scale paper)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = __doc__
    parser.add_argument("chapter", help="ch01 to ch06 (or 1 to 6)")
    parser.add_argument("--scale", choices=["cpu", "paper"], default="cpu",
                        help="cpu: the book's sizes (default); paper: the papers' (hours, GPU)")
    parser.add_argument("--experiment", action="append", dest="experiments", metavar="NAME",
                        help="run only this experiment (and what it needs); repeatable")
    parser.add_argument("--list", action="store_true", help="list the experiments and stop")
    parser.add_argument("--device", default=None,
                        help="cpu, cuda, cuda:1 ... (default: CUDA when present)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for torch (default 1, as in the book)")
    parser.add_argument("--report", type=Path, default=None,
                        help="also write the Markdown report to this file")


def run(arguments: argparse.Namespace) -> int:
    import torch

    from rnncourse.chapters.runner import execute, experiments_of, prepare_run

    try:  # bad input: one line on stderr and exit status 2, before anything runs
        if arguments.list:
            for experiment in experiments_of(arguments.chapter):
                needs = f" (needs {', '.join(experiment.needs)})" if experiment.needs else ""
                print(f"{experiment.name:20} {experiment.title}{needs}")
            return 0
        if arguments.threads < 1:
            raise ValueError("--threads must be at least 1")
        chapter_run, plan = prepare_run(arguments.chapter, scale=arguments.scale,
                                        names=arguments.experiments, device=arguments.device,
                                        seed=arguments.seed)
    except ValueError as error:
        print(f"rnncourse run: error: {error}", file=sys.stderr)
        return 2
    torch.set_num_threads(arguments.threads)
    parts: list[str] = []

    def report(text: str) -> None:
        print(text, flush=True)
        parts.append(text)

    execute(chapter_run, plan, report)
    if arguments.report is not None:
        arguments.report.parent.mkdir(parents=True, exist_ok=True)
        arguments.report.write_text("\n".join(parts))
        print(f"wrote {arguments.report}")
    return 0
