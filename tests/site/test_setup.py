"""The two-command set-up: README, make.py, CI and the pinned environment agree."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK_COMMAND = "python3 make.py book"
TEST_COMMAND = "python3 make.py test"


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert BOOK_COMMAND in readme and TEST_COMMAND in readme


def test_ci_runs_exactly_the_readme_test_command() -> None:
    commands = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
                if line.strip() and not line.strip().startswith(("#", "set ", "cd "))]
    assert commands == [TEST_COMMAND], f".ci/run must run only {TEST_COMMAND!r}, runs {commands}"


def constraint_lines() -> list[str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_environment_is_pinned() -> None:
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[^=\s]+", pin) for pin in constraint_lines())
    pins = {re.sub(r"[-_.]+", "-", pin.split("==")[0].lower()): pin.split("==")[1]
            for pin in constraint_lines()}
    assert pins["jupyter-book"].startswith("1."), "Jupyter Book 1.x (2.x cannot build offline)"
    assert pins["nbgrader"].startswith("0.9."), "nbgrader 0.9.x"
    assert pins["torch"] == "2.13.0", "torch pinned without a local tag, so CUDA builds satisfy it"
    for name in ("ipywidgets", "matplotlib", "tqdm", "pytest", "jupytext", "jupyterlab"):
        assert name in pins, f"{name} is not pinned"
    import torch

    assert torch.__version__.split("+")[0] == pins["torch"], (
        "the environment runs a torch other than the pinned one: run python3 make.py test")


def test_make_py_refuses_unknown_jobs() -> None:
    completed = subprocess.run([sys.executable, ROOT / "make.py", "nonsense"],
                               capture_output=True, text=True)
    assert completed.returncode == 2 and "make.py book" in completed.stdout


@pytest.mark.slow
def test_a_cell_error_fails_the_book_build(tmp_path: Path) -> None:
    """With the course's _config.yml, a page whose code raises makes the build fail."""
    shutil.copy(ROOT / "_config.yml", tmp_path)
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book")
    shutil.copytree(ROOT / "book" / "_ext", tmp_path / "book" / "_ext")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    (tmp_path / "book" / "intro.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n"
        "# A broken page\n\n```{code-cell} ipython3\nraise RuntimeError('boom')\n```\n")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    completed = subprocess.run([jupyter_book, "build", tmp_path, "--warningiserror",
                                "--keep-going"], capture_output=True, text=True, cwd=tmp_path)
    log = completed.stdout + completed.stderr
    assert completed.returncode != 0, f"a page that raises must fail the build:\n{log[-2000:]}"
    assert "boom" in log or "RuntimeError" in log


def test_environment_runs_the_pinned_versions() -> None:
    """Every package in constraints.txt is installed in .venv at its pinned version (make.py
    installs `.[course]` with those constraints; a pin nothing needs would be dead weight)."""
    from importlib.metadata import PackageNotFoundError, version

    wrong = []
    for pin in constraint_lines():
        name, pinned = pin.split("==")
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "not installed"
        if installed.split("+")[0] != pinned:
            wrong.append(f"{name}: pinned {pinned}, {installed}")
    assert not wrong, "run python3 make.py test to update .venv:\n" + "\n".join(wrong)
