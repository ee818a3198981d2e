"""Interactive widgets for the chapters (ipywidgets), one module per chapter.

Each widget draws a sensible figure in its initial state, so the static website shows it.
"""
