"""The printed edition: the one-page build of the book, laid out for paper and printed to PDF.

`python3 make.py pdf` builds the book with `jupyter-book build . --builder singlehtml`. That build
reuses the website's execution cache (`_build/.jupyter_cache`), so no page runs again. For that
builder only, this extension

- opens the book with a title page (title, authors, the package version, the date, the address of
  the online edition) and a table of contents with page numbers;
- lays the page out for A4 paper (`static/print-edition.css`): each chapter and exercise starts
  on a new page, code wraps instead of being cut, figures are not split, navigation is hidden;
- adds a note under every widget: in print it shows the state saved when the book was built, and
  the note says where to run it live (the chapter online, launched on Binder, or the chapter's
  file in JupyterLab);
- prints the result with Chromium, Debian's (`/usr/bin/chromium`) unless `RNNCOURSE_CHROMIUM`
  names another (e.g. Google Chrome on GitHub's runners), driven by Playwright, which downloads
  no browser of its own. The page is served from 127.0.0.1 and every other request is refused,
  so the print is offline. Printing waits until MathJax has typeset every equation and every
  saved widget state is drawn, and fails if one is not. It prints twice: the first print tells on
  which page each chapter starts (Chromium keeps every element id as a named destination), the
  second carries those numbers in the contents.

The PDF is written to `_build/pdf/rnncourse.pdf` (beside `_build/singlehtml/`), with an outline
(bookmarks) of every heading. Figures are 2x PNGs (`execution_environment.py`): about 190 pixels
per inch at their own size, more where the page scales them down.
"""

from __future__ import annotations

import datetime
import functools
import html
import http.server
import io
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urlsplit

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

PRINT_BUILDER = "singlehtml"
PDF_NAME = "rnncourse.pdf"
STYLESHEET = "print-edition.css"
CHROMIUM_VARIABLE = "RNNCOURSE_CHROMIUM"
# Chromium on a closed network: no background connections, no sandbox (builds may run as root).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
DOCUMENT_ANCHOR = "document-"  # singlehtml puts <span id="document-DOCNAME"> before each page
LOAD_TIMEOUT_MS = 120_000


# --- the one-page HTML -------------------------------------------------------------------------

def is_print_build(app: Sphinx) -> bool:
    return app.builder.name == PRINT_BUILDER


def online_base_url(app: Sphinx) -> str:
    """The online edition's address: `html.baseurl` in _config.yml, else the GitHub Pages address
    of the repository in _config.yml (https://github.com/OWNER/REPO -> OWNER.github.io/REPO/)."""
    if app.config.html_baseurl:
        return app.config.html_baseurl.rstrip("/") + "/"
    repository = (app.config.html_theme_options or {}).get("repository_url", "")
    parts = urlsplit(repository)
    owner_and_name = [part for part in parts.path.split("/") if part]
    if parts.hostname != "github.com" or len(owner_and_name) != 2:
        raise ExtensionError("the printed edition names the online one: set html.baseurl in "
                             f"_config.yml (the repository {repository!r} is not on GitHub)")
    owner, name = owner_and_name
    return f"https://{owner.lower()}.github.io/{name.removesuffix('.git')}/"


def add_stylesheet(app: Sphinx) -> None:
    if is_print_build(app):
        app.add_css_file(STYLESHEET)


def document_of(node: nodes.Node) -> str | None:
    """The page a node came from, in the one-page doctree: singlehtml marks every section of an
    included page with that page's docname (the root page's sections have none)."""
    while node is not None:
        if isinstance(node, nodes.section) and node.get("docname"):
            return node["docname"]
        node = node.parent
    return None


def widget_note(app: Sphinx, docname: str) -> nodes.container:
    """'Interactive widget ... run it live at <online page>, or open <file> in JupyterLab.'"""
    page = f"{online_base_url(app)}{docname}.html"  # the website's address of that page
    source = Path(app.env.doc2path(docname)).relative_to(app.srcdir).as_posix()
    paragraph = nodes.paragraph()
    paragraph += nodes.strong(text="Interactive widget. ")
    paragraph += nodes.Text("Printed as it was saved when the book was built. To run it live, "
                            "open this chapter online at ")
    paragraph += nodes.reference(page, page, refuri=page)
    paragraph += nodes.Text(" and launch it on Binder (the rocket button), or open ")
    paragraph += nodes.literal(text=source)
    paragraph += nodes.Text(" in JupyterLab (see Set-up in the introduction).")
    return nodes.container("", paragraph, classes=["print-widget-note"])


def add_widget_notes(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Under each code cell that displays a widget, a note on where to run it live."""
    if not is_print_build(app):
        return
    cells = []
    for raw in doctree.findall(nodes.raw):
        if f'type="{WIDGET_VIEW}"' not in raw.astext():
            continue
        cell = raw.parent
        while cell is not None and "cell" not in cell.get("classes", []):
            cell = cell.parent
        if cell is not None and cell not in cells:
            cells.append(cell)
    for cell in cells:
        page = document_of(cell) or docname
        cell.parent.insert(cell.parent.index(cell) + 1, widget_note(app, page))


@dataclass(frozen=True)
class ContentsEntry:
    level: int  # 0: a part's caption, 1: a chapter, 2: its sections (the exercise)
    title: str
    docname: str | None  # None for a caption


def contents_entries(app: Sphinx) -> list[ContentsEntry]:
    """The book's table of contents, in reading order, from the root page's toctrees."""
    env, entries = app.env, []
    for toctree in env.get_doctree(app.config.root_doc).findall(addnodes.toctree):
        if toctree.get("caption"):
            entries.append(ContentsEntry(0, toctree["caption"], None))
        for _, docname in toctree["entries"]:
            entries.append(ContentsEntry(1, env.titles[docname].astext(), docname))
            for section in env.toctree_includes.get(docname, []):
                entries.append(ContentsEntry(2, env.titles[section].astext(), section))
    return entries


def build_date() -> datetime.date:
    """Today, or the date SOURCE_DATE_EPOCH gives (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date()
    return datetime.date.today()


def package_version() -> str:
    try:
        return version("rnncourse")
    except PackageNotFoundError:
        return "(not installed)"


def front_matter(app: Sphinx) -> str:
    """The title page and the contents, as HTML."""
    config = app.config
    url = online_base_url(app)
    title_page = (
        '<section class="print-title-page">'
        f'<p class="print-title">{html.escape(config.html_title)}</p>'
        f'<p class="print-author">{html.escape(config.author)}</p>'
        f'<p class="print-edition">Printed edition, rnncourse {package_version()}, '
        f'{build_date():%d %B %Y}</p>'
        f'<p class="print-online">Online at <a href="{html.escape(url)}">{html.escape(url)}</a>,'
        ' where every chapter and exercise can be launched on Binder to run its code and '
        'widgets</p>'
        f'<p class="print-licence">&copy; {html.escape(config.copyright)}. Code under the MIT '
        'licence; text and figures under CC BY 4.0.</p>'
        '</section>')
    rows = []
    for entry in contents_entries(app):
        if entry.docname is None:
            rows.append(f'<li class="print-part">{html.escape(entry.title)}</li>')
        else:
            rows.append(
                f'<li class="print-level-{entry.level}">'
                f'<a href="#{DOCUMENT_ANCHOR}{html.escape(entry.docname)}">'
                f'{html.escape(entry.title)}</a>'
                f'<span class="print-page-number" data-docname="{html.escape(entry.docname)}">'
                '</span></li>')
    contents = ('<nav class="print-contents"><h1 class="print-contents-title">Contents</h1>'
                f'<ul>{"".join(rows)}</ul></nav>')
    return title_page + contents


def add_widget_states(app: Sphinx) -> None:
    """Every page's saved widget state, and the widget manager's scripts, on the one page.

    myst-nb adds them per page, and singlehtml renders only the root page, so the widgets of the
    other pages would have no state to draw from. The widget manager draws each view from the
    state script that holds its model, so the pages' states can sit side by side.
    """
    from myst_nb.sphinx_ import NbMetadataCollector

    root = app.config.root_doc
    added = set(NbMetadataCollector.get_js_files(app.env, root))
    for docname in sorted(app.env.found_docs - {root}):
        for key, (uri, attributes) in NbMetadataCollector.get_js_files(app.env, docname).items():
            if key == "ipywidgets_state":
                app.add_js_file(uri, **attributes)
            elif key not in added:
                added.add(key)
                app.add_js_file(uri, **attributes)


def add_front_matter(app: Sphinx, pagename: str, templatename: str, context: dict,
                     doctree: nodes.document | None) -> None:
    if is_print_build(app) and pagename == app.config.root_doc and "body" in context:
        context["body"] = front_matter(app) + context["body"]
        add_widget_states(app)


# --- printing ------------------------------------------------------------------------------------

def find_chromium() -> Path:
    """RNNCOURSE_CHROMIUM, else Debian's Chromium, else a Chromium or Chrome on PATH."""
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        if not Path(named).is_file():
            raise ExtensionError(f"{CHROMIUM_VARIABLE}={named}: no such file")
        return Path(named)
    for candidate in ("/usr/bin/chromium", "chromium", "google-chrome", "google-chrome-stable"):
        found = shutil.which(candidate)
        if found:
            return Path(found)
    raise ExtensionError(
        "The PDF edition is printed by Chromium, which was not found. On Debian or Ubuntu: "
        "`apt-get install -y chromium`; or name a Chromium or Chrome binary in "
        f"{CHROMIUM_VARIABLE}.")


@contextmanager
def served(folder: Path, page: str) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1; yield the address of `page`, served as the folder's root
    page (singlehtml links its assets relative to the output folder's root)."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            if urlsplit(path).path == "/print.html":
                return str(folder / page)
            return super().translate_path(path)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's)
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/print.html"
    finally:
        server.shutdown()
        server.server_close()


WAIT_FOR_MATHJAX = """async () => {
    const mathjax = window.MathJax;
    if (mathjax && mathjax.startup && mathjax.startup.promise) { await mathjax.startup.promise; }
}"""
# html-manager puts a .widget-subarea before each saved view's <script> and draws the widget in it.
WIDGETS_DRAWN = f"""() => Array.from(
    document.querySelectorAll('script[type="{WIDGET_VIEW}"]')).every(script => {{
        const area = script.parentElement.querySelector('.widget-subarea');
        return area !== null && area.querySelector('.jupyter-widgets') !== null;
    }})"""
WAIT_FOR_IMAGES = """async () => {
    const images = Array.from(document.images);
    images.forEach(image => { image.loading = 'eager'; });
    await Promise.all(images.map(image => image.complete ? null : new Promise(done => {
        image.addEventListener('load', done); image.addEventListener('error', done);
    })));
    return images.filter(image => !(image.complete && image.naturalWidth > 0))
                 .map(image => image.currentSrc || image.src);
}"""
MATH_PROBLEMS = """() => {
    const math = Array.from(document.querySelectorAll('article .math'));
    return math.filter(element => !element.querySelector('mjx-container')
                                  || element.querySelector('mjx-merror'))
               .map(element => element.textContent.trim().slice(0, 80));
}"""
# Pixels per inch of each figure as printed (a CSS pixel is 1/96 inch).
FIGURE_PPI = """() => Array.from(document.querySelectorAll('article img'))
    .filter(image => image.naturalWidth > 0 && image.getBoundingClientRect().width > 0
                     && !image.currentSrc.endsWith('.svg'))
    .map(image => 96 * image.naturalWidth / image.getBoundingClientRect().width)"""
SET_PAGE_NUMBERS = """(pages) => {
    document.querySelectorAll('.print-page-number').forEach(element => {
        element.textContent = pages[element.dataset.docname] || '';
    });
}"""
FOOTER = ('<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
          '<span class="pageNumber"></span></div>')


@dataclass(frozen=True)
class PrintReport:
    pdf: Path
    pages: int
    seconds: float
    lowest_figure_ppi: float | None


def chapter_pages(pdf: bytes) -> dict[str, int]:
    """docname -> the (1-based) page its `#document-DOCNAME` anchor lands on."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    pages = {}
    for name, destination in reader.named_destinations.items():
        if name.lstrip("/").startswith(DOCUMENT_ANCHOR):
            docname = name.lstrip("/").removeprefix(DOCUMENT_ANCHOR)
            pages[docname] = reader.get_destination_page_number(destination) + 1
    return pages


def print_pdf(folder: Path, page: str, pdf: Path) -> PrintReport:
    """Print `folder/page` (a singlehtml build) to `pdf` with Chromium, offline."""
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    chromium = find_chromium()
    with served(folder, page) as address, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True,
                                             args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(color_scheme="light", service_workers="block")
            context.route("**/*", lambda route: route.continue_()
                          if urlsplit(route.request.url).hostname == "127.0.0.1"
                          else route.abort("internetdisconnected"))
            tab = context.new_page()
            tab.set_default_timeout(LOAD_TIMEOUT_MS)
            tab.goto(address, wait_until="load")
            tab.emulate_media(media="print")
            tab.evaluate(WAIT_FOR_MATHJAX)
            tab.wait_for_function(WIDGETS_DRAWN, polling=500)
            broken = tab.evaluate(WAIT_FOR_IMAGES)
            untypeset = tab.evaluate(MATH_PROBLEMS)
            if broken or untypeset:
                raise ExtensionError(f"not printing: images that did not load {broken[:5]}, "
                                     f"equations not typeset {untypeset[:5]}")
            ppi = tab.evaluate(FIGURE_PPI)
            # The PDF's title (its metadata) is the book's, not the first page's.
            tab.evaluate("() => { const title = document.querySelector('.print-title');"
                         " if (title) { document.title = title.textContent; } }")
            options = dict(format="A4", print_background=True, outline=True, tagged=True,
                           prefer_css_page_size=True, display_header_footer=True,
                           header_template="<span></span>", footer_template=FOOTER)
            first = tab.pdf(**options)
            tab.evaluate(SET_PAGE_NUMBERS, chapter_pages(first))
            printed = tab.pdf(**options)
        finally:
            browser.close()
    # Written whole under another name first: a failed print never leaves half a file.
    pdf.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf.with_suffix(".pdf.partial")
    partial.write_bytes(printed)
    partial.replace(pdf)
    from pypdf import PdfReader

    return PrintReport(pdf=pdf, pages=len(PdfReader(pdf).pages),
                       seconds=time.perf_counter() - started,
                       lowest_figure_ppi=min(ppi) if ppi else None)


def print_after_build(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or not is_print_build(app):
        return
    outdir = Path(app.outdir)
    report = print_pdf(outdir, f"{app.config.root_doc}.html", outdir.parent / "pdf" / PDF_NAME)
    ppi = (f"; figures at {report.lowest_figure_ppi:.0f} pixels per inch or more"
           if report.lowest_figure_ppi else "")
    logger.info(f"printed the book to {report.pdf}: {report.pages} pages in "
                f"{report.seconds:.0f} s{ppi}")


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", add_stylesheet)
    app.connect("doctree-resolved", add_widget_notes)
    app.connect("html-page-context", add_front_matter)
    app.connect("build-finished", print_after_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
