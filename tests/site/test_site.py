"""Checks of the built website's HTML: it needs no network, its citations resolve, notebook pages
offer launch buttons and an .ipynb download, and its content is accessible (alt text or captions,
headings in order, plot colours with contrast).

Each check runs on the course's book and on a small fixture site with a widget (website.py,
conftest.py).
"""

from __future__ import annotations

import io
import json
import re
import sys
import tarfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup, Tag
from website import FIXTURE_JUPYTERHUB, ROOT, BuiltSite

VENDOR = "_static/vendor/"
MATHJAX = VENDOR + "mathjax/tex-mml-chtml.js"
REQUIREJS = VENDOR + "requirejs/require.js"
WIDGET_MANAGER = VENDOR + "html-manager/embed-amd.js"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def soup(page: Path) -> BeautifulSoup:
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def article(document: BeautifulSoup) -> Tag:
    """The page's own content, without the theme's navigation and buttons."""
    content = document.select_one("article.bd-article")
    assert content is not None, "no <article class='bd-article'> in the page"
    return content


def source_of(site: BuiltSite, page: str) -> Path:
    return next(path for path in site.source.glob(f"{page}.*") if path.suffix in (".md", ".ipynb"))


def is_notebook(source: Path) -> bool:
    """An .ipynb, or a MyST Markdown notebook (front matter with a kernelspec)."""
    if source.suffix == ".ipynb":
        return True
    text = source.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    front_matter = yaml.safe_load(text.split("---", 2)[1]) or {}
    return "kernelspec" in front_matter


def is_remote(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) and parts.hostname not in ("localhost", "127.0.0.1")


def resolve(page: Path, url: str) -> Path:
    """The file a relative link on `page` points to."""
    return (page.parent / unquote(urlsplit(url).path)).resolve()


# --- works offline -------------------------------------------------------------------------

@pytest.mark.slow
def test_no_page_loads_anything_from_the_network(site: BuiltSite) -> None:
    problems = []
    for page in site.html_files():
        document = soup(page)
        assets = ([("script", tag.get("src")) for tag in document.find_all("script", src=True)]
                  + [("link", tag.get("href")) for tag in document.find_all("link", href=True)
                     if {"stylesheet", "preload", "modulepreload", "icon"}
                     & set(tag.get("rel", []))]
                  + [(tag.name, tag.get("src")) for tag in document.find_all(
                      ["img", "iframe", "audio", "video", "source"], src=True)])
        problems += [f"{page.relative_to(site.html)}: <{kind}> {url}" for kind, url in assets
                     if is_remote(url) or url.startswith("//")]
        for _, url in assets:
            if url and not is_remote(url) and not url.startswith("data:"):
                if not resolve(page, url).is_file():
                    problems.append(f"{page.relative_to(site.html)}: missing {url}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_vendored_scripts_are_in_the_site(site: BuiltSite) -> None:
    for asset in (MATHJAX, REQUIREJS, WIDGET_MANAGER):
        assert (site.html / asset).is_file(), f"{asset} is missing from the built site"
    # MathJax loads its fonts and TeX extensions from beside itself.
    fonts = site.html / VENDOR / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), "MathJax's fonts are missing"


def scripts_from_root(site: BuiltSite, page: Path, document: BeautifulSoup) -> list[str]:
    return [resolve(page, tag["src"]).relative_to(site.html.resolve()).as_posix()
            for tag in document.find_all("script", src=True) if not is_remote(tag["src"])]


@pytest.mark.slow
def test_math_and_widgets_use_the_vendored_scripts(site: BuiltSite) -> None:
    pages_with_math = pages_with_widgets = 0
    for page in site.html_files():
        document = soup(page)
        scripts = scripts_from_root(site, page, document)
        name = page.relative_to(site.html)
        if document.select(".math"):
            pages_with_math += 1
            assert MATHJAX in scripts, f"{name} has equations but does not load {MATHJAX}"
        if document.find("script", type=WIDGET_VIEW):
            pages_with_widgets += 1
            assert document.find("script", type=WIDGET_STATE), f"{name}: no saved widget state"
            assert REQUIREJS in scripts and WIDGET_MANAGER in scripts, (
                f"{name} has widgets but does not load {REQUIREJS} and {WIDGET_MANAGER}")
            assert scripts.index(REQUIREJS) < scripts.index(WIDGET_MANAGER)
    if site.label == "fixture":
        assert pages_with_math and pages_with_widgets, "the fixture site lost its math or widget"


def test_vendored_packages_are_unpacked_as_pinned(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The build extension keeps the listed files, below the stripped folder, and checks the
    tarball against its pinned sha512 (an npm tarball is built here, nothing is downloaded)."""
    monkeypatch.syspath_prepend(str(ROOT / "book" / "_ext"))
    import offline_assets

    tarball = tmp_path / "demo-1.0.0.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        for name, content in {"package/es5/tex.js": b"tex", "package/es5/output/font.woff": b"f",
                              "package/es5/unused.js": b"no", "package/LICENSE": b"MIT"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    package = offline_assets.VendoredPackage(
        spec="demo@1.0.0", integrity=offline_assets.tarball_integrity(tarball), folder="demo",
        strip="es5", keep=("es5/tex.js", "es5/output", "LICENSE"))
    offline_assets.unpack(package, tarball, tmp_path / "vendor")
    unpacked = sorted(path.relative_to(tmp_path / "vendor").as_posix()
                      for path in (tmp_path / "vendor").rglob("*") if path.is_file())
    assert unpacked == ["demo/LICENSE", "demo/output/font.woff", "demo/tex.js"]
    assert package.integrity.startswith("sha512-")
    pins = {pin.spec: pin.integrity for pin in offline_assets.PACKAGES}
    assert all(integrity.startswith("sha512-") for integrity in pins.values())
    assert all("@" in spec.lstrip("@") for spec in pins), f"unpinned: {pins}"
    sys.modules.pop("offline_assets", None)


# --- citations -----------------------------------------------------------------------------

CITATION_ID = re.compile(r"^cite-\d+-(?P<key>.+)$")  # bibtex_cite_id in _config.yml


def bibliography_pages(site: BuiltSite) -> list[str]:
    """Pages with a bibliography of everything cited (a `bibliography` directive, no filter)."""
    pages = []
    for page in site.pages():
        text = source_of(site, page).read_text(encoding="utf-8")
        for block in re.findall(r"```\{bibliography\}(.*?)```", text, flags=re.S):
            if ":filter:" not in block:
                pages.append(page)
    return pages


@pytest.mark.slow
def test_citations_resolve_and_the_bibliography_lists_them(site: BuiltSite) -> None:
    cited: dict[str, str] = {}
    for page in site.pages():
        path = site.html / f"{page}.html"
        content = article(soup(path))
        text = content.get_text(" ")
        assert "{cite" not in text, f"{page} shows a raw {{cite}} role"
        for link in content.find_all("a", href=re.compile(r"#cite-")):
            target, _, anchor = link["href"].partition("#")
            target_page = resolve(path, target) if target else path
            assert target_page.is_file(), f"{page}: citation link to missing {target}"
            assert soup(target_page).find(id=anchor), f"{page}: citation {anchor} has no entry"
            cited[CITATION_ID.match(anchor)["key"]] = page
    bibliographies = bibliography_pages(site)
    assert len(bibliographies) == 1, f"expected one bibliography page, found {bibliographies}"
    listed = {CITATION_ID.match(entry["id"])["key"] for entry in
              soup(site.html / f"{bibliographies[0]}.html").find_all(id=CITATION_ID)}
    missing = {key: page for key, page in cited.items() if key not in listed}
    assert not missing, f"cited but not in {bibliographies[0]}: {missing}"
    if site.label == "fixture":
        assert cited, "the fixture site's citation did not render as a link"


# --- launch buttons and downloads ----------------------------------------------------------

def header_links(document: BeautifulSoup, group: str) -> dict[str, str]:
    """{button text: href} of one of the theme's header button groups."""
    return {link.get_text(strip=True): link["href"]
            for link in document.select(f".dropdown-{group} a[href]")}


@pytest.mark.slow
def test_every_page_links_the_repository_and_its_issues(site: BuiltSite) -> None:
    for page in site.pages():
        document = soup(site.html / f"{page}.html")
        titles = {link.get("title") for link in document.select("a.btn")}
        assert {"Source repository", "Open an issue"} <= titles, f"{page}: buttons {titles}"


@pytest.mark.slow
def test_notebook_pages_can_be_launched_and_downloaded(site: BuiltSite) -> None:
    notebooks = 0
    for page in site.pages():
        source = source_of(site, page)
        path = site.html / f"{page}.html"
        document = soup(path)
        launch = header_links(document, "launch-buttons")
        if not is_notebook(source):
            assert not launch, f"{page} is not a notebook but has launch buttons {launch}"
            continue
        notebooks += 1
        assert "mybinder.org" in launch.get("Binder", ""), f"{page}: launch buttons {launch}"
        # The file from the repository, in JupyterLab: what tests/site/test_binder.py opens.
        opens = f"?urlpath=lab/tree/{page}{source.suffix}"
        assert launch["Binder"].endswith(opens), f"{page}: Binder opens {launch['Binder']}"
        # Colab opens only .ipynb files from GitHub.
        assert ("Colab" in launch) == (source.suffix == ".ipynb"), f"{page}: {launch}"
        if site.label == "fixture":
            assert launch.get("JupyterHub", "").startswith(FIXTURE_JUPYTERHUB), launch
        downloads = header_links(document, "download-buttons")
        assert ".ipynb" in downloads, f"{page}: no .ipynb download among {downloads}"
        notebook = json.loads(resolve(path, downloads[".ipynb"]).read_text(encoding="utf-8"))
        assert notebook["nbformat"] == 4 and notebook["cells"], f"{page}: empty .ipynb"
    if site.label == "fixture":
        assert notebooks, "the fixture site has no notebook page"


# --- accessibility -------------------------------------------------------------------------

FILE_NAME = re.compile(r"^\S+\.(png|jpe?g|gif|svg|webp)$", re.I)


@pytest.mark.slow
def test_every_image_has_alt_text_or_a_caption(site: BuiltSite) -> None:
    problems = []
    for page in site.pages():
        for image in article(soup(site.html / f"{page}.html")).find_all("img"):
            alt = (image.get("alt") or "").strip()
            figure = image.find_parent("figure")
            caption = figure.find("figcaption") if figure else None
            has_caption = caption is not None and caption.get_text(strip=True)
            # Sphinx writes the file name as alt text when none is given: that is none.
            if (not alt or FILE_NAME.match(alt)) and not has_caption:
                problems.append(f"{page}: {image.get('src')} has no alt text and no caption")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_headings_are_in_order(site: BuiltSite) -> None:
    problems = []
    for page in site.pages():
        levels = [int(heading.name[1]) for heading in
                  article(soup(site.html / f"{page}.html")).find_all(re.compile(r"^h[1-6]$"))]
        if not levels or levels[0] != 1 or levels.count(1) != 1:
            problems.append(f"{page}: needs exactly one h1, first; has {levels}")
        for before, after in zip(levels, levels[1:], strict=False):
            if after > before + 1:
                problems.append(f"{page}: h{before} is followed by h{after}")
    assert not problems, "\n".join(problems)


def contrast_on_white(colour: str) -> float:
    """WCAG contrast ratio (L_white + 0.05) / (L + 0.05) of an #RRGGBB colour on white."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_plots_default_to_the_course_palette() -> None:
    import matplotlib as mpl

    from rnncourse.chapters.plotting import LINESTYLES, PALETTE, use_course_style

    mpl.rcdefaults()
    use_course_style()
    cycle = mpl.rcParams["axes.prop_cycle"].by_key()
    assert cycle["color"] == PALETTE
    # The first four curves contrast with white at least 3:1 (WCAG, graphical objects), and
    # differ in line style too, so they stay apart in greyscale.
    assert all(contrast_on_white(colour) >= 3.0 for colour in PALETTE[:4])
    assert cycle["linestyle"][:4] == LINESTYLES[:4] and len(set(LINESTYLES[:4])) == 4
