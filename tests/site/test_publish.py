"""The PDF edition (`python3 make.py pdf`) and the class hand-out (`rnncourse release --bundle`).

Both reuse the book that the test session builds once (conftest.py's `built_site`): the PDF is
printed from a one-page build made in the same folder, which takes every page's outputs from
that build's execution cache (no page runs again), and the bundle packs that website and that
PDF. The PDF is read back page by page (pypdf): title page, contents with the right page numbers,
every chapter, equations typeset, figures at print resolution, widgets with their note, citations
and the bibliography. The bundle is unpacked, its checksum checked, its course package installed
offline into a fresh environment, and the exercises' set-up cells run with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from website import ROOT, BuiltSite, ensure_chromium

from rnncourse.commands.release import check_no_solutions

PDF_BUDGET_SECONDS = 120  # on top of a built website (issue budget); reported, not asserted
PRINT_RESOLUTION_PPI = 150
ONLINE = "https://rnncourse.github.io/rnncourse/"  # from repository.url in _config.yml
BUNDLED_EXERCISES = ["ex02-exploding-gradients", "ex06-language-and-time-series"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def normalised(text: str) -> str:
    """Ligatures (ﬁ) undone and every run of whitespace made one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def squeezed(text: str) -> str:
    """No whitespace at all: URLs and equations broken across lines are whole again."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@dataclass
class PrintedPage:
    text: str
    # (pixel width, printed width in points) of each raster image drawn on the page
    images: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class PdfEdition:
    path: Path
    seconds: float
    pages: list[PrintedPage]
    outline: list[str]
    destinations: dict[str, int]  # element id -> 1-based page


def read_pdf(path: Path) -> tuple[list[PrintedPage], list[str], dict[str, int]]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    pages = []
    for page in reader.pages:
        printed = PrintedPage(text="")
        xobjects = page.get("/Resources", {}).get("/XObject", {})

        def visit(operator, operands, matrix, _text_matrix, printed=printed, xobjects=xobjects):
            if operator == b"Do" and operands and operands[0] in xobjects:
                image = xobjects[operands[0]].get_object()
                if image.get("/Subtype") == "/Image":
                    printed.images.append((int(image["/Width"]),
                                           (matrix[0] ** 2 + matrix[1] ** 2) ** 0.5))

        printed.text = normalised(page.extract_text(visitor_operand_before=visit))
        pages.append(printed)

    def titles(entries: list) -> list[str]:
        flat = []
        for entry in entries:
            flat.extend(titles(entry) if isinstance(entry, list) else [normalised(entry.title)])
        return flat

    destinations = {name.lstrip("/"): reader.get_destination_page_number(destination) + 1
                    for name, destination in reader.named_destinations.items()}
    return pages, titles(reader.outline), destinations


@pytest.fixture(scope="module")
def pdf_edition(built_site: BuiltSite, pytestconfig: pytest.Config) -> PdfEdition:
    """`make.py pdf` on top of the session's book build; its time is reported beside the budget."""
    if not os.environ.get("RNNCOURSE_CHROMIUM"):  # another Chromium named (e.g. on GitHub)
        ensure_chromium()
    output = built_site.build_folder.parent
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, ROOT / "make.py", "pdf", "--path-output", output],
                               cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"make.py pdf failed:\n{log[-6000:]}"
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        verdict = "within" if seconds <= PDF_BUDGET_SECONDS else "OVER"
        print(f"\nthe PDF edition, on top of the built website: {seconds:.0f} s ({verdict} the "
              f"budget of {PDF_BUDGET_SECONDS} s)")
    path = output / "_build" / "pdf" / "rnncourse.pdf"
    return PdfEdition(path, seconds, *read_pdf(path))


def page_titles(site: BuiltSite) -> dict[str, str]:
    """Each page in the table of contents -> its title, as the website shows it."""
    titles = {}
    for page in site.pages():
        document = BeautifulSoup((site.html / f"{page}.html").read_text(), "html.parser")
        heading = document.select_one("article h1")
        titles[page] = normalised(heading.get_text(" ").replace("#", ""))
    return titles


def sheets_of(edition: PdfEdition, site: BuiltSite, page: str) -> range:
    """The (1-based) numbers of the sheets a page of the book was printed on."""
    starts = sorted(edition.destinations[f"document-{name}"] for name in site.pages()
                    if f"document-{name}" in edition.destinations)
    first = edition.destinations[f"document-{page}"]
    following = [start for start in starts if start > first]
    return range(first, following[0] if following else len(edition.pages) + 1)


def chapter_text(edition: PdfEdition, site: BuiltSite, page: str) -> str:
    """The text of the sheets a page of the book was printed on."""
    return " ".join(edition.pages[number - 1].text for number in sheets_of(edition, site, page))


@pytest.mark.slow
def test_title_page_and_contents_give_the_right_pages(pdf_edition: PdfEdition,
                                                      built_site: BuiltSite) -> None:
    title_page = pdf_edition.pages[0].text
    assert "Training recurrent neural networks" in title_page
    assert "Printed edition, rnncourse" in title_page and ONLINE in squeezed(title_page)
    contents = " ".join(sheet.text for sheet in pdf_edition.pages[1:3])
    assert "Contents" in contents
    for page, title in page_titles(built_site).items():
        if page == built_site.pages()[0]:
            continue  # the root page opens the book; the contents list what follows it
        listed = re.search(re.escape(title) + r" (\d+)", contents)
        assert listed, f"the contents do not list {title!r} with a page number:\n{contents}"
        number = int(listed.group(1))
        assert number == pdf_edition.destinations[f"document-{page}"], (
            f"the contents put {title!r} on page {number}")
        assert title in pdf_edition.pages[number - 1].text, (
            f"page {number} does not start {title!r}")


@pytest.mark.slow
def test_every_page_of_the_book_is_printed_and_in_the_outline(pdf_edition: PdfEdition,
                                                              built_site: BuiltSite) -> None:
    outline = {squeezed(title) for title in pdf_edition.outline}  # wrapped titles lose spaces
    for page, title in page_titles(built_site).items():
        assert squeezed(title) in outline, f"{title!r} is not in the PDF's outline"
        assert f"document-{page}" in pdf_edition.destinations or page == built_site.pages()[0]
    text = " ".join(sheet.text for sheet in pdf_edition.pages)
    assert "NotImplementedError" in text, "the exercises (student versions) are printed too"


@pytest.mark.slow
def test_equations_are_typeset(pdf_edition: PdfEdition, built_site: BuiltSite) -> None:
    """MathJax finished before printing: no TeX is left, and chapter 1's recurrence reads as
    mathematics (a_t = W_hh h_{t-1} + W_ih x_t + b)."""
    text = " ".join(sheet.text for sheet in pdf_edition.pages)
    for tex in ("\\frac", "\\sum", "\\begin{", "\\mathbf", "$$", "\\("):
        assert tex not in text, f"untypeset TeX {tex!r} in the PDF"
    chapter = squeezed(chapter_text(pdf_edition, built_site, "book/01-long-term-memory"))
    assert "at=Whhht−1+Wihxt+b" in chapter, "chapter 1's recurrence is not in its pages"


@pytest.mark.slow
def test_figures_are_printed_at_print_resolution(pdf_edition: PdfEdition,
                                                 built_site: BuiltSite) -> None:
    figures = [(page_number, pixels, points) for page_number, sheet
               in enumerate(pdf_edition.pages, start=1) for pixels, points in sheet.images
               if pixels >= 200]  # leaves out icons
    site_figures = {image for page in built_site.pages()
                    for image in re.findall(r'src="[./]*_images/([^"]+\.png)"',
                                            (built_site.html / f"{page}.html").read_text())}
    assert len(figures) >= len(site_figures) > 0, (
        f"{len(figures)} figures printed, the website has {len(site_figures)}")
    low = [(page, round(pixels / (points / 72))) for page, pixels, points in figures
           if pixels / (points / 72) < PRINT_RESOLUTION_PPI]
    assert not low, f"figures below {PRINT_RESOLUTION_PPI} pixels per inch (page, ppi): {low}"
    # Each page of the book with figures has figures on its own sheets.
    for page in built_site.pages()[1:]:
        if "_images/" in (built_site.html / f"{page}.html").read_text():
            sheets = sheets_of(pdf_edition, built_site, page)
            assert any(number in sheets for number, _, _ in figures), f"{page}: no figure"


def widget_cells(html: str) -> int:
    """Code cells of a website page that display a saved widget."""
    document = BeautifulSoup(html, "html.parser")
    return sum(1 for cell in document.select("div.cell")
               if cell.find("script", type=WIDGET_VIEW))


@pytest.mark.slow
def test_widgets_are_printed_as_saved_with_where_to_run_them(pdf_edition: PdfEdition,
                                                             built_site: BuiltSite) -> None:
    with_widgets = {page: widget_cells((built_site.html / f"{page}.html").read_text())
                    for page in built_site.pages()}
    with_widgets = {page: count for page, count in with_widgets.items() if count}
    assert with_widgets, "the book has no widgets"
    for page, count in with_widgets.items():
        text = chapter_text(pdf_edition, built_site, page)
        assert text.count("Interactive widget.") == count, (
            f"{page}: {count} widgets, {text.count('Interactive widget.')} notes")
        assert f"{ONLINE}{page}.html" in squeezed(text), f"{page}: the note names no address"
        assert f"{page}.md" in squeezed(text), f"{page}: the note names no file to run"
        assert any(pixels >= 200 for number in sheets_of(pdf_edition, built_site, page)
                   for pixels, _ in pdf_edition.pages[number - 1].images), f"{page}: no figure"


@pytest.mark.slow
def test_citations_and_the_bibliography_are_printed(pdf_edition: PdfEdition,
                                                    built_site: BuiltSite) -> None:
    chapter = chapter_text(pdf_edition, built_site, "book/02-exploding-gradients")
    assert re.search(r"\[[A-Z][^\]]*\d{4}\]", chapter), "no author-year citation in chapter 2"
    bibliography = normalised(chapter_text(pdf_edition, built_site, "book/bibliography"))
    document = BeautifulSoup((built_site.html / "book/bibliography.html").read_text(),
                             "html.parser")
    entries = [normalised(entry.get_text(" "))
               for entry in document.select("div.citation > p, div.citation dd, dd p")]
    entries = [entry for entry in entries if len(entry) > 20]
    assert len(entries) >= 10, f"the website's bibliography has only {len(entries)} entries"
    printed = squeezed(bibliography)
    missing = [entry[:60] for entry in entries if squeezed(entry[:40]) not in printed]
    assert not missing, f"bibliography entries missing from the PDF: {missing[:5]}"


@pytest.mark.slow
def test_pdf_names_the_book(pdf_edition: PdfEdition) -> None:
    from pypdf import PdfReader

    assert PdfReader(pdf_edition.path).metadata.title.startswith("Training recurrent")
    assert not pdf_edition.path.with_suffix(".pdf.partial").exists()


# --- the class hand-out ------------------------------------------------------------------

def course_copy(folder: Path, ids: list[str]) -> Path:
    """A throwaway course folder: config, package source and the given exercises' sources."""
    import shutil

    root = folder / "course"
    (root / "solutions").mkdir(parents=True)
    for name in ("nbgrader_config.py", "pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, root)
    shutil.copytree(ROOT / "rnncourse", root / "rnncourse",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for exercise_id in ids:
        shutil.copytree(ROOT / "solutions" / exercise_id, root / "solutions" / exercise_id)
    return root


def release_command(*arguments: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnncourse", "release", *map(str, arguments)],
                          capture_output=True, text=True)


@dataclass
class Bundle:
    course: Path
    archive: Path
    unpacked: Path  # the archive's top folder, unpacked


@pytest.fixture(scope="module")
def bundle(pdf_edition: PdfEdition, built_site: BuiltSite,
           tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    folder = tmp_path_factory.mktemp("bundle")
    course = course_copy(folder, BUNDLED_EXERCISES)
    completed = release_command(*BUNDLED_EXERCISES, "--root", course, "--bundle", "--site",
                                built_site.html, "--pdf", pdf_edition.path, "--out",
                                folder / "out")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    archives = list((folder / "out").glob("rnncourse-*.zip"))
    assert len(archives) == 1, archives
    with zipfile.ZipFile(archives[0]) as archive:
        archive.extractall(folder / "unpacked")
    return Bundle(course, archives[0], folder / "unpacked" / archives[0].stem)


@pytest.mark.slow
def test_bundle_checksum_file_matches_the_archive(bundle: Bundle) -> None:
    line = bundle.archive.with_name(bundle.archive.name + ".sha256").read_text()
    digest, name = line.split()
    assert name == bundle.archive.name
    assert digest == hashlib.sha256(bundle.archive.read_bytes()).hexdigest()
    checked = subprocess.run(["sha256sum", "-c", f"{bundle.archive.name}.sha256"],
                             cwd=bundle.archive.parent, capture_output=True, text=True)
    assert checked.returncode == 0 and "OK" in checked.stdout, checked.stdout + checked.stderr


@pytest.mark.slow
def test_bundle_holds_the_site_the_pdf_the_notebooks_and_the_package(
        bundle: Bundle, built_site: BuiltSite, pdf_edition: PdfEdition) -> None:
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert bundle.unpacked.name == f"rnncourse-{version}"
    for page in built_site.pages():
        assert (bundle.unpacked / "site" / f"{page}.html").is_file(), page
    assert (bundle.unpacked / "site" / "index.html").is_file()
    assert (bundle.unpacked / "rnncourse.pdf").read_bytes() == pdf_edition.path.read_bytes()
    for exercise_id in BUNDLED_EXERCISES:
        notebook = bundle.unpacked / "exercises" / exercise_id / f"{exercise_id}.ipynb"
        released = bundle.course / "exercises" / exercise_id / f"{exercise_id}.ipynb"
        assert notebook.read_bytes() == released.read_bytes(), exercise_id
        check_no_solutions(notebook)
    assert sorted(path.name for path in (bundle.unpacked / "exercises").iterdir()) == (
        BUNDLED_EXERCISES)
    assert [wheel.name for wheel in (bundle.unpacked / "wheels").iterdir()] == [
        f"rnncourse-{version}-py3-none-any.whl"]
    assert (bundle.unpacked / "constraints.txt").read_text() == (
        ROOT / "constraints.txt").read_text()
    assert "pip install -r requirements.txt" in (bundle.unpacked / "README.md").read_text()


SETUP_CELLS = """\
import json, os, sys
import nbformat
for path in sys.argv[1:]:
    notebook = nbformat.read(path, as_version=4)
    cell = next(cell for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    os.chdir(os.path.dirname(os.path.abspath(path)))
    exec(compile(cell.source, path, "exec"), {"__name__": "__main__"})
import rnncourse
print(json.dumps({"rnncourse": rnncourse.__file__, "version": rnncourse.__version__}))
"""


@pytest.mark.slow
def test_an_exercise_opens_with_the_bundled_package(bundle: Bundle, tmp_path: Path) -> None:
    """The bundle's package installs offline into a fresh environment (its dependencies taken
    from this one, as if already installed), and the exercises' set-up cells run with it."""
    environment = tmp_path / "student-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", environment], check=True)
    python = environment / "bin" / "python"
    site_packages = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    # This environment's packages, visible to the fresh one (its own come first on sys.path).
    (site_packages / "course-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-index",
         "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=bundle.unpacked, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    notebooks = [bundle.unpacked / "exercises" / exercise_id / f"{exercise_id}.ipynb"
                 for exercise_id in BUNDLED_EXERCISES]
    for notebook in notebooks:
        assert "rnncourse" in nbformat.read(notebook, as_version=4).cells[1].source
    opened = subprocess.run([python, "-c", SETUP_CELLS, *notebooks], capture_output=True,
                            text=True, cwd=tmp_path, timeout=300)
    assert opened.returncode == 0, opened.stdout[-3000:] + opened.stderr[-3000:]
    loaded = json.loads(opened.stdout.strip().splitlines()[-1])
    assert Path(loaded["rnncourse"]).is_relative_to(site_packages), (
        f"the exercises imported rnncourse from {loaded['rnncourse']}, not the bundled wheel")
    assert "torch" in opened.stdout
    # The bundle is a course folder for the students' commands.
    listed = subprocess.run([environment / "bin" / "rnncourse", "exercises", "list"],
                            cwd=bundle.unpacked, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert all(exercise_id in listed.stdout for exercise_id in BUNDLED_EXERCISES), listed.stdout


def test_bundle_needs_the_built_site_and_pdf_and_regenerates_nothing_without(
        tmp_path: Path) -> None:
    course = course_copy(tmp_path, ["ex01-vanishing-gradients"])
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html></html>")
    missing_site = release_command("--root", course, "--bundle", "--site", tmp_path / "none",
                                   "--pdf", tmp_path / "none.pdf")
    assert missing_site.returncode == 1 and "make.py book" in missing_site.stdout
    missing_pdf = release_command("--root", course, "--bundle", "--site", site,
                                  "--pdf", tmp_path / "none.pdf")
    assert missing_pdf.returncode == 1 and "make.py pdf" in missing_pdf.stdout
    assert not (course / "exercises").exists(), "nothing is released when the bundle cannot be"


def test_a_notebook_with_solutions_is_never_bundled(tmp_path: Path) -> None:
    source = ROOT / "solutions" / "ex01-vanishing-gradients" / "ex01-vanishing-gradients.ipynb"
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        check_no_solutions(source)
    check_no_solutions(ROOT / "exercises" / "ex01-vanishing-gradients" /
                       "ex01-vanishing-gradients.ipynb")
