"""Grading a class in shards, one per machine: `rnncourse grade ID SUBMISSIONS --shard K/N`.

Shard K of N (K = 1..N) grades the students whose id falls into it:

    shard(student) = 1 + (first 8 bytes of SHA-256(student id, UTF-8), big-endian) mod N

The split depends on nothing but the student's id and N, so every machine computes the same
split from its own copy of the submissions, a student added late does not move the others, and
the shards are about equal in size for a class of any real size (each student is one draw of a
uniform choice among N). A shard's output folder holds what an unsharded run writes (grade
table, feedback, gradebook) for its students, and a manifest, `shard.json`, that
`rnncourse grade merge` reads (`rnncourse.grading.merge`): which exercise, which shard, which
students, the maximum points of each part, and whether the shard is complete. The manifest is
written twice: marked incomplete before the first output file is written, complete after the
last; a folder without a manifest, or with an incomplete one, is a shard that did not finish
(and a shard graded again into its own folder is never half old, half new while it claims to
be complete).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from rnncourse.grading.atomic_files import write_atomically

MANIFEST_NAME = "shard.json"


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1 <= index <= count)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not (isinstance(self.index, int) and isinstance(self.count, int)
                and self.count >= 1 and 1 <= self.index <= self.count):
            raise ValueError(f"a shard is K/N with 1 <= K <= N, got {self.index!r}/{self.count!r}")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """A shard from "K/N", e.g. "2/8"; ValueError naming what was expected."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
        if match is None:
            raise ValueError(f"--shard must be K/N (shard K of N, 1 <= K <= N, e.g. 2/8), "
                             f"got {text!r}")
        index, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= index <= count:
            raise ValueError(f"--shard K/N needs 1 <= K <= N (shards are numbered from 1), "
                             f"got {text!r}")
        return cls(index, count)

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, student: str) -> bool:
        """Whether `student` is graded in this shard."""
        return shard_of(student, self.count) == self.index


def shard_of(student: str, count: int) -> int:
    """The shard (1..count) that grades `student` (the equation is in the module docstring)."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def read_manifest(folder: Path) -> dict | None:
    """The manifest of a shard's output folder, or None when it has none."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
        Shard(manifest["shard"], manifest["of"])
        if not isinstance(manifest["students"], list) or not isinstance(manifest["parts"], dict):
            raise TypeError("students must be a list and parts a mapping")
        if not isinstance(manifest.setdefault("complete", True), bool):
            raise TypeError("complete must be true or false")
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path} is not a shard manifest written by `rnncourse grade "
                         f"--shard` ({type(error).__name__}: {error})") from error
    return manifest


def write_manifest(folder: Path, exercise_id: str, shard: Shard, students: list[str],
                   max_points: dict[str, float], complete: bool) -> None:
    manifest = {"exercise": exercise_id, "shard": shard.index, "of": shard.count,
                "students": students, "parts": max_points, "complete": complete}
    write_atomically(folder / MANIFEST_NAME, (json.dumps(manifest, indent=1) + "\n").encode())


def check_shard_output(folder: Path, exercise_id: str, shard: Shard | None) -> None:
    """Refuse an output folder that holds other grades than this shard's (another shard's, or
    an unsharded run's), so that no shard overwrites what another one saved; grading the same
    shard again into its own folder is allowed. An unsharded run (`shard` None) is refused a
    shard's folder, and every run a file in place of the folder."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"the output {folder} is a file, not a folder (--out)")
    manifest = read_manifest(folder) if folder.is_dir() else None
    if shard is None:
        if manifest is not None:
            raise ValueError(f"{folder} holds shard {manifest['shard']}/{manifest['of']} of "
                             f"{manifest['exercise']}; grading the whole class there would "
                             f"replace it: give another --out (or that shard's --shard)")
        return
    if manifest is None:
        if (folder / "grades.csv").exists() or (folder / "gradebook.db").exists():
            raise ValueError(f"{folder} already holds grades that are not shard {shard.label}'s; "
                             f"give each shard an output folder of its own (--out)")
        return
    if manifest["exercise"] != exercise_id or (manifest["shard"], manifest["of"]) != (
            shard.index, shard.count):
        raise ValueError(f"{folder} holds shard {manifest['shard']}/{manifest['of']} of "
                         f"{manifest['exercise']}, not shard {shard.label} of {exercise_id}; "
                         f"give each shard an output folder of its own (--out)")
