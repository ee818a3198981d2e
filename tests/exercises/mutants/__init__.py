"""Wrong implementations of every graded part of every exercise ("mutants"), for
`tests/exercises/test_mutants.py`: each is autograded in place of the part's solution and must lose
that part's points, while the solution keeps full marks.

Each exercise has a module here (`ex01.py` for `ex01-vanishing-gradients`) with `MUTANTS`: the
part (the grade id of its solution cell) -> its mutants. A mutant is wrong in one way, named by
its kind; a part has mutants of several kinds.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

KINDS = {
    "forbidden shortcut": "calls a library function the part asks students to write themselves",
    "wrong formula": "a wrong equation, gate order, direction or constant",
    "broken graph": "detaches, copies or leaves autograd's graph where the part needs it",
    "hard-coded output": "returns the right type and shape (or the visible tests' answers) only",
    "ignored argument": "ignores an argument, a seed or part of the input",
    "missing edge case": "right in general, wrong on a case the part's text lists",
    "mutated input": "changes in place a tensor it was given to read",
    "wrong answer": "a wrong choice or number for a concept question",
    "fake object": "an object that claims to equal anything, in place of an answer",
}
# A part is scored 0 as a whole when its code calls a forbidden shortcut.
ZEROED_KINDS = {"forbidden shortcut"}
RESULTS = Path(__file__).with_name("results.json")


@dataclass(frozen=True)
class Mutant:
    """One wrong implementation: `code` replaces the part's solution cell."""

    name: str
    kind: str
    code: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"mutant {self.name}: unknown kind {self.kind!r}")


def exercise_module(exercise_id: str):
    """The mutants module of an exercise (`ex01-vanishing-gradients` -> `tests.mutants.ex01`)."""
    return importlib.import_module(f"{__name__}.{exercise_id.split('-')[0]}")


def mutants_of(exercise_id: str) -> dict[str, list[Mutant]]:
    return exercise_module(exercise_id).MUTANTS


def reads_the_expected_value(header: str, names: tuple[str, ...], fallback: str) -> str:
    """A function (`header` its def line and checks) that looks through its callers' frames for
    the tests' expected value (a local named one of `names`) and returns it, or else runs
    `fallback`, an implementation wrong on a case only the hidden tests try."""
    return (header + "    import sys\n    frame = sys._getframe(1)\n    while frame is not None:\n"
            f"        found = [frame.f_locals[name] for name in {names!r}"
            " if name in frame.f_locals]\n"
            "        if found:\n            return found[0] if len(found) == 1 else tuple(found)\n"
            "        frame = frame.f_back\n" + fallback)


def choice_mutants(right: str, options: tuple[str, ...] = ("a", "b", "c", "d"),
                   variable: str = "answer") -> list[Mutant]:
    """The wrong choices of a multiple-choice question, and an object equal to everything."""
    wrong = [Mutant(f"choice-{option}", "wrong answer", f"{variable} = {option!r}")
             for option in options if option != right]
    fake = Mutant("equals-anything", "fake object", (
        "class Anything(str):\n    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    def strip(self):\n        return self\n    def lower(self):\n        return self\n"
        "    __hash__ = str.__hash__\n"
        f"{variable} = Anything('a')"))
    return [*wrong, fake]
