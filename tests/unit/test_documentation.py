"""The documentation says where things are: every package's docstring that lists its files lists
exactly the files it holds, and every `rnncourse.<name>` the package, the pages, the README and
the guides mention exists."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "rnncourse"
LISTED = re.compile(r"^\s{2,}(?P<name>[A-Za-z_][\w]*(?:\.py|/))\s", re.M)
DOTTED = re.compile(r"(?<![\w/.])rnncourse(?:\.[A-Za-z_]\w*)+")
FILE_SUFFIXES = {"pdf", "zip", "whl", "sha256"}


def documented_packages() -> list[Path]:
    return sorted(init.parent for init in PACKAGE.rglob("__init__.py")
                  if LISTED.search(ast.get_docstring(ast.parse(init.read_text())) or ""))


@pytest.mark.parametrize("package", documented_packages(),
                         ids=lambda path: str(path.relative_to(ROOT)))
def test_package_docstrings_list_exactly_their_files(package: Path) -> None:
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
    listed = {match.group("name") for match in LISTED.finditer(docstring)}
    present = {path.name for path in package.glob("*.py") if path.name != "__init__.py"}
    present |= {f"{path.name}/" for path in package.iterdir()
                if path.is_dir() and (path / "__init__.py").is_file()}
    assert listed == present, (f"{package.relative_to(ROOT)}: listed but absent "
                               f"{sorted(listed - present)}, present but not listed "
                               f"{sorted(present - listed)}")


def resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if not hasattr(value, attribute):
                return False
            value = getattr(value, attribute)
        return True
    return False


def mentions() -> list[tuple[str, str]]:
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "book").rglob("*.md"), ROOT / "README.md"]
    found = set()
    for source in sources:
        for dotted in DOTTED.findall(source.read_text()):
            if dotted.rpartition(".")[2] in FILE_SUFFIXES:  # a file's name, e.g. rnncourse.pdf
                continue
            found.add((str(source.relative_to(ROOT)), dotted.rstrip(".")))
    return sorted(found)


def test_every_mentioned_name_exists() -> None:
    missing = [f"{source}: {dotted}" for source, dotted in mentions() if not resolves(dotted)]
    assert not missing, "mentioned but not there:\n" + "\n".join(missing)


def test_the_checks_can_fail() -> None:
    assert resolves("rnncourse.training.fit") and resolves("rnncourse.models.cells.lstm_step")
    assert not resolves("rnncourse.experiments.language")
    assert not resolves("rnncourse.models.cells.no_such_step")
    found = DOTTED.findall("see `rnncourse.data.text.load_text`.")
    assert found == ["rnncourse.data.text.load_text"]


def test_every_mentioned_file_of_the_package_exists() -> None:
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "book").rglob("*.md"), ROOT / "README.md"]
    missing = sorted({f"{source.relative_to(ROOT)}: {path}" for source in sources
                      for path in re.findall(r"rnncourse/[\w/]+\.py", source.read_text())
                      if not (ROOT / path).is_file()})
    assert not missing, "files mentioned but not there:\n" + "\n".join(missing)
