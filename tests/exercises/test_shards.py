"""Grading in shards (`rnncourse grade --shard K/N`) and merging them (`rnncourse grade merge`).

One small class of the sample exercise is graded once unsharded and once in three shards; the
merge must give the same table, gradebook scores and feedback pages. The error cases reuse those
shard folders (copied where a case needs them changed) and check that nothing is written.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from test_grading import make_course

from rnncourse.cli import main
from rnncourse.grading import grader as grader_module
from rnncourse.grading.grader import GradeOptions, grade
from rnncourse.grading.merge import merge_shards
from rnncourse.grading.nbgrader_cli import fill_in_solutions, read_scores
from rnncourse.grading.sample import SAMPLE_ID
from rnncourse.grading.shards import MANIFEST_NAME, Shard, check_shard_output, shard_of

OPTIONS = GradeOptions(cell_timeout=6, notebook_timeout=60, jobs=2)
# With 3 shards: cem and eva in 1, hal in 2, ann and dee in 3 (every shard has students).
SPLIT = {"ann": 3, "cem": 1, "dee": 3, "eva": 1, "hal": 2}


def files_of(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("shards")
    root, source, released = make_course(folder, SAMPLE_ID)
    submitted = folder / "class" / "submitted"
    notebooks = {"ann": fill_in_solutions(released, source),
                 "cem": fill_in_solutions(released, source, leave_out={"clip"}),
                 "hal": released}
    for student in SPLIT:
        (submitted / student / SAMPLE_ID).mkdir(parents=True)  # dee: an empty folder
    for student, notebook in notebooks.items():
        nbformat.write(notebook, submitted / student / SAMPLE_ID / f"{SAMPLE_ID}.ipynb")
    (submitted / "eva" / SAMPLE_ID / f"{SAMPLE_ID}.ipynb").write_text("{not json")
    whole = grade(root, SAMPLE_ID, folder / "class", folder / "whole", OPTIONS)
    shards = []
    for index in (1, 2, 3):
        shards.append(folder / f"shard-{index}")
        grade(root, SAMPLE_ID, folder / "class", shards[-1], OPTIONS, shard=Shard(index, 3))
    return folder, root, whole, shards


def test_the_split_is_the_documented_hash_and_about_even() -> None:
    for student, index in SPLIT.items():
        digest = hashlib.sha256(student.encode()).digest()
        assert shard_of(student, 3) == 1 + int.from_bytes(digest[:8], "big") % 3 == index
    counts = [0] * 4
    for number in range(4000):
        counts[shard_of(f"student{number:04d}", 4) - 1] += 1
    assert all(900 <= count <= 1100 for count in counts), counts


def test_each_shard_grades_its_students_only(graded) -> None:
    _, _, _, shards = graded
    for index, folder in enumerate(shards, start=1):
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
        expected = sorted(student for student, shard in SPLIT.items() if shard == index)
        assert (manifest["exercise"], manifest["shard"], manifest["of"]) == (SAMPLE_ID, index, 3)
        assert manifest["complete"] is True
        assert manifest["students"] == expected
        with (folder / "grades.csv").open() as table:
            assert [row["student"] for row in csv.DictReader(table)] == expected


def test_merged_shards_equal_one_unsharded_run(graded) -> None:
    folder, _, whole, shards = graded
    merged = folder / "merged"
    assert main(["grade", "merge", *map(str, reversed(shards)), "--out", str(merged)]) == 0
    assert (merged / "grades.csv").read_bytes() == whole.table.read_bytes()
    with whole.table.open() as table:
        totals = {row["student"]: row["total"] for row in csv.DictReader(table)}
    assert totals == {"ann": "5", "cem": "3", "dee": "0", "eva": "0", "hal": "0"}
    assert read_scores(merged, SAMPLE_ID) == read_scores(whole.gradebook.parent, SAMPLE_ID)
    assert files_of(merged / "feedback") == files_of(whole.feedback)


def test_a_student_in_two_shards_is_refused(graded, tmp_path: Path) -> None:
    _, _, _, shards = graded
    impostor = tmp_path / "impostor"
    shutil.copytree(shards[0], impostor)  # shard 1's students, claiming to be shard 2
    manifest = json.loads((impostor / MANIFEST_NAME).read_text())
    (impostor / MANIFEST_NAME).write_text(json.dumps(manifest | {"shard": 2}))
    with pytest.raises(ValueError, match=r"student 'cem' in shards 1/3 \(.*shard-1\) and "
                                         r"2/3 \(.*impostor\).*student 'eva'"):
        merge_shards([shards[0], impostor, shards[2]], tmp_path / "merged")
    assert not (tmp_path / "merged").exists()


def test_missing_repeated_and_unfinished_shards_are_refused(graded, tmp_path: Path,
                                                           capsys) -> None:
    _, _, _, shards = graded
    out = tmp_path / "merged"
    assert main(["grade", "merge", str(shards[0]), str(shards[2]), "--out", str(out)]) == 2
    assert "missing shard 2/3 of ex90-sample: found only 1/3, 3/3" in capsys.readouterr().out
    with pytest.raises(ValueError, match="shard 1/3 was given twice"):
        merge_shards([shards[0], shards[0], *shards[1:]], out)
    unfinished = tmp_path / "unfinished"
    shutil.copytree(shards[1], unfinished)
    (unfinished / MANIFEST_NAME).unlink()
    with pytest.raises(ValueError, match="unfinished holds no shard.json"):
        merge_shards([shards[0], unfinished, shards[2]], out)
    assert not out.exists()


@pytest.mark.parametrize(("change", "message"), [
    ({"of": 4}, "differ in number of shards: 4 against 3"),
    ({"exercise": "ex01-vanishing-gradients"}, "differ in exercise"),
    ({"parts": {"mean": 2.0, "clip": 3.0, "relative_error": 1.0}}, "differ in parts or points"),
    ({"shard": 0}, "is not a shard manifest"),
])
def test_shards_that_do_not_belong_together_are_refused(graded, tmp_path: Path, change: dict,
                                                        message: str, capsys) -> None:
    _, _, _, shards = graded
    other = tmp_path / "other"
    shutil.copytree(shards[2], other)
    manifest = json.loads((other / MANIFEST_NAME).read_text())
    (other / MANIFEST_NAME).write_text(json.dumps(manifest | change))
    out = tmp_path / "merged"
    assert main(["grade", "merge", str(shards[0]), str(shards[1]), str(other),
                 "--out", str(out)]) == 2
    assert message in capsys.readouterr().out
    assert main(["grade", "merge", *map(str, shards[:2]), str(tmp_path / "nowhere"),
                 "--out", str(out)]) == 2
    assert "nowhere does not exist" in capsys.readouterr().out
    assert not out.exists()


def test_an_existing_output_is_kept_unless_forced(graded, tmp_path: Path) -> None:
    folder, _, whole, shards = graded
    out = tmp_path / "merged"
    out.mkdir()
    (out / "grades.csv").write_text("last week's table\n")
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        merge_shards(shards, out)
    assert files_of(out) == {"grades.csv": hashlib.sha256(b"last week's table\n").hexdigest()}
    with pytest.raises(ValueError, match="must not be, or lie in, the shard folder"):
        merge_shards(shards, shards[0] / "merged", overwrite=True)
    merge_shards(shards, out, overwrite=True)
    assert (out / "grades.csv").read_bytes() == whole.table.read_bytes()


def test_a_shard_never_writes_over_other_grades(graded) -> None:
    folder, root, whole, shards = graded
    before = files_of(folder)
    for target in (shards[0], whole.table.parent):
        with pytest.raises(ValueError, match="output folder of its own"):
            grade(root, SAMPLE_ID, folder / "class", target, OPTIONS, shard=Shard(2, 3))
    with pytest.raises(ValueError, match="holds shard 1/3 of ex90-sample.*another --out"):
        grade(root, SAMPLE_ID, folder / "class", shards[0], OPTIONS)  # --shard forgotten
    with pytest.raises(ValueError, match="grades.csv is a file, not a folder"):
        grade(root, SAMPLE_ID, folder / "class", whole.table, OPTIONS)
    assert files_of(folder) == before


def test_a_shard_without_students_is_complete(graded) -> None:
    folder, root, _, _ = graded
    empty = next(index for index in range(1, 8)
                 if all(shard_of(student, 7) != index for student in SPLIT))
    report = grade(root, SAMPLE_ID, folder / "class", folder / "empty", OPTIONS,
                   shard=Shard(empty, 7))
    assert report.grades == []
    manifest = json.loads((folder / "empty" / MANIFEST_NAME).read_text())
    assert (manifest["shard"], manifest["students"], manifest["complete"]) == (empty, [], True)
    assert (folder / "empty" / "grades.csv").read_text().splitlines() == [
        "student,mean,clip,relative_error,total,status,message"]


def test_a_shard_stopped_while_written_again_is_not_merged(graded, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder, root, _, shards = graded
    retried = tmp_path / "shard-2"
    shutil.copytree(shards[1], retried)
    table = (retried / "grades.csv").read_bytes()

    def stopped(*args, **kwargs):  # the job is killed between the gradebook and the table
        raise KeyboardInterrupt

    monkeypatch.setattr(grader_module, "_write_table", stopped)
    with pytest.raises(KeyboardInterrupt):
        grade(root, SAMPLE_ID, folder / "class", retried, OPTIONS, shard=Shard(2, 3))
    assert (retried / "grades.csv").read_bytes() == table
    with pytest.raises(ValueError, match=r"shard-2 holds shard 2/3 unfinished.*--shard 2/3"):
        merge_shards([shards[0], retried, shards[2]], tmp_path / "merged")
    assert not (tmp_path / "merged").exists()
    check_shard_output(retried, SAMPLE_ID, Shard(2, 3))  # the retry may write there


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "2/0", "1/2/3", "-1/2", ""])
def test_bad_shards_are_refused(text: str, capsys) -> None:
    with pytest.raises(ValueError, match="K/N"):
        Shard.parse(text)
    assert main(["grade", SAMPLE_ID, "nowhere", f"--shard={text}"]) == 2
    assert "--shard" in capsys.readouterr().out
    assert Shard.parse(" 2 / 8 ") == Shard(2, 8)
