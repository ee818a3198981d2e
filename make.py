"""Set up the course environment and run its two jobs: build the website, run the tests.

    python3 make.py book    # build the website into _build/html, executing every page
    python3 make.py test    # run the whole test suite (extra arguments go to pytest)
    python3 make.py pdf     # print the book to _build/pdf/rnncourse.pdf (after `book`: no page
                            # runs again)

Each job first creates or updates a project-local virtual environment in .venv with the
versions pinned in constraints.txt. Only the standard library is used here, so a fresh machine
needs nothing but Python 3.11 or newer.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".rnncourse-installed"
CONSTRAINTS = ROOT / "constraints.txt"
# JupyterLab settings that open the chapters' .md pages as notebooks (Binder uses them too).
LAB_SETTINGS = ROOT / ".binder" / "overrides.json"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def run(command: list[str | os.PathLike], **kwargs) -> None:
    """Run a command with the environment's bin folder first on PATH; stop on failure."""
    print("+", " ".join(str(part) for part in command), flush=True)
    completed = subprocess.run(command, env=venv_environment(), **kwargs)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def venv_environment() -> dict[str, str]:
    """The environment for commands run inside .venv.

    nbgrader calls its `alembic` executable by name, so the venv's bin folder must come first.
    """
    environment = dict(os.environ)
    environment["PATH"] = os.pathsep.join([str(BIN), environment.get("PATH", "")])
    environment["VIRTUAL_ENV"] = str(VENV)
    environment.setdefault("MPLBACKEND", "Agg")
    return environment


def requirements_fingerprint() -> str:
    """A hash of everything that decides what gets installed."""
    digest = hashlib.sha256()
    for decides in (ROOT / "pyproject.toml", CONSTRAINTS, LAB_SETTINGS):
        digest.update(decides.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_environment() -> None:
    """Create .venv if needed; install the pinned course stack when what decides it changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this file must run, and say so, on old Pythons)
        sys.exit(f"rnncourse needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        run([sys.executable, "-m", "venv", VENV])
    fingerprint = requirements_fingerprint()
    if STAMP.exists() and STAMP.read_text() == fingerprint:
        return
    run([PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "-c", CONSTRAINTS,
         "-e", f"{ROOT}[course]"])
    install_lab_settings()
    STAMP.write_text(fingerprint)


def install_lab_settings() -> None:
    """Give the environment's JupyterLab the course's settings (.binder/overrides.json).

    JupyterLab reads `overrides.json` from `<sys.prefix>/share/jupyter/lab/settings`; there it
    applies to this environment only, and a reader's own settings still win.
    """
    settings = VENV / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_bytes(LAB_SETTINGS.read_bytes())


def build_book(output_dir: Path | None = None, extra: list[str] | None = None) -> None:
    """Build the Jupyter Book (executing every page); fail on any warning or cell error.

    The build ends with each page's wall and kernel CPU time (book/_ext/execution_times.py); a
    page that waited over 20 s beyond its CPU time gets a `!` line there, which fails nothing.
    """
    command = [BIN / "jupyter-book", "build", ROOT, "--warningiserror", "--keep-going"]
    if output_dir is not None:
        command += ["--path-output", output_dir]
    run(command + (extra or []), cwd=ROOT)
    html = (output_dir or ROOT) / "_build" / "html" / "index.html"
    print(f"\nThe website is in {html.parent}; open {html} in a browser.")


def build_pdf(extra: list[str] | None = None) -> None:
    """Print the book to _build/pdf/rnncourse.pdf (book/_ext/print_edition.py).

    The one-page build (`--builder singlehtml`) takes every page's outputs from the website's
    execution cache, so after `make.py book` no page runs again; Chromium then prints it. Extra
    arguments go to jupyter-book (e.g. `--path-output DIR`, where a website was built before).
    """
    extra = list(extra or [])
    command = [BIN / "jupyter-book", "build", ROOT, "--builder", "singlehtml",
               "--warningiserror", "--keep-going"]
    started = time.perf_counter()
    run(command + extra, cwd=ROOT)
    output = Path(extra[extra.index("--path-output") + 1]) if "--path-output" in extra else ROOT
    pdf = output.resolve() / "_build" / "pdf" / "rnncourse.pdf"
    print(f"\nThe PDF edition is {pdf} ({pdf.stat().st_size / 2**20:.1f} MiB), "
          f"built in {time.perf_counter() - started:.0f} s.")


def run_tests(pytest_arguments: list[str]) -> None:
    run([PYTHON, "-m", "pytest", *pytest_arguments], cwd=ROOT)


def main(arguments: list[str]) -> None:
    jobs = {"book": "build the website into _build/html",
            "test": "run the whole test suite (extra arguments go to pytest)",
            "pdf": "print the book to _build/pdf/rnncourse.pdf",
            "setup": "only create or update .venv"}
    if not arguments or arguments[0] not in jobs:
        print(__doc__)
        for name, what in jobs.items():
            print(f"  {name:6} {what}")
        sys.exit(2)
    ensure_environment()
    job, rest = arguments[0], arguments[1:]
    if job == "book":
        build_book(extra=rest)
    elif job == "test":
        run_tests(rest)
    elif job == "pdf":
        build_pdf(rest)


if __name__ == "__main__":
    main(sys.argv[1:])
