"""The course's exercises as students see them: their release notebooks in `exercises/`, their
parts and points, and the chapter each belongs to (from `_toc.yml`)."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from rnncourse.grading.nbgrader_cli import find_course_root, points_by_part


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id (`ex01-vanishing-gradients`), title, chapter (the chapter page's
    title, "" when unknown), points per part and release notebook."""

    id: str
    title: str
    chapter: str
    parts: dict[str, float]
    release: Path

    @property
    def points(self) -> float:
        return sum(self.parts.values())


def locate_course_root(start: str | Path | None = None) -> Path:
    """The course folder: found from `start` (default: the working folder) upwards, else the
    repository this package was installed from."""
    try:
        return find_course_root(start)
    except FileNotFoundError:
        package_repository = Path(__file__).resolve().parents[2]
        if (package_repository / "nbgrader_config.py").is_file():
            return package_repository
        raise FileNotFoundError(
            "no course folder (one holding nbgrader_config.py) here or above; run this from "
            "the rnncourse repository") from None


def grade_cells_by_part(notebook: nbformat.NotebookNode) -> dict[str, list[str]]:
    """Part (the grade id of a solution cell) -> the grade ids of the test cells that follow it
    up to the next solution cell. Test cells before any solution cell form parts of their own."""
    parts: dict[str, list[str]] = {}
    current = None
    for cell in notebook.cells:
        metadata = cell.metadata.get("nbgrader", {})
        if metadata.get("solution") and cell.cell_type == "code":
            current = metadata["grade_id"]
            parts.setdefault(current, [])
        elif metadata.get("grade"):
            parts.setdefault(current or metadata["grade_id"], []).append(metadata["grade_id"])
    return {part: cells for part, cells in parts.items() if cells}


def notebook_title(notebook: nbformat.NotebookNode) -> str:
    """The text of the first H1 heading of a notebook ("" when there is none)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def _page_title(course_root: Path, page: str) -> str:
    for path in sorted(course_root.glob(f"{page}.*")):
        if path.suffix == ".ipynb":
            return notebook_title(nbformat.read(path, as_version=4))
        if path.suffix == ".md":
            for line in path.read_text().splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def _chapter_pages(course_root: Path) -> dict[str, str]:
    """Page in _toc.yml -> the chapter page it is a section of (itself for a chapter)."""
    import yaml

    toc_path = course_root / "_toc.yml"
    if not toc_path.is_file():
        return {}
    toc = yaml.safe_load(toc_path.read_text()) or {}
    chapters: dict[str, str] = {}

    def walk(entries: list, chapter: str | None) -> None:
        for entry in entries or []:
            page = entry.get("file")
            owner = chapter or page
            if page:
                chapters[page] = owner
            walk(entry.get("sections", []), owner)

    for part in toc.get("parts", []):
        walk(part.get("chapters", []), None)
    walk(toc.get("chapters", []), None)
    return chapters


def chapter_title(course_root: Path, exercise_id: str) -> str:
    """The title of the chapter an exercise belongs to: the page it is a section of in
    _toc.yml, else the chapter page with the same number (`book/01-*` for `ex01-...`)."""
    page = f"exercises/{exercise_id}/{exercise_id}"
    chapter = _chapter_pages(course_root).get(page)
    if chapter and chapter != page:
        return _page_title(course_root, chapter)
    number = re.match(r"ex(\d+)", exercise_id)
    if number:
        for candidate in sorted((course_root / "book").glob(f"{number.group(1)}-*")):
            return _page_title(course_root, str(candidate.relative_to(course_root)
                                                .with_suffix("")))
    return ""


def release_notebook(course_root: Path, exercise_id: str) -> Path:
    """The one notebook of `exercises/EXERCISE_ID/`; a ValueError names the known exercises."""
    folder = Path(course_root) / "exercises" / exercise_id
    notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if len(notebooks) != 1:
        known = ", ".join(exercise.id for exercise in list_exercises(course_root)) or "none"
        problem = "is not an exercise" if not notebooks else "has more than one notebook"
        raise ValueError(f"{exercise_id!r} {problem}; the exercises are: {known}")
    return notebooks[0]


def load_exercise(course_root: str | Path, exercise_id: str) -> Exercise:
    course_root = Path(course_root)
    path = release_notebook(course_root, exercise_id)
    notebook = nbformat.read(path, as_version=4)
    return Exercise(exercise_id, notebook_title(notebook), chapter_title(course_root, exercise_id),
                    points_by_part(notebook), path)


def list_exercises(course_root: str | Path) -> list[Exercise]:
    """Every released exercise of the course, in order."""
    folder = Path(course_root) / "exercises"
    ids = sorted(p.name for p in folder.iterdir()
                 if p.is_dir() and len(list(p.glob("*.ipynb"))) == 1) if folder.is_dir() else []
    return [load_exercise(course_root, exercise_id) for exercise_id in ids]


def start_exercise(course_root: str | Path, exercise_id: str, directory: str | Path) -> list[Path]:
    """Copy the release of an exercise (its notebook and any data files) into `directory`.

    Never overwrites: a FileExistsError names the files already there, and nothing is copied.
    """
    source = release_notebook(Path(course_root), exercise_id).parent
    directory = Path(directory)
    files = sorted(p for p in source.rglob("*") if p.is_file()
                   and ".ipynb_checkpoints" not in p.parts)
    targets = [directory / path.relative_to(source) for path in files]
    existing = [target for target in targets if target.exists()]
    if existing:
        raise FileExistsError("already there, not overwritten: "
                              + ", ".join(str(path) for path in existing))
    for path, target in zip(files, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        with path.open("rb") as reader, target.open("xb") as writer:  # "x": never overwrite
            shutil.copyfileobj(reader, writer)
    return targets
