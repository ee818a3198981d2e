"""`rnncourse grade ID SUBMISSIONS`: grade a class's submissions into a table and feedback.

`--shard K/N` grades one N-th of the class (`rnncourse.grading.shards`), so that N machines can
share a class; `rnncourse grade merge SHARD_FOLDER... --out FOLDER` then combines the shards'
outputs into one (`rnncourse.grading.merge`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "grade a folder of submissions: grade table (CSV), feedback pages, gradebook"
USAGE = ("rnncourse grade ID SUBMISSIONS [--out FOLDER] [--shard K/N] [options]\n"
         "       rnncourse grade merge SHARD_FOLDER [SHARD_FOLDER ...] --out FOLDER [--force]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = USAGE
    parser.add_argument("id", help="the exercise, e.g. ex01-vanishing-gradients; or `merge` to "
                                   "combine the output folders of a sharded run")
    parser.add_argument("submissions", nargs="+",
                        help="nbgrader's submitted/<student>/<id>/ folders (or the folder above "
                             "submitted/), or a flat folder of <student>.ipynb; after `merge`: "
                             "the output folder of every shard")
    parser.add_argument("--out", default=None,
                        help="output folder (default: grades/<id>, or grades/<id>-shard-K-of-N "
                             "with --shard; required with merge)")
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="grade only shard K of N (K = 1..N), split by a hash of the "
                             "student id; merge the N outputs with `rnncourse grade merge`")
    parser.add_argument("--force", action="store_true",
                        help="merge: replace the files of an output folder that is not empty")
    parser.add_argument("--jobs", type=int, default=None,
                        help="students graded at once (default: one per CPU core)")
    parser.add_argument("--cell-timeout", type=int, default=60, help="seconds per cell")
    parser.add_argument("--notebook-timeout", type=int, default=600,
                        help="seconds per notebook")
    parser.add_argument("--root", default=None, help="course folder (default: found from here)")


def _merge(arguments: argparse.Namespace) -> int:
    from rnncourse.grading.merge import merge_shards

    if arguments.out is None:
        print("rnncourse grade merge: give the merged output folder with --out FOLDER")
        return 2
    if arguments.shard is not None:
        print("rnncourse grade merge: --shard is for grading, not for merging")
        return 2
    try:
        report = merge_shards(arguments.submissions, arguments.out, overwrite=arguments.force)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        print(f"rnncourse grade merge: {error}")
        return 2
    print(report.summary())
    return 0


def run(arguments: argparse.Namespace) -> int:
    from rnncourse.grading.grader import GradeOptions, grade
    from rnncourse.grading.nbgrader_cli import find_course_root
    from rnncourse.grading.shards import Shard

    if arguments.id == "merge":
        return _merge(arguments)
    if len(arguments.submissions) != 1:
        print(f"rnncourse grade: give one submissions folder, got {arguments.submissions}")
        return 2
    try:
        shard = Shard.parse(arguments.shard) if arguments.shard is not None else None
        options = GradeOptions(cell_timeout=arguments.cell_timeout,
                               notebook_timeout=arguments.notebook_timeout, jobs=arguments.jobs)
    except ValueError as error:
        print(f"rnncourse grade: {error}")
        return 2
    if arguments.force:
        print("rnncourse grade: --force is for merge only")
        return 2
    root = find_course_root(arguments.root)
    default = arguments.id + (f"-shard-{shard.index}-of-{shard.count}" if shard else "")
    output = Path(arguments.out) if arguments.out else Path("grades") / default
    try:
        report = grade(root, arguments.id, arguments.submissions[0], output, options,
                       progress=print, shard=shard)
    except (FileNotFoundError, ValueError) as error:
        print(f"rnncourse grade: {error}")
        return 2
    except KeyboardInterrupt:
        print(f"rnncourse grade: interrupted; no file in {output} was left half-written")
        return 130
    print(report.summary())
    return 0
