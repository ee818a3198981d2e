"""Running a chapter from the website: the Binder environment (.binder/) and JupyterLab.

The site's Binder button opens a chapter's MyST Markdown page (book/NN-*.md) in JupyterLab on
mybinder.org. Binder builds its image from .binder/: requirements.txt (the course package at the
pinned versions), runtime.txt (the Python) and postBuild (JupyterLab settings that open the .md
pages as notebooks, through Jupytext). Building a Binder image needs the network, so these tests
check each piece offline: pip resolves requirements.txt to exactly the pinned stack installed in
.venv; postBuild installs the settings; and JupyterLab with those settings, in a real browser,
opens a chapter as a notebook with every code cell of the page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / ".binder"
BIN = Path(sys.executable).parent
CHAPTER = "book/01-long-term-memory.md"
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def requirement_lines() -> list[str]:
    """.binder/requirements.txt without comments and blank lines."""
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def test_binder_installs_the_course_package_at_the_pinned_versions() -> None:
    assert requirement_lines() == [CPU_INDEX, "-c ../constraints.txt", ".[run]"]
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_binder_requirements_resolve_to_the_pinned_environment() -> None:
    """pip, offline, finds every requirement of `.[run]` already satisfied in .venv (installed
    from constraints.txt): Binder's image gets that same stack. The only thing it would install
    is the course package itself."""
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index",
         "--no-build-isolation", "--disable-pip-version-check", "-r",
         BINDER / "requirements.txt"],
        cwd=ROOT, capture_output=True, text=True)
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"pip cannot resolve .binder/requirements.txt:\n{log[-3000:]}"
    would_install = re.findall(r"^Would install (.*)$", completed.stdout, re.MULTILINE)
    assert would_install == ["rnncourse-0.1.0"], (
        f"Binder would install more than the course package: {would_install}")


def test_the_run_extra_has_what_a_chapter_page_needs() -> None:
    """What Binder installs: the chapters' kernel and glue (book), the exercises' checks
    (grading), the real data sets (data) and JupyterLab with Jupytext (lab); the course's own
    .venv (`course`) holds all of it."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert extras["run"] == ["rnncourse[book,grading,data,lab]"]
    assert extras["course"] == ["rnncourse[run,dev]"]
    assert any(requirement.startswith("jupytext") for requirement in extras["lab"])


def test_post_build_installs_the_lab_settings(tmp_path: Path) -> None:
    completed = subprocess.run([BINDER / "postBuild"], cwd=ROOT, capture_output=True, text=True,
                               env={**os.environ, "NB_PYTHON_PREFIX": str(tmp_path)})
    assert completed.returncode == 0, completed.stderr
    installed = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.read_bytes() == (BINDER / "overrides.json").read_bytes()
    viewers = json.loads(installed.read_text())["@jupyterlab/docmanager-extension:plugin"]
    assert viewers["defaultViewers"] == {"markdown": "Jupytext Notebook",
                                         "myst": "Jupytext Notebook"}


def test_post_build_says_what_is_missing_outside_binder() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "NB_PYTHON_PREFIX"}
    completed = subprocess.run([BINDER / "postBuild"], cwd=ROOT, capture_output=True, text=True,
                               env=environment)
    assert completed.returncode != 0 and "NB_PYTHON_PREFIX" in completed.stderr


def test_make_py_gave_the_environment_the_lab_settings() -> None:
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.exists(), "run python3 make.py test: it installs the JupyterLab settings"
    assert installed.read_bytes() == (BINDER / "overrides.json").read_bytes()


# --- JupyterLab in a browser -----------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab from .venv (with the settings make.py installed) on 127.0.0.1, with no token
    and its own empty user folders, serving a copy of a chapter page (so that nothing it writes
    lands in the repository); yields its base URL."""
    home = tmp_path_factory.mktemp("jupyter-home")
    served = tmp_path_factory.mktemp("jupyter-root")
    (served / CHAPTER).parent.mkdir(parents=True)
    shutil.copy(ROOT / CHAPTER, served / CHAPTER)
    port = free_port()
    environment = {**os.environ,
                   "JUPYTER_CONFIG_DIR": str(home / "config"),
                   "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
                   "JUPYTERLAB_SETTINGS_DIR": str(home / "user-settings"),
                   "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    server = subprocess.Popen(
        [BIN / "jupyter-lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         "--allow-root", "--IdentityProvider.token=", "--ServerApp.password=",
         f"--ServerApp.root_dir={served}",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=environment, stdout=subprocess.DEVNULL, stderr=(home / "server.log").open("w"),
        start_new_session=True)  # its own process group: the kernels it starts go with it
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "api/status", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n"
                                + (home / "server.log").read_text()[-3000:])
                time.sleep(0.5)
        yield url
    finally:
        # JupyterLab shuts its kernels down before it exits; on a loaded machine a kernel still
        # starting up can hold that up, so after a while the whole process group is killed.
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.mark.slow
def test_jupyterlab_opens_a_chapter_as_a_notebook(jupyterlab: str, browser) -> None:
    """The URL the site's Binder button opens (lab/tree/<page>) shows the chapter as a notebook
    with all of the page's code cells, not as Markdown text."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    code_cells = (ROOT / CHAPTER).read_text().count("```{code-cell}")
    assert code_cells > 0
    page = browser.new_page()
    page.route(re.compile(r"^(?!http://127\.0\.0\.1).*"), lambda route: route.abort())
    try:
        page.goto(f"{jupyterlab}lab/tree/{CHAPTER}", timeout=60_000)
        cells = ".jp-NotebookPanel .jp-CodeCell"
        page.wait_for_selector(cells, timeout=60_000)
        try:  # a long notebook's cells are added to the page a few at a time
            page.wait_for_function(f"document.querySelectorAll({cells!r}).length >= {code_cells}",
                                   timeout=30_000)
        except PlaywrightTimeout:
            pass  # the assertion below says how many cells it shows
        shown = page.locator(cells).count()
        assert shown == code_cells, f"the notebook shows {shown} of {code_cells} code cells"
        assert page.locator(".jp-NotebookPanel .jp-MarkdownCell").count() > 0
    finally:
        page.close()
