"""Combine the outputs of a sharded grading run: `rnncourse grade merge SHARD... --out FOLDER`.

Each shard's output folder (`rnncourse.grading.shards`) holds a grade table, feedback pages, an
nbgrader gradebook and a manifest. The merge checks that the shards belong together (one
exercise, one N, the same parts and points), that every shard 1..N is there exactly once and
complete, that no student was graded in two shards, and that each shard's table, gradebook and
feedback hold exactly the students of its manifest; any failure is a ValueError that names the
shards and students concerned, and nothing is written. Then it writes, in the output folder,
what one unsharded run would have written: `grades.csv` (rows sorted by student), `feedback/` and
`gradebook.db` with every student's scores. Each file is written under a temporary name and
renamed. An output folder that already holds files is refused unless `overwrite` is set (the
command's `--force`); the shards' own folders are only read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from rnncourse.grading.atomic_files import write_atomically
from rnncourse.grading.shards import read_manifest


@dataclass(frozen=True)
class MergeReport:
    """What `merge_shards` wrote."""

    exercise_id: str
    shards: int
    students: int
    table: Path
    feedback: Path
    gradebook: Path

    def summary(self) -> str:
        return (f"merged {self.shards} shards of {self.exercise_id}: {self.students} students\n"
                f"table: {self.table}\nfeedback: {self.feedback}\ngradebook: {self.gradebook}")


def _read_shards(folders: list[Path]) -> list[tuple[Path, dict]]:
    """The shards' folders and manifests, in shard order, checked to belong together."""
    if not folders:
        raise ValueError("give the output folders of the shards to merge")
    shards = []
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"shard folder {folder} does not exist")
        manifest = read_manifest(folder)
        if manifest is None:
            raise ValueError(f"{folder} holds no shard.json: it is not the output of "
                             f"`rnncourse grade --shard K/N`, or that run did not finish")
        if not manifest["complete"]:
            raise ValueError(f"{folder} holds shard {manifest['shard']}/{manifest['of']} "
                             f"unfinished (stopped while its files were written): grade it "
                             f"again with --shard {manifest['shard']}/{manifest['of']}")
        shards.append((folder, manifest))
    first_folder, first = shards[0]
    for folder, manifest in shards[1:]:
        for key, what in (("exercise", "exercise"), ("of", "number of shards"),
                          ("parts", "parts or points")):
            if manifest[key] != first[key]:
                raise ValueError(f"{folder} and {first_folder} differ in {what}: "
                                 f"{manifest[key]!r} against {first[key]!r}")
    count = first["of"]
    by_index: dict[int, Path] = {}
    for folder, manifest in shards:
        if manifest["shard"] in by_index:
            raise ValueError(f"shard {manifest['shard']}/{count} was given twice: "
                             f"{by_index[manifest['shard']]} and {folder}")
        by_index[manifest["shard"]] = folder
    missing = [index for index in range(1, count + 1) if index not in by_index]
    if missing:
        raise ValueError(f"missing shard{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(f'{index}/{count}' for index in missing)} of "
                         f"{first['exercise']}: found only "
                         f"{', '.join(f'{index}/{count}' for index in sorted(by_index))}")
    seen: dict[str, list[str]] = {}
    for folder, manifest in shards:
        for student in manifest["students"]:
            seen.setdefault(student, []).append(f"{manifest['shard']}/{count} ({folder})")
    duplicates = {student: where for student, where in seen.items() if len(where) > 1}
    if duplicates:
        raise ValueError("graded in more than one shard: " + "; ".join(
            f"student {student!r} in shards {' and '.join(where)}"
            for student, where in sorted(duplicates.items())))
    return sorted(shards, key=lambda shard: shard[1]["shard"])


def _read_table(folder: Path, manifest: dict) -> tuple[list[str], list[list[str]]]:
    with (folder / "grades.csv").open(newline="") as table:
        header, *rows = list(csv.reader(table))
    students = [row[0] for row in rows]
    if sorted(students) != sorted(manifest["students"]):
        raise ValueError(f"{folder / 'grades.csv'} does not hold the students of its shard.json "
                         f"(table: {sorted(students)}, manifest: {sorted(manifest['students'])})")
    return header, rows


def _cell_scores(folder: Path, manifest: dict) -> dict[str, dict[str, float]]:
    """Student -> the auto score of each grade cell, from a shard's gradebook."""
    from rnncourse.grading.nbgrader_cli import read_scores

    scores = read_scores(folder, manifest["exercise"])
    if sorted(scores) != sorted(manifest["students"]):
        raise ValueError(f"{folder / 'gradebook.db'} does not hold the students of its "
                         f"shard.json (gradebook: {sorted(scores)}, "
                         f"manifest: {sorted(manifest['students'])})")
    return {student: {part.name: part.score for part in parts}
            for student, parts in scores.items()}


def _check_output(output: Path, folders: list[Path], overwrite: bool) -> None:
    resolved = output.resolve()
    for folder in folders:
        if resolved == folder.resolve() or folder.resolve() in resolved.parents:
            raise ValueError(f"the output folder {output} must not be, or lie in, the shard "
                             f"folder {folder}")
    if output.exists() and not output.is_dir():
        raise ValueError(f"the output {output} is a file, not a folder")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise FileExistsError(f"{output} already holds files; refusing to overwrite them "
                              f"(choose another --out, or give --force to replace them)")


def merge_shards(folders: list[str | Path], output: str | Path,
                 overwrite: bool = False) -> MergeReport:
    """Merge the shards' output `folders` into `output` (see the module docstring)."""
    from rnncourse.grading.grader import StudentGrade, write_gradebook

    folders, output = [Path(folder) for folder in folders], Path(output)
    shards = _read_shards(folders)
    _check_output(output, folders, overwrite)
    exercise_id = shards[0][1]["exercise"]
    header, rows, cells, pages = None, [], {}, {}
    for folder, manifest in shards:
        shard_header, shard_rows = _read_table(folder, manifest)
        if header is not None and shard_header != header:
            raise ValueError(f"{folder / 'grades.csv'} has the columns {shard_header}, "
                             f"another shard {header}")
        header = shard_header
        rows += shard_rows
        cells.update(_cell_scores(folder, manifest))
        for student in manifest["students"]:
            found = sorted((folder / "feedback" / student / exercise_id).glob("*.html"))
            if not found:
                raise ValueError(f"{folder} has no feedback page for student {student!r}")
            pages[student] = found
    rows.sort(key=lambda row: row[0])

    feedback = output / "feedback"
    for student, found in pages.items():
        for page in found:
            write_atomically(feedback / student / exercise_id / page.name, page.read_bytes())
    grades = [StudentGrade(row[0], {}, "", cell_scores=cells[row[0]]) for row in rows]
    write_gradebook(shards[0][0] / "gradebook.db", output / "gradebook.db", exercise_id, grades)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    write_atomically(output / "grades.csv", buffer.getvalue().encode())
    return MergeReport(exercise_id, len(shards), len(rows), output / "grades.csv", feedback,
                       output / "gradebook.db")

