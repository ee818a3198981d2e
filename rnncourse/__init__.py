"""rnncourse: reference models, tasks, training and diagnostics for the course
"Training recurrent neural networks: challenges and opportunities".

Importing the package is cheap: torch is imported only when a name that needs it is used, so
command-line tools that never touch a model (listing or grading exercises) start fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["default_device", "manual_seed", "resolve_device", "__version__"]

_RUNTIME_NAMES = {"default_device", "manual_seed", "resolve_device"}


def __getattr__(name: str):
    if name in _RUNTIME_NAMES:
        from rnncourse import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'rnncourse' has no attribute {name!r}")
