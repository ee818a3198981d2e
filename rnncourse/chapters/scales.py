"""The two scales every chapter's experiments run at, and the one settings object that holds them.

- `cpu`: the sizes the book executes, seconds per experiment on one core of a laptop CPU;
- `paper`: the sizes of the papers the chapter holds its results against (hours, on a GPU).

Each chapter's `settings.py` defines `SETTINGS = Scaled(cpu=..., paper=...)`: two instances of one
frozen dataclass whose fields hold each experiment's keyword arguments. The page and
`rnncourse run chNN --scale paper` both call `run_x(**settings.x, device=..., seed=...)`, so the
two run the same experiments with the same arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, TypeVar

__all__ = ["SCALES", "Scaled", "arguments"]

SCALES = ("cpu", "paper")

Settings = TypeVar("Settings")


def arguments(**values: Any) -> Mapping[str, Any]:
    """One experiment's keyword arguments, read-only: `run_x(**arguments(seq_len=100))`."""
    return MappingProxyType(values)


@dataclass(frozen=True)
class Scaled(Generic[Settings]):
    """A chapter's settings at both scales: `cpu` (what the book runs) and `paper`."""

    cpu: Settings
    paper: Settings

    def at(self, scale: str) -> Settings:
        """The settings at `scale`, "cpu" or "paper"."""
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(map(repr, SCALES))}, got {scale!r}")
        return getattr(self, scale)
