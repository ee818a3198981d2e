"""rnncourse: reference models, data, training and diagnostics for the course
"Training recurrent neural networks: challenges and opportunities".

The core, which everything reuses:

    models/       recurrent networks written from scratch, with torch.nn's parameter names
    data/         synthetic tasks, and real text and time series that ship offline
    training/     the fit loop, clipping, batching, curricula, transfer, diagnostics, language
                  models and forecasters
    grading/      releasing and grading the exercises
    checks.py     the argument checks every module shares
    runtime.py    devices, seeds and random draws
    bench/        the benchmark harness of `rnncourse bench`

Above it, one folder per chapter page, and the entry points:

    chapters/     experiments, figures, widgets and settings (cpu and paper scale) per chapter
    book.py       the pages' preamble, `page = book.setup("chNN")`
    cli.py        the `rnncourse` command, one module per subcommand in commands/
    commands/     the subcommands: run, train, pretrain, bench, exercises, release, grade
    __main__.py   `python -m rnncourse`

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
