"""Fixtures of the site tests: the course's book and the fixture site, each built once per
session into a fresh folder (every page executed, no cache), and a headless browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from website import (
    CHROMIUM_FLAGS,
    FIXTURE_JUPYTERHUB,
    ROOT,
    BuiltSite,
    build_once,
    ensure_chromium,
    toc_files,
    write_fixture_site,
)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
               ) -> BuiltSite:
    """Build the course's book once into a fresh folder (every page executed, no cache)."""
    return build_once("book", ROOT, tmp_path_factory.mktemp("book"), pytestconfig)


@pytest.fixture(scope="session")
def toc_pages() -> list[str]:
    """Every page named in the course's _toc.yml (root included), without a suffix."""
    return toc_files(ROOT)


@pytest.fixture(scope="session")
def built_book(built_site: BuiltSite) -> Path:
    """Build the book once into a fresh folder; return its html folder."""
    return built_site.html


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
                 ) -> BuiltSite:
    """The fixture site, built once (its widget page executed), with a JupyterHub configured."""
    source = write_fixture_site(tmp_path_factory.mktemp("fixture-site-source"))
    return build_once("fixture", source, tmp_path_factory.mktemp("fixture-site"),
                      pytestconfig,
                      environment={"RNNCOURSE_JUPYTERHUB_URL": FIXTURE_JUPYTERHUB})


@pytest.fixture(scope="session", params=["book", "fixture"])
def site(request: pytest.FixtureRequest) -> BuiltSite:
    """Each built website in turn: the course's book, then the fixture site."""
    return request.getfixturevalue({"book": "built_site", "fixture": "fixture_site"}
                                   [request.param])


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium (Debian's), driven by Playwright, for the whole test session."""
    chromium = ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True,
                                             args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
