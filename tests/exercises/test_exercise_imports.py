"""What the exercises and their solutions import from the course package exists where they
import it from (the package's layout changes; a student's notebook must not break)."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*ROOT.glob("solutions/*/*.ipynb"), *ROOT.glob("exercises/*/*.ipynb")])
IMPORT = re.compile(r"^\s*from (rnncourse[\w.]*) import ([\w ,]+)$", re.M)


def course_imports(notebook: Path) -> list[tuple[str, str]]:
    cells = json.loads(notebook.read_text())["cells"]
    source = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    return [(module, name.split(" as ")[0].strip())
            for module, names in IMPORT.findall(source) for name in names.split(",")]


def test_the_notebooks_import_from_the_course() -> None:
    assert len(NOTEBOOKS) == 12
    assert sum(len(course_imports(notebook)) for notebook in NOTEBOOKS) >= 10


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.parent.name + "/"
                         + path.parts[-3])
def test_every_course_import_resolves(notebook: Path) -> None:
    for module, name in course_imports(notebook):
        assert hasattr(importlib.import_module(module), name), f"{module} has no {name}"
