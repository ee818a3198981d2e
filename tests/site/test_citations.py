"""The bibliography and the pages agree, read from the sources (fast; the built site's links are
checked in test_site.py): every entry of book/references.bib is cited on some page, every cited
key has an entry, and no key is defined twice."""

from __future__ import annotations

import re
from collections import Counter

from website import ROOT

BIBLIOGRAPHY = ROOT / "book" / "references.bib"
ENTRY_KEY = re.compile(r"^@\w+\s*\{\s*([^,\s]+)\s*,", re.M)
# {cite}`a,b`, {cite:p}`a`, {cite:t}`b`, {cite:ps}`c; d` ...
CITATION = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def bibliography_keys() -> list[str]:
    return ENTRY_KEY.findall(BIBLIOGRAPHY.read_text(encoding="utf-8"))


def cited_keys() -> dict[str, str]:
    """{key: the first page that cites it}, over the book's pages and the exercises it shows."""
    sources = sorted((ROOT / "book").rglob("*.md")) + sorted((ROOT / "exercises").rglob("*.ipynb"))
    cited: dict[str, str] = {}
    for source in sources:
        if "_build" in source.parts:
            continue
        for keys in CITATION.findall(source.read_text(encoding="utf-8")):
            for key in re.split(r"[,;]", keys):
                cited.setdefault(key.strip(), str(source.relative_to(ROOT)))
    return cited


def test_every_bibliography_entry_is_cited() -> None:
    uncited = sorted(set(bibliography_keys()) - set(cited_keys()))
    assert not uncited, f"entries in book/references.bib that no page cites: {uncited}"


def test_every_citation_has_an_entry() -> None:
    missing = {key: page for key, page in cited_keys().items() if key not in bibliography_keys()}
    assert not missing, f"cited but not in book/references.bib: {missing}"


def test_the_bibliography_parses() -> None:
    from pybtex.database import parse_file  # what sphinxcontrib-bibtex reads it with

    entries = parse_file(BIBLIOGRAPHY, bib_format="bibtex").entries
    assert sorted(entries) == sorted(bibliography_keys())


def test_no_key_is_defined_twice() -> None:
    twice = [key for key, count in Counter(bibliography_keys()).items() if count > 1]
    assert not twice, f"defined more than once in book/references.bib: {twice}"


def test_the_readers_of_the_sources_find_what_they_should() -> None:
    assert len(bibliography_keys()) >= 10
    assert CITATION.findall("see {cite:p}`a,b` and {cite:t}`c`") == ["a,b", "c"]
