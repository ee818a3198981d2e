"""The website builds from a clean state, executing every page, with no error or warning.

The build runs once per test session into a temporary folder (so nothing is served from a
cache or from stored outputs) and prints each page's execution time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    """Every page named in _toc.yml (root included), as paths without a suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("chapters", "sections", "parts"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return files


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    """Build the book once into a fresh folder; return its html folder."""
    output = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    completed = subprocess.run(
        [jupyter_book, "build", ROOT, "--path-output", output, "--warningiserror", "--keep-going"],
        cwd=ROOT, capture_output=True, text=True)
    log = completed.stdout + completed.stderr
    (output / "build.log").write_text(log)
    times = log[log.find("Page execution times:"):] if "Page execution times:" in log else ""
    report = times.split("\n\n")[0] if times else "(no executed pages)"
    # Shown even though pytest captures output: the page times are part of the test report.
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + report)
    assert completed.returncode == 0, f"the book build failed:\n{log[-6000:]}"
    return output / "_build" / "html"


@pytest.mark.slow
def test_book_builds_every_page(built_book: Path) -> None:
    for page in toc_files():
        assert (built_book / f"{page}.html").is_file(), f"{page} was not built"


@pytest.mark.slow
def test_every_page_in_the_toc_exists() -> None:
    for page in toc_files():
        matches = list(ROOT.glob(f"{page}.*"))
        assert matches, f"_toc.yml names {page}, which does not exist"


@pytest.mark.slow
def test_released_exercises_are_shown_but_not_executed(built_book: Path) -> None:
    for page in toc_files():
        if page.startswith("exercises/"):
            html = (built_book / f"{page}.html").read_text()
            assert "NotImplementedError" in html, f"{page} should show the student version"
            assert 'class="cell_output' not in html, (
                f"{page} was executed, but released exercises must not be")
