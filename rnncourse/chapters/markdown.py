"""Markdown that the pages show with `IPython.display.Markdown`, written without matplotlib (so
that experiments, which draw nothing, can write their tables too)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["markdown_table"]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table of already formatted cells: the `header` row, a separator, then one line
    per row (a cell per column of the header)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
