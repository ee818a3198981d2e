"""`rnncourse release [ID ...] [--bundle]`: regenerate exercises/ from solutions/ with nbgrader;
with `--bundle`, also pack what a class is handed.

The bundle is one versioned zip archive, `rnncourse-VERSION.zip`, with a checksum file beside it
(`rnncourse-VERSION.zip.sha256`, in `sha256sum` format: `sha256sum -c` checks it):

    rnncourse-VERSION/
      README.md              what is inside, and how to install and start
      site/                  the website (open site/index.html; works offline)
      rnncourse.pdf          the printed edition
      exercises/ID/ID.ipynb  the student notebooks just released (no solutions, no hidden tests)
      wheels/rnncourse-VERSION-py3-none-any.whl   the course package the notebooks import
      constraints.txt        the exact versions of everything it needs
      requirements.txt       `pip install -r requirements.txt`: that package, at those versions
      nbgrader_config.py     makes the folder a course: `rnncourse exercises list|start|check`

The website and the PDF are built beforehand (`python3 make.py book`, `python3 make.py pdf`);
the wheel is built here, from the course folder's own source.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HELP = "regenerate exercises/ from solutions/ with nbgrader (--bundle: pack a class hand-out)"
WHEEL_PATTERN = "rnncourse-*-py3-none-any.whl"
# What building the package reads: pyproject.toml names README.md as its long description.
PACKAGE_SOURCE = ("pyproject.toml", "README.md", "rnncourse")
# Stored as they are in the archive: compressing them again gains nothing.
ALREADY_COMPRESSED = {".png", ".jpg", ".whl", ".pdf", ".woff", ".woff2", ".zip", ".gz"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", help="exercises to release (default: all in solutions/)")
    parser.add_argument("--root", default=None, help="course folder (default: found from here)")
    parser.add_argument("--bundle", action="store_true",
                        help="also write rnncourse-VERSION.zip: the website, the PDF, the "
                             "released notebooks and the course package, with a checksum file")
    parser.add_argument("--site", default=None,
                        help="the built website (default: ROOT/_build/html; make.py book)")
    parser.add_argument("--pdf", default=None, help="the printed edition "
                        "(default: ROOT/_build/pdf/rnncourse.pdf; make.py pdf)")
    parser.add_argument("--out", default=None,
                        help="folder for the bundle (default: ROOT/_build/release)")


def run(arguments: argparse.Namespace) -> int:
    from rnncourse.grading.nbgrader_cli import find_course_root, release

    root = find_course_root(arguments.root)
    if arguments.bundle:
        # Everything the bundle needs is checked before anything is regenerated.
        try:
            site, pdf = bundle_inputs(root, arguments.site, arguments.pdf)
        except (FileNotFoundError, ValueError) as error:
            print(f"rnncourse release --bundle: {error}")
            return 1
    released = release(root, arguments.ids or None)
    for folder in released:
        print(f"released {folder.relative_to(root)}")
    if arguments.bundle:
        out = Path(arguments.out) if arguments.out else root / "_build" / "release"
        try:
            archive = write_bundle(root, site, pdf, released, out)
        except ValueError as error:
            print(f"rnncourse release --bundle: {error}")
            return 1
        print(f"bundled {archive} ({archive.stat().st_size / 2**20:.1f} MiB)")
        print(f"checksum {checksum_path(archive)}")
    return 0


def bundle_inputs(root: Path, site: str | None, pdf: str | None) -> tuple[Path, Path]:
    """The built website and PDF the bundle takes (clear errors when one is missing)."""
    site_folder = Path(site) if site else root / "_build" / "html"
    pdf_file = Path(pdf) if pdf else root / "_build" / "pdf" / "rnncourse.pdf"
    if not (site_folder / "index.html").is_file():
        raise FileNotFoundError(f"--site: no website in {site_folder} (no index.html); "
                                "build it first with `python3 make.py book`")
    if not pdf_file.is_file():
        raise FileNotFoundError(f"--pdf: {pdf_file} does not exist; "
                                "print the book first with `python3 make.py pdf`")
    if not (root / "pyproject.toml").is_file():
        raise FileNotFoundError(f"--root: {root} has no pyproject.toml, so the course package "
                                "cannot be built from it")
    return site_folder, pdf_file


def build_wheel(root: Path, into: Path) -> Path:
    """The course package as a wheel, built with no network from a copy of the course folder's
    package source (a build in place would leave build/ and *.egg-info behind)."""
    source = into / "source"
    source.mkdir()
    for name in PACKAGE_SOURCE:
        if (root / name).is_dir():
            shutil.copytree(root / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif (root / name).is_file():
            shutil.copy2(root / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
               "--no-index", "--disable-pip-version-check", "--quiet", "--wheel-dir", str(into),
               str(source)]
    completed = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(into.glob(WHEEL_PATTERN))
    if completed.returncode != 0 or len(wheels) != 1:
        raise ValueError(f"building the rnncourse wheel failed:\n{completed.stderr[-3000:]}")
    return wheels[0]


def check_no_solutions(notebook: Path) -> None:
    """Refuse to hand out a notebook that holds solution code or hidden tests."""
    from rnncourse.grading.nbgrader_cli import HIDDEN_TEST_MARKERS, SOLUTION_MARKERS

    text = notebook.read_text(encoding="utf-8")
    for marker in (*SOLUTION_MARKERS, *HIDDEN_TEST_MARKERS):
        if marker in text:
            raise ValueError(f"{notebook} holds {marker!r}: it is not a student release")


def bundle_readme(version: str, wheel: str, exercises: list[str]) -> str:
    listing = "\n".join(f"- `exercises/{exercise}/{exercise}.ipynb`" for exercise in exercises)
    return f"""\
# Training recurrent neural networks: challenges and opportunities (rnncourse {version})

- `site/index.html`: the course website. Open it in a browser; it needs no network.
- `rnncourse.pdf`: the printed edition of the same pages.
- The exercises:
{listing}
- `wheels/{wheel}`: the course package the exercises import, with `constraints.txt` (the exact
  version of every package it needs) and `requirements.txt` (installs both).

## Set-up (Python 3.11 or newer)

In this folder:

```bash
python3 -m venv .venv
.venv/bin/pip install -r requirements.txt
.venv/bin/jupyter lab exercises/
```

For a smaller download on a machine with no GPU, add
`--extra-index-url https://download.pytorch.org/whl/cpu` to the `pip install` line (PyTorch's
CPU build). Run each notebook's set-up cell first. From this folder, `.venv/bin/rnncourse
exercises list` lists the exercises, `rnncourse exercises start ID --dir DIR` copies one into a
working folder, and `rnncourse exercises check NOTEBOOK` runs a notebook's visible tests.

Check that the archive arrived intact with `sha256sum -c rnncourse-{version}.zip.sha256`.
"""


def checksum_path(archive: Path) -> Path:
    return archive.with_name(archive.name + ".sha256")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bundle(root: Path, site: Path, pdf: Path, exercises: list[Path], out: Path) -> Path:
    """Write `out/rnncourse-VERSION.zip` and its `.sha256`; return the archive's path.

    The archive is written under a temporary name and renamed when complete, so a failure
    leaves any earlier bundle as it was.
    """
    with tempfile.TemporaryDirectory() as scratch:
        wheel = build_wheel(root, Path(scratch))
        version = wheel.name.split("-")[1]
        top = f"rnncourse-{version}"
        files = sorted(file for folder in exercises for file in folder.rglob("*")
                       if file.is_file() and ".ipynb_checkpoints" not in file.parts)
        notebooks = [file for file in files if file.suffix == ".ipynb"]
        if not notebooks:
            raise ValueError(f"no released notebooks in {[str(folder) for folder in exercises]}")
        for notebook in notebooks:
            check_no_solutions(notebook)
        members: dict[str, Path | str] = {
            "README.md": bundle_readme(version, wheel.name, [n.parent.name for n in notebooks]),
            "rnncourse.pdf": pdf,
            f"wheels/{wheel.name}": wheel,
            "constraints.txt": root / "constraints.txt",
            # Makes the folder a course root: `rnncourse exercises list | start | check` work in
            # it, and `check` runs the released test cells, not whatever a student edited.
            "nbgrader_config.py": root / "nbgrader_config.py",
            "requirements.txt": f"-c constraints.txt\n./wheels/{wheel.name}[run]\n",
        }
        for file in files:
            members[file.relative_to(root).as_posix()] = file
        for file in sorted(site.rglob("*")):
            if file.is_file():
                members[f"site/{file.relative_to(site).as_posix()}"] = file
        out.mkdir(parents=True, exist_ok=True)
        archive = out / f"{top}.zip"
        partial = out / f".{top}.zip.partial"
        try:
            write_zip(partial, top, members)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, archive)
    checksum_path(archive).write_text(f"{sha256_of(archive)}  {archive.name}\n")
    return archive


def write_zip(path: Path, top: str, members: dict[str, Path | str]) -> None:
    """A zip archive of `members` (name in the archive -> file, or text), all under `top/`."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, source in members.items():
            if isinstance(source, str):
                bundle.writestr(f"{top}/{name}", source)
            else:
                stored = source.suffix in ALREADY_COMPRESSED
                bundle.write(source, f"{top}/{name}",
                             compress_type=zipfile.ZIP_STORED if stored else None)
