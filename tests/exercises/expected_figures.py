"""Draws the figures that the exercises show beside their expected output, from the solutions.

    .venv/bin/python tests/exercises/expected_figures.py   # then: rnncourse release

Each figure is what the solution's explore cell draws, saved at 200 pixels per inch, so that it
prints sharp in the PDF edition as well as on screen.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
# exercise -> the figure beside its expected output; the explore cell names its figure `figure`
FIGURES = {"ex01-vanishing-gradients": "expected-gradient-norms.png"}
PIXELS_PER_INCH = 200


def draw(exercise_id: str, file_name: str) -> Path:
    """Runs the solution up to its explore cell, which saves its figure in place of showing it."""
    folder = ROOT / "solutions" / exercise_id
    notebook = nbformat.read(folder / f"{exercise_id}.ipynb", as_version=4)
    index = [cell.get("id") for cell in notebook.cells].index("explore-code")
    explore = notebook.cells[index]
    if "plt.show()" not in explore.source:
        raise ValueError(f"{exercise_id}: the explore cell does not end in plt.show()")
    target = folder / file_name
    explore.source = explore.source.replace(
        "plt.show()", f"figure.savefig({str(target)!r}, dpi={PIXELS_PER_INCH}, "
                      "bbox_inches='tight')")
    notebook.cells = notebook.cells[: index + 1]
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return target


if __name__ == "__main__":
    for exercise, figure in FIGURES.items():
        print("drew", draw(exercise, figure).relative_to(ROOT))
