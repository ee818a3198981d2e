"""The grading guard: protects what the tests rely on from the code they test.

nbgrader runs a submission's cells and its restored test cells in one Python process, so student
code can replace what the tests compare with (`torch.allclose = lambda *a, **k: True`,
`builtins.abs = ...`, a global `abs` that shadows the builtin) or change how the kernel runs
cells. This module runs *inside the grading kernel*: `rnncourse.grading.execution` sends its
source text, after that of the modules it builds on (`guard_values`: where a value comes from;
`guard_shell`: the shell's state; `guard_audit`: the audit hook), before any student cell, in a
namespace of its own, and calls `install`; it is never imported by the grader or the kernel.
Only the standard library is used, so it works with any kernel environment.

What it does:

- snapshot: right after importing the packages the locked cells use (and `builtins`), it
  records every callable and module attribute of those packages' modules, and the methods of
  their classes;
- freeze: those modules reject *replacing* or deleting an attribute when the assignment comes
  from notebook code (cells, `exec` strings), or puts in something notebook code made (a
  library helper such as `unittest.mock.patch` setting a student's function); other library
  code may still change them, and its change becomes the recorded value;
- audit hook (cannot be removed): notebook code may not swap a protected module's class or a
  protected class's bases, swap the code or defaults of a library function, install trace or
  profile functions, walk the garbage collector's object graph, or open the course's notebooks,
  solutions or gradebook (with notebook code anywhere on the stack, so not through pathlib
  either);
- `before(hide)`, run before each locked cell: puts back every recorded attribute (class
  methods too: `torch.Tensor.allclose = ...`), removes methods notebook code added to those
  classes, puts back the names the locked cells import (`torch`, `np`, ...), `__builtins__`,
  `sys.stdout`/`stderr`/hooks, the shell's transformers, callbacks and methods, and hides
  student globals that shadow the builtins the cell uses (`abs = ...`);
- library changes are not tampering: libraries update their own classes and globals as they
  run (the first `torch.optim.Adam(...)` wraps `Adam.step` for its hooks; a lazy import
  registers properties on a class or rebinds a module global). Nothing tells who set a class
  attribute or wrote a module's dictionary directly, so such a change is judged by what was put
  there: library code at its core (a function, class or module from a library file, or a
  descriptor, method or partial of one) built from nothing notebook code defined (following
  `functools.wraps` wrappers, closures and partials) becomes the recorded value; anything else
  (a student's function, a C function such as `operator.is_not` in a `partialmethod`, a
  deletion) is put back and reported;
- `finish(token)`, appended to each test cell: checks that nothing above changed while the
  tests ran (raising `TamperingError`, which scores 0) and prints the token that proves the cell
  ran to its end;
- `protect(names, setup)`, run after each locked cell: the functions and classes it defined
  (and, for a set-up cell, every name it bound) are the tests' from then on: like the imports,
  student globals that rebind those names are set aside before each locked cell, and a
  function's code and defaults or a class's methods changed by notebook code are put back;
- `after()`: gives the hidden student globals back.

This raises the bar; it is not a sandbox. Code that knows this guard can still find its state in
the same process, or put in a class a library function that happens to do what it wants.
Classes that are not fully trusted need isolation outside the process (a container or a
separate user per submission); see the instructors' guide.
"""

from __future__ import annotations

import builtins
import importlib
import os
import sys
import sysconfig
import types
import warnings

from rnncourse.grading.guard_audit import AuditHook
from rnncourse.grading.guard_shell import ShellState
from rnncourse.grading.guard_values import (
    _MISSING,
    TamperingError,
    _is_code,
    _is_method,
    _package_of,
    _top_level,
)

# Packages whose classes' special attributes notebook code may not set, besides the protected
# ones (CPython audits `__class__`, `__bases__`, `__name__`..., not ordinary class attributes).
_ALWAYS_PROTECTED_TYPES = ("builtins", "IPython", "ipykernel", "traitlets")
# Builtins the IPython shell adds and removes around each cell (not student changes).
_SHELL_BUILTINS = frozenset({"get_ipython", "exit", "quit", "display", "__IPYTHON__"})


def _resolve(path: str) -> object:
    """`torch.nn.functional` or `torch.allclose` -> the module or attribute it names."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            value = getattr(value, attribute)
        return value
    raise ImportError(path)


class Guard(AuditHook, ShellState):
    """The state recorded before student code runs, and the checks around each locked cell."""

    def __init__(self, packages: list[str], bindings: dict[str, str], filename: str,
                 shell: object) -> None:
        self.shell = shell
        self.user_ns = shell.user_ns
        names, folders = set(), set()
        for package in packages:
            try:
                module = importlib.import_module(package)
            except Exception:  # a package the grading kernel lacks: nothing to protect
                continue
            names.add(_top_level(package))
            top = sys.modules.get(_top_level(package), module)
            if getattr(top, "__file__", None):
                folders.add(os.path.dirname(top.__file__))
        library = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib",
                                                         "platlib")}
        # Code from these files (libraries, the standard library, this guard) is trusted.
        self.trusted = tuple(sorted(library | folders)) + (filename, "<frozen ")
        self.modules = {name: module for name, module in list(sys.modules.items())
                        if isinstance(module, types.ModuleType) and _top_level(name) in names}
        self.modules["builtins"] = builtins
        with warnings.catch_warnings():  # some library objects warn when inspected
            warnings.simplefilter("ignore")
            self.saved = {name: {key: value for key, value in vars(module).items()
                                 if _is_code(value)}
                          for name, module in self.modules.items()}
        # The record of each module by identity (a module's `__name__` can be changed).
        self.saved_by_module = {id(module): self.saved[name]
                                for name, module in self.modules.items()}
        for key in _SHELL_BUILTINS:
            self.saved["builtins"].pop(key, None)
        self.type_packages = frozenset(names) | frozenset(_ALWAYS_PROTECTED_TYPES)
        # The methods of the packages' classes (`torch.Tensor.allclose`): class attributes
        # cannot be frozen, so they are put back and checked like module attributes.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            classes = {id(value): value for saved in self.saved.values()
                       for value in saved.values()
                       if isinstance(value, type) and _package_of(value) in names}
            self.classes = [(cls, {key: value for key, value in vars(cls).items()
                                   if _is_method(value)})
                            for cls in classes.values()]
        self.bindings = {}
        for name, path in bindings.items():
            try:
                self.bindings[name] = _resolve(path)
            except Exception:
                continue
        self.hidden: dict[str, object] = {}
        self.shadowing: set[str] = set()  # student globals named like builtins, set aside
        self.locked_names: dict[str, object] = {}  # what locked cells defined (`protect`)
        self.functions: dict[int, tuple] = {}  # their functions: code, defaults, kwdefaults
        self.system = {key: getattr(sys, key) for key in ("stdout", "stderr", "displayhook",
                                                          "excepthook")}
        self.trace, self.profile = sys.gettrace(), sys.getprofile()
        self.write, self.flush = sys.stdout.write, sys.stdout.flush
        self._record_shell()
        self._freeze()
        sys.addaudithook(self._audit)

    # --- recording and protecting -------------------------------------------------------------

    def _freeze(self) -> None:
        guard = self

        class FrozenModule(types.ModuleType):
            """A module whose recorded attributes notebook code cannot replace."""

            def __setattr__(self, name: str, value: object) -> None:
                guard._allow_change(self, name, value, sys._getframe(1))
                types.ModuleType.__setattr__(self, name, value)

            def __delattr__(self, name: str) -> None:
                guard._allow_change(self, name, _MISSING, sys._getframe(1))
                types.ModuleType.__delattr__(self, name)

        for module in self.modules.values():
            if type(module) is types.ModuleType:
                try:
                    module.__class__ = FrozenModule
                except TypeError:
                    continue

    def _allow_change(self, module: types.ModuleType, name: str, value: object,
                      frame: types.FrameType) -> None:
        saved = self.saved_by_module.get(id(module))
        if saved is None or name not in saved or saved[name] is value:
            return
        # Library code that sets what notebook code made (`unittest.mock.patch`) is notebook
        # code's change.
        if not self._trusted(frame) or self._made_by_notebook(value):
            raise TamperingError(f"notebook code may not replace {module.__name__}.{name} "
                                 "(the tests use it)")
        # A library updating itself (e.g. a lazy import): that is the new reference.
        if value is _MISSING or not _is_code(value):
            del saved[name]
        else:
            saved[name] = value

    # --- around each locked cell --------------------------------------------------------------

    def _changed_attributes(self, restore: bool) -> list[str]:
        """The recorded module and class attributes that notebook code changed (put back if
        `restore`), and the methods it added to recorded classes (removed if `restore`).

        Where a library changed one (see the module docstring), its value becomes the record.
        """
        changed = []
        for name, saved in self.saved.items():
            namespace = vars(self.modules[name])
            for key, value in list(saved.items()):
                current = namespace.get(key, _MISSING)
                if current is value:
                    continue
                if self._made_by_library(current):  # e.g. `global x; x = ...` in the library
                    saved[key] = current
                    continue
                changed.append(f"{name}.{key}")
                if restore:
                    namespace[key] = value
        for cls, saved in self.classes:
            namespace = vars(cls)
            for key, value in list(saved.items()):
                current = namespace.get(key, _MISSING)
                if current is value:
                    continue
                if self._made_by_library(current):  # e.g. torch wrapping `Adam.step`
                    saved[key] = current
                    continue
                changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
                if restore:
                    type.__setattr__(cls, key, value)
            for key in namespace.keys() - saved.keys():
                added = namespace[key]
                if not _is_method(added):
                    continue  # data a library caches on its class (`__slotnames__`)
                if self._made_by_library(added):  # protected from now on
                    saved[key] = added
                    continue
                # A method that shadows a base class's: `torch.Tensor.__lt__ = ...`
                changed.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
                if restore:
                    type.__delattr__(cls, key)
        return changed

    def protect(self, names: list[str], setup: bool) -> None:
        """After a locked cell: what it defined is the tests' from now on (module docstring)."""
        namespace = self.user_ns
        for name in names:
            value = namespace.get(name, _MISSING)
            notebook_code = self._from_notebook(value) and isinstance(
                value, types.FunctionType | type)
            if value is _MISSING or not (setup or notebook_code):
                self.locked_names.pop(name, None)
                continue
            self.locked_names[name] = value
            if isinstance(value, types.FunctionType) and notebook_code:
                self.functions[id(value)] = (value, value.__code__, value.__defaults__,
                                             value.__kwdefaults__)
            elif isinstance(value, type) and notebook_code and all(
                    cls is not value for cls, _ in self.classes):
                self.classes.append((value, {key: item for key, item in vars(value).items()
                                             if _is_method(item)}))

    def _changed_functions(self, restore: bool) -> list[str]:
        """Functions of locked cells whose code or defaults notebook code changed."""
        changed = []
        for function, code, defaults, kwdefaults in self.functions.values():
            if (function.__code__, function.__defaults__, function.__kwdefaults__) != (
                    code, defaults, kwdefaults):
                changed.append(f"{function.__qualname__}'s code")
                if restore:
                    function.__code__, function.__defaults__ = code, defaults
                    function.__kwdefaults__ = kwdefaults
        return changed

    def before(self, hide: list[str] = ()) -> list[str]:
        """Put back what the locked cell relies on; return what notebook code had changed.

        Student globals named like the builtins the cell uses (`hide`) or like the names the
        locked cells import are set aside until `after()`.
        """
        changed = (self._changed_attributes(restore=True) + self._changed_functions(restore=True)
                   + self._restore_shell())
        namespace = self.user_ns
        if namespace.get("__builtins__") is not builtins:
            namespace["__builtins__"] = builtins
            changed.append("__builtins__")
        self.hidden = {name: namespace.pop(name) for name in hide if name in namespace}
        self.shadowing = set(self.hidden)
        for name, value in {**self.locked_names, **self.bindings}.items():
            current = namespace.get(name, _MISSING)
            if current is not _MISSING and current is not value:
                self.hidden[name] = current
            namespace[name] = value
        return changed

    def finish(self, token: str) -> None:
        """The last line of each test cell: fail if anything the tests use was changed while
        they ran, else print the token that shows the cell ran to its end."""
        namespace = self.user_ns
        changed = self._changed_attributes(restore=False) + self._changed_functions(False)
        changed += [name for name, value in self.bindings.items()
                    if namespace.get(name, _MISSING) is not value]
        changed += [name for name in self.shadowing
                    if name not in self.bindings and name in namespace]
        if namespace.get("__builtins__") is not builtins:
            changed.append("__builtins__")
        if sys.gettrace() is not self.trace or sys.getprofile() is not self.profile:
            changed.append("trace function")
        if changed:
            raise TamperingError("while the tests ran, notebook code replaced "
                                 + ", ".join(sorted(set(changed))[:8]))
        self.write(f"{token}\n")
        self.flush()

    def after(self) -> None:
        """Give back the student globals hidden for the locked cell."""
        self.user_ns.update(self.hidden)
        self.hidden = {}


def install(packages: list[str], bindings: dict[str, str], filename: str,
            shell: object) -> Guard:
    """Import `packages`, record and protect them; `bindings` maps the names the locked cells
    import to what they name (`{"np": "numpy", "F": "torch.nn.functional"}`)."""
    return Guard(packages, bindings, filename, shell)
