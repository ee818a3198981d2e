"""The grading guard: protects what the tests rely on from the code they test.

nbgrader runs a submission's cells and its restored test cells in one Python process, so student
code can replace what the tests compare with (`torch.allclose = lambda *a, **k: True`,
`builtins.abs = ...`, a global `abs` that shadows the builtin) or change how the kernel runs
cells. This module runs *inside the grading kernel*: `rnncourse.grading.execution` sends its
source text before any student cell and calls `install`; it is never imported by the grader.
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
import functools
import importlib
import os
import sys
import sysconfig
import types
import warnings

_MISSING = object()
# Audit events that notebook code may not raise (see `Guard._audit`).
_WATCHED_EVENTS = frozenset({
    "object.__setattr__", "object.__delattr__", "sys.settrace", "sys.setprofile",
    "gc.get_referents", "gc.get_referrers", "gc.get_objects", "open",
})
# Files that hold solutions or hidden tests (the source notebooks, the gradebook): notebook code
# may not open them while it is graded.
_COURSE_FILES = (".ipynb", ".db", ".db-journal")
# Function attributes that change what a function does (CPython audits setting them).
_FUNCTION_INTERNALS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
# How many objects `Guard._made_by_notebook` looks at to tell where a value comes from.
_PROVENANCE_LIMIT = 100
# Packages whose classes' special attributes notebook code may not set, besides the protected
# ones (CPython audits `__class__`, `__bases__`, `__name__`..., not ordinary class attributes).
_ALWAYS_PROTECTED_TYPES = ("builtins", "IPython", "ipykernel", "traitlets")
# Builtins the IPython shell adds and removes around each cell (not student changes).
_SHELL_BUILTINS = frozenset({"get_ipython", "exit", "quit", "display", "__IPYTHON__"})
# Lists of the shell that rewrite code before it runs (an AST transformer could drop asserts).
_TRANSFORM_LISTS = (("", "ast_transformers"), ("", "input_transformers_post"),
                    ("input_transformer_manager", "cleanup_transforms"),
                    ("input_transformer_manager", "line_transforms"),
                    ("input_transformer_manager", "token_transformers"))


class TamperingError(Exception):
    """Notebook code changed something the tests rely on; the test cell scores 0."""


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


class Guard:
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

    def _record_shell(self) -> None:
        shell = self.shell
        self.instances = [(target, dict(vars(target))) for target in
                          (shell, getattr(shell, "kernel", None)) if target is not None]
        self.transforms = []
        for owner_name, attribute in _TRANSFORM_LISTS:
            owner = getattr(shell, owner_name, None) if owner_name else shell
            current = getattr(owner, attribute, None)
            if isinstance(current, list):
                self.transforms.append((owner, attribute, current, list(current)))
        events = getattr(shell, "events", None)
        callbacks = getattr(events, "callbacks", {})
        self.callbacks = {event: (handlers, list(handlers)) for event, handlers in
                          callbacks.items() if isinstance(handlers, list)}
        self.custom_exceptions = getattr(shell, "custom_exceptions", ())

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

    def _trusted_file(self, filename: object) -> bool:
        return isinstance(filename, str) and filename.startswith(self.trusted)

    def _trusted(self, frame: types.FrameType) -> bool:
        return self._trusted_file(frame.f_code.co_filename)

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

    def _audit(self, event: str, arguments: tuple) -> None:
        if event not in _WATCHED_EVENTS:
            return
        if event == "open":
            self._check_open(arguments[0])
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

    def _check_open(self, path: object) -> None:
        """Refuse notebook code (anywhere on the stack, so also through a library such as
        pathlib) the files that hold solutions or hidden tests."""
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        if not isinstance(path, str) or not (path.endswith(_COURSE_FILES)
                                             or f"{os.sep}solutions{os.sep}" in path):
            return
        frame = sys._getframe(2)
        while frame is not None:
            if not self._trusted(frame):
                raise TamperingError("notebook code may not read the course's notebooks, "
                                     "solutions or gradebook while it is graded")
            frame = frame.f_back

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

    def _restore_shell(self) -> list[str]:
        """Undo notebook changes to the shell: method overrides, code transformers, event
        callbacks, exception handlers, sys streams and hooks, trace functions."""
        changed = []
        for target, recorded in self.instances:
            current = vars(target)
            for key, value in list(current.items()):
                before = recorded.get(key, _MISSING)
                if before is value or not self._from_notebook(value):
                    continue
                if before is not _MISSING:  # a method or hook replaced on the instance
                    current[key] = before
                elif callable(value) and hasattr(type(target), key):
                    del current[key]  # an instance attribute shadowing a method
                else:
                    continue
                changed.append(f"{type(target).__name__}.{key}")
        for owner, attribute, recorded_list, recorded_items in self.transforms:
            current_list = getattr(owner, attribute)
            added = [item for item in current_list if item not in recorded_items]
            if current_list is not recorded_list or any(map(self._from_notebook, added)):
                changed.append(attribute)
                recorded_list[:] = recorded_items + [item for item in added
                                                     if not self._from_notebook(item)]
                setattr(owner, attribute, recorded_list)
        for handlers, _recorded in self.callbacks.values():
            own = [handler for handler in handlers if self._from_notebook(handler)]
            if own:
                changed.append("shell event callbacks")
                handlers[:] = [handler for handler in handlers if handler not in own]
        if getattr(self.shell, "custom_exceptions", ()) != self.custom_exceptions:
            changed.append("custom exception handlers")
            self.shell.custom_exceptions = self.custom_exceptions
        for key, value in self.system.items():
            if getattr(sys, key) is not value:
                setattr(sys, key, value)
        if sys.gettrace() is not self.trace:
            changed.append("trace function")
            sys.settrace(self.trace)
        if sys.getprofile() is not self.profile:
            changed.append("profile function")
            sys.setprofile(self.profile)
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
