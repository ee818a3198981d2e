"""The preamble of every chapter page: one call, `page = book.setup("ch03")`.

It does what each page needs before its first experiment:

- one torch thread (`threads=1`): the course's models are small, and their many tiny matrix
  products per time step run fastest on one thread (two would synchronise at every step);
- the device (`device=None`: CUDA when present, else the CPU; never Apple's MPS, so that a Mac
  prints the CPU's numbers as every other laptop does; `device="mps"` asks for it) and a seed,
  which the page hands to every experiment (`device=page.device, seed=page.seed`), and with
  which torch and Python are seeded;
- the scale: `page.settings` holds the chapter's experiments at `scale="cpu"` (what the book
  runs, seconds each) or `scale="paper"` (the papers' sizes: hours, on a GPU), from the
  chapter's `settings.py`;
- warnings hidden (torch's and matplotlib's advice is noise on a course page) and figures drawn
  inline, in the course's colour-blind-safe style, at the end of each cell.

The same experiments run from a shell with `rnncourse run chNN --scale paper`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch

from rnncourse.chapters import chapter_module, chapter_name
from rnncourse.chapters.plotting import use_course_style
from rnncourse.runtime import manual_seed, resolve_device, use_mps_by_default

__all__ = ["Page", "setup"]


@dataclass(frozen=True)
class Page:
    """What `setup` chose for one page: pass `device` and `seed` to every experiment, and read
    each experiment's sizes from `settings` (the chapter's settings at `scale`)."""

    chapter: str
    scale: str
    settings: Any
    device: torch.device
    seed: int


INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def _draw_inline() -> None:
    """In a notebook kernel, figures drawn inline (shown at the end of the cell that draws them),
    even where MPLBACKEND names another backend; elsewhere nothing changes."""
    import matplotlib
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):  # not in a notebook
        return
    if matplotlib.get_backend() != INLINE_BACKEND:
        shell.run_line_magic("matplotlib", "inline")


def setup(
    chapter: str | int,
    *,
    scale: str = "cpu",
    device: str | torch.device | None = None,
    seed: int = 0,
    threads: int = 1,
) -> Page:
    """Set up a chapter page (see the module docstring) and return its `Page`.

    `chapter` is "ch01" to "ch06" (or 1 to 6); `scale` "cpu" or "paper".
    """
    name = chapter_name(chapter)
    settings = chapter_module(name, "settings").SETTINGS.at(scale)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    use_mps_by_default(False)  # experiments given device=None then mean CUDA or the CPU
    page = Page(chapter=name, scale=scale, settings=settings, device=resolve_device(device),
                seed=seed)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(threads)
    manual_seed(seed)
    _draw_inline()
    use_course_style()
    return page
