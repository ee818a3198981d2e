"""The built website in a real browser, with no network: headless Chromium driven by Playwright.

Every page of the course's book and of the fixture site (website.py) is served from 127.0.0.1
and opened with every other request blocked (and counted as a failure). Each page must load with
no console error, every image must load, equations must be typeset by MathJax, saved widget
states must render; search must find "LSTM", and the navigation must reach every page in
_toc.yml. A screenshot of each page is saved in `_build/screenshots/`.

Chromium is Debian's (`/usr/bin/chromium`); Playwright is told where it is and downloads no
browser. When it is missing, the tests install it with apt-get if they run as root (as CI does),
and skip otherwise.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from website import BuiltSite

pytestmark = pytest.mark.slow

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PAGE_TIMEOUT_MS = 30_000


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        pass


@pytest.fixture(scope="session")
def served_site(site: BuiltSite) -> Iterator[tuple[BuiltSite, str]]:
    """The site served over HTTP on 127.0.0.1; yields it with its base URL."""
    handler = functools.partial(QuietHandler, directory=str(site.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in LOCAL_HOSTS


@dataclass
class Visit:
    """What one page did in the browser."""

    status: int = 0
    console_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    widgets: list[dict] = field(default_factory=list)
    screenshot: Path | None = None


WAIT_FOR_MATHJAX = """async () => {
    const mathjax = window.MathJax;
    if (mathjax && mathjax.startup && mathjax.startup.promise) { await mathjax.startup.promise; }
}"""
# Widgets render asynchronously after the page loads: html-manager puts a .widget-subarea before
# each saved view's <script> and draws the widget in it.
WIDGETS_RENDERED = f"""() => Array.from(
    document.querySelectorAll('script[type="{WIDGET_VIEW}"]')).every(script => {{
        const area = script.parentElement.querySelector('.widget-subarea');
        return area !== null && area.querySelector('.jupyter-widgets') !== null;
    }})"""
WIDGET_STATE = f"""() => Array.from(
    document.querySelectorAll('script[type="{WIDGET_VIEW}"]')).map(script => {{
        const area = script.parentElement.querySelector('.widget-subarea');
        const box = area ? area.getBoundingClientRect() : {{height: 0}};
        return {{rendered: area !== null && area.querySelector('.jupyter-widgets') !== null
                           && box.height > 0,
                 controls: area ? area.querySelectorAll('.widget-slider, .widget-dropdown, '
                     + '.widget-checkbox, .widget-toggle-buttons, input, select').length : 0,
                 images: area ? area.querySelectorAll('img').length : 0}};
    }})"""
BROKEN_IMAGES = """async () => {
    const images = Array.from(document.images);
    images.forEach(image => { image.loading = 'eager'; });
    await Promise.all(images.map(image => image.complete ? null : new Promise(done => {
        image.addEventListener('load', done); image.addEventListener('error', done);
        setTimeout(done, 10000);
    })));
    return images.filter(image => !(image.complete && image.naturalWidth > 0))
                 .map(image => image.currentSrc || image.src);
}"""
# Equations: every .math element holds MathJax output, no TeX error, and no TeX left in the prose
# (display $$ or an inline $...\\command...$ that the Markdown parser did not turn into math).
MATH_STATE = r"""() => {
    const math = Array.from(document.querySelectorAll('.math'));
    const article = document.querySelector('article.bd-article');
    let raw = [];
    if (article) {
        const prose = article.cloneNode(true);
        prose.querySelectorAll('pre, code, script, style, mjx-container, .highlight')
             .forEach(element => element.remove());
        raw = prose.textContent.match(/\$\$[\s\S]{0,60}|\$[^$\n]*\\[a-zA-Z]+[^$\n]*\$/g) || [];
    }
    return {
        elements: math.length,
        typeset: document.querySelectorAll('mjx-container').length,
        untypeset: math.filter(element => !element.querySelector('mjx-container'))
                       .map(element => element.textContent.trim().slice(0, 80)),
        errors: Array.from(document.querySelectorAll('mjx-merror'))
                    .map(element => element.textContent.slice(0, 80)),
        raw: raw,
    };
}"""


def screenshot_name(relative: str) -> str:
    return relative.removesuffix(".html").replace("/", "__") + ".png"


@pytest.fixture(scope="session")
def visits(served_site: tuple[BuiltSite, str], browser, pytestconfig: pytest.Config
           ) -> dict[str, Visit]:
    """Open every page of the site once, offline; record what happened, save a screenshot."""
    site, base = served_site
    screenshots = site.build_folder / "screenshots"
    screenshots.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  service_workers="block")
    current: list[Visit] = []

    def route(route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            current[-1].blocked_requests.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", route)
    results: dict[str, Visit] = {}
    for path in site.html_files():
        relative = path.relative_to(site.html).as_posix()
        visit = Visit()
        current.append(visit)
        page = context.new_page()
        page.on("console", lambda message, visit=visit: visit.console_errors.append(
            message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error, visit=visit: visit.console_errors.append(
            f"uncaught {error}"))
        page.on("requestfailed", lambda request, visit=visit: visit.failed_requests.append(
            f"{request.url} ({request.failure})") if is_local(request.url) else None)
        page.on("response", lambda response, visit=visit: visit.failed_requests.append(
            f"{response.url} (HTTP {response.status})") if response.status >= 400 else None)
        response = page.goto(urljoin(base, relative), wait_until="load", timeout=PAGE_TIMEOUT_MS)
        visit.status = response.status if response else 0
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
        page.evaluate(WAIT_FOR_MATHJAX)
        if page.locator(f'script[type="{WIDGET_VIEW}"]').count():
            try:
                page.wait_for_function(WIDGETS_RENDERED, timeout=PAGE_TIMEOUT_MS)
            except Exception:  # recorded below as widgets that did not render
                pass
        visit.broken_images = page.evaluate(BROKEN_IMAGES)
        visit.math = page.evaluate(MATH_STATE)
        visit.widgets = page.evaluate(WIDGET_STATE)
        visit.screenshot = screenshots / screenshot_name(relative)
        page.screenshot(path=str(visit.screenshot), full_page=True)
        page.close()
        results[relative] = visit
    context.close()
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nthe {site.label} site: {len(results)} screenshots in {screenshots}")
    return results


def report(visits: dict[str, Visit], attribute: str) -> str:
    return "\n".join(f"{page}: {getattr(visit, attribute)}" for page, visit in visits.items()
                     if getattr(visit, attribute))


def test_every_page_loads_without_errors(visits: dict[str, Visit]) -> None:
    assert all(visit.status == 200 for visit in visits.values()), {
        page: visit.status for page, visit in visits.items() if visit.status != 200}
    assert not report(visits, "failed_requests"), "failed requests:\n" + report(
        visits, "failed_requests")
    assert not report(visits, "console_errors"), "console errors:\n" + report(
        visits, "console_errors")


def test_no_page_reaches_the_network(visits: dict[str, Visit]) -> None:
    assert not report(visits, "blocked_requests"), (
        "requests outside the site (blocked):\n" + report(visits, "blocked_requests"))


def test_every_image_loads(visits: dict[str, Visit]) -> None:
    assert not report(visits, "broken_images"), "images that did not load:\n" + report(
        visits, "broken_images")


def test_equations_are_typeset(served_site: tuple[BuiltSite, str],
                               visits: dict[str, Visit]) -> None:
    problems = {page: visit.math for page, visit in visits.items()
                if visit.math["untypeset"] or visit.math["errors"] or visit.math["raw"]
                or visit.math["typeset"] < visit.math["elements"]}
    assert not problems, problems
    site, _ = served_site
    if site.label == "fixture":
        assert visits["demo/widgets.html"].math["typeset"] >= 2


def test_saved_widget_states_render(served_site: tuple[BuiltSite, str],
                                    visits: dict[str, Visit]) -> None:
    problems = {page: visit.widgets for page, visit in visits.items()
                if not all(widget["rendered"] for widget in visit.widgets)}
    assert not problems, f"widgets that did not render: {problems}"
    site, _ = served_site
    if site.label == "fixture":  # the interactive figure: a slider above its saved plot
        (widget,) = visits["demo/widgets.html"].widgets
        assert widget["controls"] >= 1 and widget["images"] >= 1, widget


def test_a_screenshot_of_every_page(visits: dict[str, Visit]) -> None:
    for page, visit in visits.items():
        assert visit.screenshot is not None and visit.screenshot.stat().st_size > 1000, page


def test_search_finds_lstm(served_site: tuple[BuiltSite, str], browser) -> None:
    _, base = served_site
    context = browser.new_context()
    context.route("**/*", lambda route: route.continue_() if is_local(route.request.url)
                  else route.abort("internetdisconnected"))
    page = context.new_page()
    page.goto(urljoin(base, "search.html?q=LSTM"), wait_until="load")
    page.wait_for_selector("#search-results ul.search li", timeout=PAGE_TIMEOUT_MS)
    results = page.eval_on_selector_all("#search-results ul.search li a",
                                        "links => links.map(link => link.href)")
    context.close()
    assert results and all(result.startswith(base) for result in results), results


def test_navigation_reaches_every_page(served_site: tuple[BuiltSite, str], browser) -> None:
    """The sidebar links every page in _toc.yml, and the "next" buttons walk through all of
    them in order, starting from the site's front page."""
    site, base = served_site
    expected = [f"{page}.html" for page in site.pages()]
    context = browser.new_context()
    context.route("**/*", lambda route: route.continue_() if is_local(route.request.url)
                  else route.abort("internetdisconnected"))
    page = context.new_page()
    page.goto(base, wait_until="load")
    page.wait_for_url(urljoin(base, expected[0]), timeout=PAGE_TIMEOUT_MS)  # index redirects

    def site_path(url: str) -> str:
        return url.removeprefix(base).split("#")[0]

    sidebar = {site_path(url) for url in page.eval_on_selector_all(
        "nav.bd-docs-nav a.reference.internal", "links => links.map(link => link.href)")}
    missing = set(expected) - sidebar - {expected[0]}
    assert not missing, f"pages missing from the sidebar: {missing}"

    walked = [site_path(page.url)]
    while page.locator("a.right-next").count() and len(walked) <= len(expected):
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("load")
        walked.append(site_path(page.url))
    context.close()
    assert walked == expected, f"the next buttons walk {walked}, _toc.yml lists {expected}"
