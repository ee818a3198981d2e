"""Print a one-page HTML build to PDF with Chromium, offline (for print_edition.py).

Chromium is Debian's (`/usr/bin/chromium`) unless `RNNCOURSE_CHROMIUM` names another (e.g. Google
Chrome on GitHub's runners); Playwright drives it and downloads no browser of its own. The page is
served from 127.0.0.1 and every other request is refused. Printing waits until MathJax has typeset
every equation and every saved widget state is drawn, and fails if an equation or an image is
broken. It prints twice: Chromium keeps every element id as a named destination, so the first
print tells on which page each part of the book starts, and the second carries those page
numbers in the contents.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sphinx.errors import ExtensionError

CHROMIUM_VARIABLE = "RNNCOURSE_CHROMIUM"
# Chromium on a closed network: no background connections, no sandbox (builds may run as root).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
DOCUMENT_ANCHOR = "document-"  # singlehtml puts <span id="document-DOCNAME"> before each page
LOAD_TIMEOUT_MS = 120_000


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
