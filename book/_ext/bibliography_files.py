"""Find the bibliography from a one-page build as well as from the whole book.

`_config.yml` names `book/references.bib` relative to the repository root, where the whole book is
built from. A one-page build (`jupyter-book build book/01-long-term-memory.md`) reads its sources
from `book/` instead, where that path does not exist, and every citation would then be unknown.
So each bibliography file is looked up from the source folder upwards, as Jupyter Book looks up
`_config.yml` itself, and handed to sphinxcontrib-bibtex as an absolute path.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config


def locate(name: str, source: Path) -> Path:
    """`name` under `source` or its nearest parent that has it (unchanged if none has)."""
    for folder in (source, *source.parents):
        if (folder / name).is_file():
            return folder / name
    return source / name


def resolve_bibliography_files(app: Sphinx, config: Config) -> None:
    source = Path(app.srcdir).resolve()
    config.bibtex_bibfiles = [str(locate(name, source)) for name in config.bibtex_bibfiles or []]


def setup(app: Sphinx) -> dict:
    # Before sphinxcontrib-bibtex reads the files when the builder starts.
    app.connect("config-inited", resolve_bibliography_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
