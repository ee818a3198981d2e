"""The website builds from a clean state, executing every page, with no error or warning; a
rebuild takes executed outputs from the cache. Build times are reported beside their budgets
(on a plain 2-core AVX2 CPU: a clean build in 8 minutes, its execution in 6, each chapter in 60 s,
an unchanged rebuild in 30 s), not asserted: shared machines are too noisy for timed tests.

The build runs once per test session into a temporary folder (so nothing is served from a
cache or from stored outputs) and prints each page's execution time (fixtures in website.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from website import (
    ROOT,
    BuiltSite,
    build_site,
    execution_report,
    execution_rows,
    write_fixture_site,
)

# On a plain 2-core AVX2 CPU: a clean build (every page executed), the execution of all pages,
# of one page, and a rebuild with nothing changed.
CLEAN_BUILD_BUDGET_SECONDS = 480
EXECUTION_BUDGET_SECONDS = 360
PAGE_BUDGET_SECONDS = 60
UNCHANGED_REBUILD_BUDGET_SECONDS = 30


@pytest.mark.slow
def test_book_builds_every_page(built_book: Path, toc_pages: list[str]) -> None:
    for page in toc_pages:
        assert (built_book / f"{page}.html").is_file(), f"{page} was not built"


@pytest.mark.slow
def test_every_page_in_the_toc_exists(toc_pages: list[str]) -> None:
    for page in toc_pages:
        matches = list(ROOT.glob(f"{page}.*"))
        assert matches, f"_toc.yml names {page}, which does not exist"


@pytest.mark.slow
def test_released_exercises_are_shown_but_not_executed(built_book: Path,
                                                       toc_pages: list[str]) -> None:
    for page in toc_pages:
        if page.startswith("exercises/"):
            html = (built_book / f"{page}.html").read_text()
            assert "NotImplementedError" in html, f"{page} should show the student version"
            assert 'class="cell_output' not in html, (
                f"{page} was executed, but released exercises must not be")


def report_time(config: pytest.Config, what: str, seconds: float, budget: float) -> None:
    """Print a measured build time beside its budget, past pytest's output capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        verdict = "within" if seconds <= budget else "OVER"
        print(f"\n{what}: {seconds:.0f} s ({verdict} the budget of {budget:.0f} s)")


@pytest.mark.slow
def test_clean_build_time_is_reported(built_site: BuiltSite, pytestconfig: pytest.Config) -> None:
    assert built_site.seconds > 0
    report_time(pytestconfig, "clean build of the book, every page executed", built_site.seconds,
                CLEAN_BUILD_BUDGET_SECONDS)


@pytest.mark.slow
def test_execution_times_are_reported(built_site: BuiltSite, pytestconfig: pytest.Config) -> None:
    """Each executed page's wall time beside the page budget (its kernel's CPU time beside it,
    which a busy machine disturbs less), and the whole book's beside the execution budget."""
    rows = {page: row for page, row in execution_rows(execution_report(built_site.log)).items()
            if row.source == "executed" and row.wall is not None}
    assert rows, built_site.log[-3000:]
    for page, row in rows.items():
        cpu = "n/a" if row.cpu is None else f"{row.cpu:.0f} s"
        report_time(pytestconfig, f"{page} (kernel CPU {cpu})", row.wall, PAGE_BUDGET_SECONDS)
    report_time(pytestconfig, "execution of every page", sum(row.wall for row in rows.values()),
                EXECUTION_BUDGET_SECONDS)


def report_rows(report: str) -> dict[str, tuple[str, str]]:
    """{page: (where its outputs came from, status)} from a build's execution report."""
    return {page: (row.source, row.status) for page, row in execution_rows(report).items()}


def executed_pages(report: str) -> list[str]:
    """Pages the execution report says ran in that build."""
    return [page for page, (source, _) in report_rows(report).items() if source == "executed"]


@pytest.mark.slow
def test_every_executed_page_reports_its_time(site: BuiltSite) -> None:
    """Each page executed in a clean build has a row with its wall time and its kernel's CPU
    time (book/_ext/execution_times.py)."""
    report = execution_report(site.log)
    for page in site.pages():
        source = next(site.source.glob(f"{page}.*"))
        if source.suffix == ".md" and "kernelspec:" in source.read_text():
            assert report_rows(report).get(page) == ("executed", "ok"), (
                f"{page} should have executed in a clean build:\n{report}")
            row = execution_rows(report)[page]
            assert row.wall is not None and row.cpu is not None and row.cpu > 0, report


@pytest.mark.slow
def test_rebuild_takes_outputs_from_the_cache(site: BuiltSite, tmp_path: Path,
                                              pytestconfig: pytest.Config) -> None:
    """Rebuilding a copy of the build: with nothing changed it is quick and executes nothing;
    with Sphinx's own state deleted, every page is read again but no code runs (cache hits)."""
    shutil.copytree(site.build_folder, tmp_path / "_build", symlinks=True)

    completed, seconds = build_site(site.source, tmp_path)
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-4000:]
    report_time(pytestconfig, "rebuild of the test site with nothing changed", seconds,
                UNCHANGED_REBUILD_BUDGET_SECONDS)
    # "unchanged" (not read again), or "cached" where a page's file was touched meanwhile.
    for page in executed_pages(execution_report(site.log)):
        assert report_rows(execution_report(log)).get(page) in (
            ("unchanged", "ok"), ("cached", "ok")), log[-3000:]

    shutil.rmtree(tmp_path / "_build" / ".doctrees")
    completed, seconds = build_site(site.source, tmp_path)
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-4000:]
    report = execution_report(log)
    assert executed_pages(report) == [], f"pages ran again despite the cache:\n{report}"
    for page in executed_pages(execution_report(site.log)):
        assert report_rows(report).get(page) == ("cached", "ok"), report
        # The cached outputs keep everything the first build rendered, widget states included.
        first = (site.html / f"{page}.html").read_text()
        again = (tmp_path / "_build" / "html" / f"{page}.html").read_text()
        for mark in ("application/vnd.jupyter.widget-state+json", 'class="cell_output'):
            assert (mark in first) == (mark in again), f"{page}: {mark} differs from the cache"


ONE_PAGE = """\
# A chapter on its own

Backpropagation through time {cite}`werbos1990backpropagation`.

```{bibliography}
:filter: docname in docnames
```
"""


@pytest.mark.slow
def test_one_page_builds_with_its_citations(tmp_path: Path) -> None:
    """An author can build one page alone (`jupyter-book build book/NN.md`): the bibliography,
    named in _config.yml relative to the repository root, is found from `book/` too."""
    page = write_fixture_site(tmp_path / "source") / "book" / "one-page.md"
    page.write_text(ONE_PAGE)
    completed, _ = build_site(page, tmp_path / "output")
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-4000:]
    html = (tmp_path / "output" / "_build" / "_page" / "one-page" / "html" / "one-page.html")
    assert "cite-1-werbos1990backpropagation" in html.read_text(), log[-4000:]
