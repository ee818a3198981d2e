"""The grading guard's audit hook (`sys.addaudithook`, which cannot be removed): while a
submission is graded, notebook code may not swap a protected module's class or a protected
class's special attributes, swap the code or defaults of a library function, install trace or
profile functions, walk the garbage collector's object graph, or open the course's notebooks,
solutions or gradebook (with notebook code anywhere on the stack): not by name, through a
link (the path is resolved), nor link or rename them or anything onto them, nor as an SQLite
database (notebook code may not open one at all: `ATTACH` reaches any file from any connection).

Like the guard (`rnncourse.grading.guard`), this runs inside the grading kernel, as part of the
guard's source text (`rnncourse.grading.execution.guard_source`), and uses the standard library
only.
"""

from __future__ import annotations

import os
import sys
import types

from rnncourse.grading.guard_values import Provenance, TamperingError, _package_of

# Audit events that notebook code may not raise (see `Guard._audit`).
_WATCHED_EVENTS = frozenset({
    "object.__setattr__", "object.__delattr__", "sys.settrace", "sys.setprofile",
    "gc.get_referents", "gc.get_referrers", "gc.get_objects", "open",
    "os.link", "os.rename", "os.symlink", "sqlite3.connect",
})
# Files that hold solutions or hidden tests (the source notebooks, the gradebook), or decide how
# notebooks are graded (nbgrader runs its configuration as Python): notebook code may not open
# them while it is graded.
_COURSE_FILES = (".ipynb", ".db", ".db-journal", "nbgrader_config.py")
# Function attributes that change what a function does (CPython audits setting them).
_FUNCTION_INTERNALS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})


class AuditHook(Provenance):
    """`_audit`, the hook; `type_packages` and `modules` are set by the guard."""

    def _audit(self, event: str, arguments: tuple) -> None:
        if event not in _WATCHED_EVENTS:
            return
        if event == "open":
            self._check_open(arguments[0], sys._getframe(1))
            return
        if event in ("os.link", "os.rename", "os.symlink"):  # os.replace raises os.rename
            # Neither end may be a course file: a link or rename *onto* the gradebook or
            # nbgrader_config.py replaces it as surely as writing it.
            for path in arguments[:2]:
                self._check_open(path, sys._getframe(1))
            return
        if event == "sqlite3.connect":
            self._refuse_from_notebook("notebook code may not open a database while it is "
                                       "graded", sys._getframe(1))
            return
        if event.startswith("object."):
            target, name = arguments[0], arguments[1]
            if isinstance(target, type):
                if _package_of(target) not in self.type_packages:
                    return
            elif isinstance(target, types.FunctionType):
                # `torch.testing.assert_close.__code__ = ...` keeps the function's identity.
                if name not in _FUNCTION_INTERNALS or self._from_notebook(target):
                    return
            elif not (name == "__class__" and isinstance(target, types.ModuleType)
                      and self.modules.get(target.__name__) is target):
                return
            what = f"change {getattr(target, '__name__', target)}.{name}"
        else:
            what = f"call {event}"
        if not self._trusted(sys._getframe(1)):
            raise TamperingError(f"notebook code may not {what} while it is graded")

    def _check_open(self, path: object, caller: types.FrameType) -> None:
        """Refuse notebook code (anywhere on the stack, so also through a library such as
        pathlib) the files that hold solutions or hidden tests."""
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        # The resolved path too (a link made to the gradebook), but for its name only: the course
        # folder may itself lie in a folder called "solutions".
        if not isinstance(path, str) or not (
                f"{os.sep}solutions{os.sep}" in path
                or any(name.endswith(_COURSE_FILES) for name in (path, os.path.realpath(path)))):
            return
        self._refuse_from_notebook("notebook code may not read the course's notebooks, "
                                   "solutions or gradebook while it is graded", caller)

    def _refuse_from_notebook(self, message: str, caller: types.FrameType) -> None:
        """TamperingError(message) when notebook code is anywhere on the stack from `caller`."""
        frame = caller
        while frame is not None:
            if not self._trusted(frame):
                raise TamperingError(message)
            frame = frame.f_back
