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
- prints the result with Chromium, offline (`print_to_pdf.py`), once MathJax has typeset every
  equation and every saved widget state is drawn.

The PDF is written to `_build/pdf/rnncourse.pdf` (beside `_build/singlehtml/`), with an outline
(bookmarks) of every heading. Figures are 2x PNGs (`execution_environment.py`): about 190 pixels
per inch at their own size, more where the page scales them down.
"""

from __future__ import annotations

import datetime
import html
import os
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urlsplit

from docutils import nodes
from print_to_pdf import DOCUMENT_ANCHOR, WIDGET_VIEW, print_pdf
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

PRINT_BUILDER = "singlehtml"
PDF_NAME = "rnncourse.pdf"
STYLESHEET = "print-edition.css"


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
