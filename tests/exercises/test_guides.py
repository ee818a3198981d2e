"""The guides' generated blocks (`tests/exercises/guides.py`) are current: tables of exercises and of the
mutation tests' outcome, and the sample output of `rnncourse exercises check`."""

from __future__ import annotations

import pytest
from guides import check_example, current_block, exercise_table, mutation_table


def test_the_students_guide_lists_the_exercises_as_released() -> None:
    assert current_block("students.md", "exercises") == exercise_table(), (
        "book/guides/students.md is out of date: run .venv/bin/python tests/exercises/guides.py")


def test_the_instructors_guide_shows_the_mutation_table() -> None:
    table = mutation_table()
    assert "not run" not in table, "some mutants have no recorded outcome: run the mutation tests"
    assert current_block("instructors.md", "mutation-table") == table, (
        "book/guides/instructors.md is out of date: run .venv/bin/python tests/exercises/guides.py")


@pytest.mark.slow
def test_the_students_guide_shows_what_check_prints() -> None:
    assert current_block("students.md", "check-example") == check_example(), (
        "book/guides/students.md is out of date: run .venv/bin/python tests/exercises/guides.py")
