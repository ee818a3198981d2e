"""Where a value comes from, for the grading guard (`rnncourse.grading.guard`): notebook code
(cells, `exec` strings) or a library, judged by the file its code or its class's module comes
from, following what a wrapper, partial, method, property or closure is built from.

Like the guard, this runs inside the grading kernel, as part of the guard's source text
(`rnncourse.grading.execution.guard_source`), and uses the standard library only.
"""

from __future__ import annotations

import functools
import sys
import types

# A recorded attribute that did not exist.
_MISSING = object()
# How many objects `Guard._made_by_notebook` looks at to tell where a value comes from.
_PROVENANCE_LIMIT = 100


def _is_code(value: object) -> bool:
    return callable(value) or isinstance(value, types.ModuleType)


def _is_method(value: object) -> bool:
    """Whether a class attribute acts as code: a callable or a descriptor (a property, a
    `functools.partialmethod`, ...)."""
    return callable(value) or hasattr(type(value), "__get__")


def _top_level(name: str) -> str:
    return name.partition(".")[0]


def _package_of(cls: type) -> str:
    """The top-level package a class was defined in ("" when it does not say)."""
    try:
        return _top_level(str(cls.__module__ or ""))
    except Exception:  # a metaclass with an unusual __module__
        return ""


def _module_of(cls: type) -> str:
    """The name of the module a class says it was defined in, read without its metaclass."""
    try:
        name = type.__dict__["__module__"].__get__(cls)
    except Exception:  # a C type without one
        return ""
    return name if isinstance(name, str) else ""


def _defined_where_it_says(cls: type) -> bool:
    """Whether the module a class names holds it under its name (so that module defined it)."""
    module = sys.modules.get(_module_of(cls))
    if not isinstance(module, types.ModuleType):
        return False
    value: object = module
    for name in str(type.__dict__["__qualname__"].__get__(cls)).split("."):
        if isinstance(value, type):
            value = type.__dict__["__dict__"].__get__(value).get(name)
        elif isinstance(value, types.ModuleType):
            value = vars(value).get(name)
        else:  # a class defined in a function: `f.<locals>.C`
            return False
    return value is cls


def _closure_contents(function: types.FunctionType) -> list:
    contents = []
    for cell in function.__closure__ or ():
        try:
            contents.append(cell.cell_contents)
        except ValueError:  # a cell not filled yet
            continue
    return contents


def _parts(value: object) -> list:
    """What a callable or descriptor is built from: what a partial, method, property or
    `functools.wraps` wrapper calls, the contents of a function's closure, the callables an
    object holds (a `types.SimpleNamespace`, a cache wrapper, a module made on the fly)."""
    if isinstance(value, functools.partial | functools.partialmethod):
        return [value.func, *value.args, *value.keywords.values()]
    if isinstance(value, property):
        return [value.fget, value.fset, value.fdel]
    if isinstance(value, classmethod | staticmethod):
        return [value.__func__]
    if isinstance(value, types.MethodType):
        return [value.__func__, value.__self__]
    if isinstance(value, types.BuiltinMethodType | types.MethodWrapperType):
        return [value.__self__]
    if isinstance(value, types.FunctionType):
        return [*_closure_contents(value), vars(value).get("__wrapped__")]
    if isinstance(value, type):
        if _defined_where_it_says(value):
            return []  # judged by the module that defines it
        # A class made by `type(...)` or in an `exec` string: its methods tell.
        return [item for item in type.__dict__["__dict__"].__get__(value).values()
                if _is_method(item)]
    if isinstance(value, types.ModuleType) and vars(value).get("__spec__") is not None:
        return []  # an imported module, judged by its file
    try:
        namespace = object.__getattribute__(value, "__dict__")
    except Exception:  # no instance dictionary
        namespace = {}
    return [type(value)] + ([item for item in namespace.values() if callable(item)]
                            if isinstance(namespace, dict) else [])


class TamperingError(Exception):
    """Notebook code changed something the tests rely on; the test cell scores 0."""


class Provenance:
    """Telling notebook code from library code; `trusted` holds the library folders."""

    trusted: tuple[str, ...]

    def _trusted_file(self, filename: object) -> bool:
        return isinstance(filename, str) and filename.startswith(self.trusted)

    def _trusted(self, frame: types.FrameType) -> bool:
        return self._trusted_file(frame.f_code.co_filename)

    def _from_notebook(self, value: object) -> bool:
        """Whether notebook code (cells, `exec` strings) defined `value` itself: a function
        by the file of its code, a module by its file, anything else by its class's module."""
        while isinstance(value, functools.partial):
            value = value.func
        if isinstance(value, classmethod | staticmethod | types.MethodType):
            value = value.__func__
        if isinstance(value, types.FunctionType):
            return not self._trusted_file(value.__code__.co_filename)
        if isinstance(value, types.ModuleType):
            file = vars(value).get("__file__")
            if file is not None and not self._trusted_file(file):
                return True
        module_name = _module_of(value if isinstance(value, type) else type(value))
        if module_name == "__main__":
            return True
        module = sys.modules.get(module_name)
        file = vars(module).get("__file__") if isinstance(module, types.ModuleType) else None
        return file is not None and not self._trusted_file(file)

    def _made_by_notebook(self, value: object) -> bool:
        """Whether notebook code defined `value` or anything it is built from (see `_parts`):
        a library wrapper around a student's function is the student's function."""
        pending, seen = [value], set()
        while pending and len(seen) < _PROVENANCE_LIMIT:
            item = pending.pop()
            if item is None or id(item) in seen:
                continue
            seen.add(id(item))
            try:
                if self._from_notebook(item):
                    return True
                pending.extend(_parts(item))
            except Exception:  # an object that cannot be inspected: judged by the rest
                continue
        return False

    def _made_by_library(self, value: object) -> bool:
        """Whether `value` is what a library puts in its own classes and globals: at its core
        (what a descriptor, method or partial holds) a function from a library file, a class
        or a module, built from nothing notebook code defined. A C function at the core is
        not: notebook code can take any of those (`partialmethod(operator.is_not)`)."""
        core = value
        for _ in range(16):
            if isinstance(core, classmethod | staticmethod | types.MethodType):
                core = core.__func__
            elif isinstance(core, property):
                core = core.fget or core.fset or core.fdel
            elif isinstance(core, functools.partial | functools.partialmethod
                            | functools.cached_property):
                core = core.func
            else:
                break
        if isinstance(core, types.FunctionType):
            library = self._trusted_file(core.__code__.co_filename)
        else:
            library = isinstance(core, type | types.ModuleType)
        return library and not self._made_by_notebook(value)
