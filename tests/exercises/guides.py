"""The generated parts of the students' and instructors' guides (`book/guides/*.md`): tables and
sample output computed from the exercises themselves, so the guides cannot drift from them.

Each generated block sits between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->`;
`tests/exercises/test_guides.py` checks that every block is current. To rewrite them:

    .venv/bin/python tests/exercises/guides.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ROOT / "book" / "guides"
sys.path.insert(0, str(ROOT / "tests" / "exercises"))

from mutants import KINDS, RESULTS, mutants_of  # noqa: E402

from rnncourse.grading.exercises import grade_cells_by_part, list_exercises  # noqa: E402
from rnncourse.grading.nbgrader_cli import fill_in_solutions  # noqa: E402

EX01 = "ex01-vanishing-gradients"
KIND_ABBREVIATIONS = {"forbidden shortcut": "shortcut", "wrong formula": "formula",
                      "broken graph": "graph", "hard-coded output": "hard-coded",
                      "ignored argument": "ignored", "missing edge case": "edge case",
                      "mutated input": "in place",
                      "wrong answer": "answer", "fake object": "fake"}


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def exercise_table() -> str:
    """Each exercise: its chapter, parts (questions among them), checks and points."""
    rows = []
    for exercise in list_exercises(ROOT):
        release = nbformat.read(exercise.release, as_version=4)
        parts = grade_cells_by_part(release)
        questions = sum(part.startswith("question_") for part in parts)
        checks = sum(len(cells) for cells in parts.values())
        rows.append([f"`{exercise.id}`", exercise.chapter or "-",
                     f"{len(parts) - questions} + {questions} questions", str(checks),
                     f"{exercise.points:g}"])
    return _table(["exercise", "chapter", "parts", "checks", "points"], rows)


def mutation_table() -> str:
    """Each graded part: its points, its mutants by kind, and how many the tests killed."""
    results = json.loads(RESULTS.read_text())
    rows, total, killed = [], 0, 0
    for exercise in list_exercises(ROOT):
        outcomes = results.get(exercise.id, {})
        for part, mutants in mutants_of(exercise.id).items():
            recorded = outcomes.get(part, [])
            dead = sum(outcome["points"] < outcome["max"] for outcome in recorded)
            kinds = Counter(KIND_ABBREVIATIONS[mutant.kind] for mutant in mutants)
            rows.append([f"`{exercise.id.split('-')[0]}`", f"`{part}`",
                         f"{exercise.parts.get(part, 0):g}", str(len(mutants)),
                         ", ".join(f"{kind} {count}" for kind, count in kinds.items()),
                         f"{dead} of {len(mutants)}" if recorded else "not run"])
            total, killed = total + len(mutants), killed + dead
    rows.append(["all", "", "", str(total), "", f"{killed} of {total}"])
    legend = "; ".join(f"{KIND_ABBREVIATIONS[kind]}: {text}" for kind, text in KINDS.items())
    return (_table(["exercise", "part", "points", "mutants", "kinds", "killed"], rows)
            + f"\n\nKinds: {legend}.")


def check_example() -> str:
    """What `rnncourse exercises check` prints for ex01 with Part 1 solved, Part 2 wrong (it
    returns h_0 as the first state) and the rest not attempted."""
    name = f"{EX01}/{EX01}.ipynb"
    source = nbformat.read(ROOT / "solutions" / name, as_version=4)
    release = nbformat.read(ROOT / "exercises" / name, as_version=4)
    parts = set(grade_cells_by_part(release))
    notebook = fill_in_solutions(release, source, leave_out=parts - {"rnn_cell", "rnn_forward"})
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "rnn_forward":
            cell.source = ("def rnn_forward(cell, inputs, h0):\n    states, h = [h0], h0\n"
                           "    for x_t in inputs[:-1]:\n        h = cell(x_t, h)\n"
                           "        states.append(h)\n    return states")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{EX01}.ipynb"
        nbformat.write(notebook, path)
        completed = subprocess.run(
            [sys.executable, "-m", "rnncourse", "exercises", "check", str(path), "--root",
             str(ROOT)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    printed = completed.stdout.replace(str(path), f"~/rnncourse-work/{EX01}.ipynb")
    return "```text\n$ rnncourse exercises check ~/rnncourse-work/" + f"{EX01}.ipynb\n" + (
        printed.rstrip() + "\n```")


BLOCKS = {"students.md": {"exercises": exercise_table, "check-example": check_example},
          "instructors.md": {"mutation-table": mutation_table}}


def block_pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated: {name} -->\n)(.*?)(^<!-- end generated: {name} -->)",
                      re.S | re.M)


def current_block(guide: str, name: str) -> str:
    match = block_pattern(name).search((GUIDES / guide).read_text())
    if match is None:
        raise ValueError(f"{guide} has no generated block {name!r}")
    return match.group(2).rstrip("\n")


def rewrite(guide: str, name: str, content: str) -> None:
    path = GUIDES / guide
    text = block_pattern(name).sub(lambda match: match.group(1) + content + "\n" + match.group(3),
                                   path.read_text())
    path.write_text(text)


def main() -> None:
    for guide, blocks in BLOCKS.items():
        for name, render in blocks.items():
            rewrite(guide, name, render())
            print(f"rewrote {guide}: {name}")


if __name__ == "__main__":
    main()
