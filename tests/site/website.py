"""The website harness the site tests share: build a site (the course's book, or a small fixture
site with the course's configuration and one page with a figure, a citation and a widget), read
its build log, and drive Debian's Chromium. The fixtures that build once per session are in
conftest.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def toc_files(source: Path = ROOT) -> list[str]:
    """Every page named in a book's _toc.yml (root included), as paths without a suffix."""
    toc = yaml.safe_load((source / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("chapters", "sections", "parts"):
                walk(entry.get(key, []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return files


@dataclass(frozen=True)
class BuiltSite:
    """A built website: its sources, its html folder, the build log and how long it took."""

    label: str  # "book" (the course's) or "fixture"
    source: Path
    html: Path
    log: str
    seconds: float

    @property
    def build_folder(self) -> Path:
        """The `_build` folder (html, execution cache, screenshots)."""
        return self.html.parent

    def pages(self) -> list[str]:
        """The pages in the site's _toc.yml, in reading order, without a suffix."""
        return toc_files(self.source)

    def html_files(self) -> list[Path]:
        """Every HTML page of the site, the search and index pages included."""
        skip = {"_static", "_sources", "_images", "_downloads"}
        return sorted(page for page in self.html.rglob("*.html")
                      if not skip & set(page.relative_to(self.html).parts))


def build_site(source: Path, output: Path, environment: dict[str, str] | None = None
               ) -> tuple[subprocess.CompletedProcess, float]:
    """Run `jupyter-book build` as make.py does (every warning an error); time it.

    `source` is a site's folder, or one page of it for a one-page build.
    """
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    started = time.perf_counter()
    completed = subprocess.run(
        [jupyter_book, "build", source, "--path-output", output, "--warningiserror",
         "--keep-going"],
        cwd=source if source.is_dir() else source.parent, capture_output=True, text=True,
        env={**os.environ, **(environment or {})})
    return completed, time.perf_counter() - started


def execution_report(log: str) -> str:
    """The "Page execution times" table that book/_ext/execution_times.py prints."""
    times = log[log.find("Page execution times"):] if "Page execution times" in log else ""
    return times.split("\n\n")[0] if times else "(no executed pages)"


@dataclass(frozen=True)
class ExecutionRow:
    """One page's row of the execution report."""

    wall: float | None  # seconds
    cpu: float | None  # the kernel's CPU seconds
    source: str  # executed, cached or unchanged
    status: str  # ok, or FAILED (the error)


EXECUTION_ROW = re.compile(r"^\s+(?P<wall>\S+)(?: s)?\s+(?P<cpu>\S+)(?: s)?\s+"
                           r"(?P<source>executed|cached|unchanged)\s+(?P<status>ok|FAILED \(.*\))"
                           r"\s+(?P<page>\S+)$")


def execution_rows(report: str) -> dict[str, ExecutionRow]:
    """{page: row} from a build's execution report.

    A row reads `    108.2 s    104.0 s  executed   ok      book/01-long-term-memory` (wall time,
    kernel CPU time, where the outputs came from, status, page); a time may read `n/a`.
    """
    rows = {}
    for line in report.splitlines():
        if match := EXECUTION_ROW.match(line):
            wall, cpu = (None if match[key] == "n/a" else float(match[key])
                         for key in ("wall", "cpu"))
            rows[match["page"]] = ExecutionRow(wall, cpu, match["source"], match["status"])
    return rows


def build_once(label: str, source: Path, output: Path, pytestconfig: pytest.Config,
               environment: dict[str, str] | None = None) -> BuiltSite:
    completed, seconds = build_site(source, output, environment)
    log = completed.stdout + completed.stderr
    (output / "build.log").write_text(log)
    # Shown even though pytest captures output: the page times are part of the test report.
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nthe {label} site: built in {seconds:.0f} s\n{execution_report(log)}")
    assert completed.returncode == 0, f"the book build failed:\n{log[-6000:]}"
    return BuiltSite(label=label, source=source, html=output / "_build" / "html", log=log,
                     seconds=seconds)


# A small site with the course's configuration and extensions, and one page holding what the
# chapters will hold (equations, a citation, a captioned figure, a widget with saved state), so
# the site machinery is tested whatever chapters exist.
FIXTURE_TOC = """\
format: jb-book
root: demo/index
chapters:
  - file: demo/widgets
  - file: demo/bibliography
"""


FIXTURE_INDEX = """\
# Fixture site

A home page that names the LSTM, so that search has something to find.
"""


FIXTURE_BIBLIOGRAPHY = """\
# References

```{bibliography}
```
"""


MYST_NOTEBOOK_HEADER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""  # a Markdown page that runs as a notebook


FIXTURE_WIDGET_PAGE = MYST_NOTEBOOK_HEADER + '''
# Widgets, figures and equations

An LSTM keeps a cell state {cite:p}`hochreiter1997long`; its forget gate is
$f_t = \\sigma(W_f x_t + U_f h_{t-1} + b_f)$ and the cell state follows

$$
c_t = f_t \\odot c_{t-1} + i_t \\odot \\tanh(W_c x_t + U_c h_{t-1} + b_c).
$$

## A figure

```{code-cell} ipython3
---
mystnb:
  figure:
    caption: A gradient norm that shrinks by a constant factor per step.
    name: fig-fixture-decay
  image:
    alt: A curve falling from one towards zero over fifty steps.
---
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

import rnncourse.chapters.plotting  # the course's colour-blind-safe style

steps = np.arange(50)
figure, axis = plt.subplots(figsize=(4, 2.5))
axis.plot(steps, 0.9 ** steps)
axis.set_xlabel("steps back in time")
axis.set_ylabel("gradient norm")
plt.show()
```

## A widget

```{code-cell} ipython3
def draw(rate=0.9):
    figure, axis = plt.subplots(figsize=(4, 2.5))
    axis.plot(steps, rate ** steps)
    axis.set_xlabel("steps back in time")
    axis.set_ylabel("gradient norm")
    plt.show()


widgets.interactive(draw, rate=widgets.FloatSlider(value=0.9, min=0.5, max=1.0, step=0.05))
```

## References

```{bibliography}
:filter: docname in docnames
```
'''


FIXTURE_JUPYTERHUB = "https://hub.example.org"


def write_fixture_site(source: Path) -> Path:
    """Write the fixture site's sources (the course's _config.yml and extensions) into `source`."""
    (source / "demo").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", source)
    shutil.copytree(ROOT / "book" / "_ext", source / "book" / "_ext",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "book" / "references.bib", source / "book")
    (source / "_toc.yml").write_text(FIXTURE_TOC)
    (source / "demo" / "index.md").write_text(FIXTURE_INDEX)
    (source / "demo" / "widgets.md").write_text(FIXTURE_WIDGET_PAGE)
    (source / "demo" / "bibliography.md").write_text(FIXTURE_BIBLIOGRAPHY)
    return source


CHROMIUM = Path("/usr/bin/chromium")


# Chromium on a closed network: no background connections to Google's services, no sandbox (the
# tests may run as root), no GPU.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing and the tests run as root."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"the browser tests need Debian's chromium ({CHROMIUM}), which is missing; "
                    "installing it needs root: apt-get install -y chromium")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    completed = subprocess.run(install, env=environment, capture_output=True, text=True)
    if completed.returncode != 0:  # a fresh machine may not have read the package lists yet
        subprocess.run(["apt-get", "update"], env=environment, capture_output=True, text=True)
        completed = subprocess.run(install, env=environment, capture_output=True, text=True)
    assert completed.returncode == 0 and CHROMIUM.exists(), (
        f"`{' '.join(install)}` failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return CHROMIUM
