"""Own code: while a student's function is tested, detect calls to the library functions the part
asks students to write themselves (`with own_code(LSTM_CELL, COURSE_LIBRARY): lstm_cell(...)`).

Two layers watch, and neither can be switched off from student code without it being noticed:

- **operators**, at PyTorch's dispatcher: for the duration of the block, every kernel of each
  forbidden ATen operator (`aten::lstm_cell`, `aten::native_layer_norm`, ...) is replaced by one
  that records the call and raises. However the operator is reached (`torch.lstm_cell`,
  `torch._VF`, `nn.LSTMCell`, `torch.ops.aten`, `map` or `functools.partial` around it, inside
  `torch._C.DisableTorchFunction()` or `torch.inference_mode()`, from another thread), it runs
  one of these kernels. At the end of the block the replacement kernels must still be the ones
  registered.
- **Python functions**, by a profile hook (`sys.setprofile`, and `threading.setprofile` for new
  threads): a call to code of a forbidden module or package (`torch.nn.utils.clip_grad`,
  `rnncourse`) is recorded. The hook must still be in place at the end, no other may be set
  meanwhile (an audit hook watches), and no thread running notebook code may be alive.

Starting processes inside the block is refused (their work could not be watched), and so is
loading compiled code through ctypes or looking up its functions (whose work no hook sees
either; a function looked up before the block raises no event when called). A student
function's own exceptions come out as one clear message naming the line of the student's cell,
and whatever it left behind that would change how the tests compare (a torch function or
dispatch mode still active, the global random state, the grad mode or default dtype) is undone.
"""

from __future__ import annotations

import importlib
import inspect
import linecache
import os
import sys
import sysconfig
import threading
import warnings
from dataclasses import dataclass

import torch

from rnncourse.grading.shortcuts import Shortcut

# Dispatch keys whose kernels are replaced (where the operator has one): together they are on
# every path an operator call can take on CPU, CUDA and MPS tensors.
_KEYS = ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "Autograd", "CPU", "CUDA",
         "MPS", "MkldnnCPU", "NestedTensorCPU", "NestedTensorCUDA")
_PROCESS_EVENTS = frozenset({"os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system",
                             "os.exec", "subprocess.Popen", "os.startfile"})
_PROFILE_EVENTS = frozenset({"sys.setprofile", "sys.settrace"})
_FOREIGN_EVENTS = frozenset({"ctypes.dlopen", "ctypes.dlsym"})
_GRADING_FOLDER = os.path.dirname(os.path.abspath(__file__))
_LIBRARY_FOLDERS = tuple(sorted({sysconfig.get_paths()[key] for key in
                                 ("stdlib", "platstdlib", "purelib", "platlib")}))
_ACTIVE: list[_Watch] = []  # the watches in force (at most one: blocks do not nest)


class ForbiddenCallError(Exception):
    """Student code called a function that the part asks students to write themselves."""


class StudentCodeError(AssertionError):
    """The student's function raised an exception (the message names its line)."""


def _is_notebook_file(filename: str) -> bool:
    """Code written in the notebook (cells, `exec` strings), not in a library or this package."""
    return not (filename.startswith(_LIBRARY_FOLDERS) or filename.startswith("<frozen ")
                or filename.startswith(os.path.dirname(_GRADING_FOLDER)))


def _where(frame, test_file: str) -> str:
    """' (in NAME, line N of its cell: `source`)' for the innermost student frame at or above
    `frame`, or ''."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if _is_notebook_file(filename) and filename != test_file:
            line = linecache.getline(filename, frame.f_lineno).strip()
            shown = f": `{line}`" if line else ""
            return f" (in {frame.f_code.co_name}, line {frame.f_lineno} of its cell{shown})"
        frame = frame.f_back
    return ""


def _audit(event: str, arguments: tuple) -> None:
    if not _ACTIVE or (event not in _PROCESS_EVENTS and event not in _PROFILE_EVENTS
                       and event not in _FOREIGN_EVENTS):
        return
    watch = _ACTIVE[-1]
    caller = sys._getframe(1)
    if event in _PROCESS_EVENTS:
        watch.record(f"your code started a process ({event}), whose work the tests cannot "
                     "watch", caller)
        raise ForbiddenCallError("starting processes is not allowed while your code is tested")
    if event in _FOREIGN_EVENTS:
        watch.record(f"your code loaded compiled code or looked up its functions through ctypes "
                     f"({event}), whose work the tests cannot watch: write it with tensor "
                     "operations", caller)
        raise ForbiddenCallError("using compiled code through ctypes is not allowed while your "
                                 "code is tested")
    if not watch.switching and _is_notebook_file(caller.f_code.co_filename):
        watch.record(f"your code called {event}, which would hide calls from the tests",
                     caller)


sys.addaudithook(_audit)  # audit hooks cannot be removed: installed once per process


def _called(shortcut: Shortcut, detail: str) -> str:
    return (f"your code called {shortcut.name}{detail}, which this part asks you to write "
            "yourself")


def _imported(shortcut: Shortcut, frame) -> str | None:
    """The message for forbidden code run by an `import` in the student's code (a module's own
    set-up, not a function the student called), or None if no import is under way."""
    while frame is not None and not _is_notebook_file(frame.f_code.co_filename):
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return (f"your code imported {shortcut.name}, which this part asks you not to use: "
                    "write it yourself, without that import")
        frame = frame.f_back
    return None


@dataclass
class _Finding:
    what: str
    where: str


class _Watch:
    """The state of one `own_code` block."""

    def __init__(self, shortcuts: tuple[Shortcut, ...], allow: tuple) -> None:
        self.shortcuts = shortcuts
        self.files: dict[str, Shortcut] = {}
        self.folders: list[tuple[str, Shortcut]] = []
        for shortcut in shortcuts:
            for name in shortcut.python:
                module = importlib.import_module(name)
                path = os.path.abspath(module.__file__)
                if os.path.basename(path) == "__init__.py":
                    self.folders.append((os.path.dirname(path) + os.sep, shortcut))
                else:
                    self.files[path] = shortcut
        self.allowed_code = {id(getattr(function, "__code__", None)) for function in allow}
        self.findings: list[_Finding] = []
        self.recorded: set = set()
        self.switching = False
        self.test_file = ""

    def record(self, what: str, frame, key: object = None) -> None:
        """Note a forbidden call (the first of each `key`: one message per shortcut)."""
        key = what if key is None else key
        if key not in self.recorded:
            self.recorded.add(key)
            self.findings.append(_Finding(what, _where(frame, self.test_file)))

    # --- the Python layer ------------------------------------------------------------------

    def _forbidden_frame(self, frame) -> Shortcut | None:
        filename = frame.f_code.co_filename
        shortcut = self.files.get(filename)
        if shortcut is None:
            for folder, candidate in self.folders:
                if filename.startswith(folder) and not filename.startswith(_GRADING_FOLDER):
                    shortcut = candidate
                    break
        if shortcut is None:
            return None
        # Inside a function the part allows (its own calls to the library are its business)?
        caller = frame
        while caller is not None:
            if id(caller.f_code) in self.allowed_code:
                return None
            caller = caller.f_back
        return shortcut

    def profile(self, frame, event: str, argument) -> None:
        if threading.get_ident() != self.thread and "thread" not in self.recorded:
            self.record("your code ran work in another thread, which the tests cannot watch",
                        frame, "thread")
        if event == "call" and frame.f_code.co_flags & inspect.CO_NEWLOCALS:  # a function
            shortcut = self._forbidden_frame(frame)
            if shortcut is not None and shortcut not in self.recorded:
                name = frame.f_code.co_qualname
                detail = "" if "<" in name else f" ({name})"
                self.record(_imported(shortcut, frame) or _called(shortcut, detail), frame,
                            shortcut)

    # --- the operator layer ----------------------------------------------------------------

    def _kernel(self, shortcut: Shortcut, operator: str):
        def forbidden_kernel(*args, **kwargs):
            self.record(_called(shortcut, f" (aten::{operator})"), sys._getframe(1), shortcut)
            raise ForbiddenCallError(f"aten::{operator} may not be used here")

        return forbidden_kernel

    def _register_operators(self) -> list:
        libraries = []
        with warnings.catch_warnings():  # torch warns that it overrides a kernel
            warnings.simplefilter("ignore")
            for shortcut in self.shortcuts:
                for operator in shortcut.operators:
                    packet = getattr(torch.ops.aten, operator, None)
                    if packet is None:
                        continue
                    library = torch.library.Library("aten", "IMPL")
                    for overload in packet.overloads():
                        name = operator if overload == "default" else f"{operator}.{overload}"
                        for key in _KEYS:
                            if torch._C._dispatch_has_kernel_for_dispatch_key(
                                    f"aten::{name}", key):
                                library.impl(name, self._kernel(shortcut, name), key)
                    libraries.append((library, packet))
        return libraries

    @staticmethod
    def _still_registered(libraries: list) -> bool:
        marker = os.path.basename(__file__)
        for _, packet in libraries:
            for overload in packet.overloads():
                name = packet._qualified_op_name + ("" if overload == "default"
                                                    else f".{overload}")
                if marker not in torch._C._dispatch_dump(name):
                    return False
        return True

    # --- entering and leaving --------------------------------------------------------------

    def start(self, test_file: str) -> None:
        self.test_file = test_file
        self.thread = threading.get_ident()
        self.saved = (torch.is_grad_enabled(), torch.get_default_dtype(),
                      torch.get_rng_state(), torch._C._len_torch_function_stack(),
                      torch._C._len_torch_dispatch_stack())
        self.libraries = self._register_operators()
        self.previous = sys.getprofile(), threading.getprofile()
        self.switching = True
        sys.setprofile(self.profile)
        threading.setprofile(self.profile)
        self.switching = False
        _ACTIVE.append(self)

    def stop(self) -> list[str]:
        """Remove the watch; return what was changed that the watch relies on."""
        problems = []
        hook, thread_hook = sys.getprofile(), threading.getprofile()
        self.switching = True
        sys.setprofile(self.previous[0])
        threading.setprofile(self.previous[1])
        self.switching = False
        if _ACTIVE and _ACTIVE[-1] is self:
            _ACTIVE.pop()
        if hook != self.profile or thread_hook != self.profile:
            problems.append("the profile function that watches calls was removed")
        if not self._still_registered(self.libraries):
            problems.append("the operators' watched kernels were replaced")
        for library, _ in self.libraries:
            library._destroy()
        if _notebook_threads():  # one started before could do the work out of sight
            problems.append("a thread running notebook code was alive (the tests cannot watch "
                            "it)")
        grad, dtype, rng, functions, dispatches = self.saved
        while torch._C._len_torch_function_stack() > functions:
            torch._C._pop_torch_function_stack()
            problems.append("a torch function mode was left active")
        while torch._C._len_torch_dispatch_stack() > dispatches:
            torch._C._pop_torch_dispatch_stack()
            problems.append("a torch dispatch mode was left active")
        torch.set_grad_enabled(grad)
        torch.set_default_dtype(dtype)
        torch.set_rng_state(rng)
        return problems


def _notebook_threads() -> set[int]:
    """Threads (other than this one) with notebook code on their stack."""
    found = set()
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        while frame is not None:
            if _is_notebook_file(frame.f_code.co_filename):
                found.add(ident)
                break
            frame = frame.f_back
    return found


class own_code:  # noqa: N801 (used as `with own_code(...)`, like a function)
    """`with own_code(*shortcuts, allow=(function, ...)):` run student code; leaving the block
    raises ForbiddenCallError naming what was called of `shortcuts` (or how the watch was
    disturbed), or StudentCodeError when the student's code raised. `allow` lists functions
    whose own calls into forbidden code are fine (`adding_problem` of the course library)."""

    def __init__(self, *shortcuts: Shortcut, allow: tuple = ()) -> None:
        self.watch = _Watch(shortcuts, tuple(allow))

    def __enter__(self) -> own_code:
        if _ACTIVE:
            raise RuntimeError("own_code blocks do not nest")
        self.watch.start(sys._getframe(1).f_code.co_filename)
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        __tracebackhide__ = True
        problems = self.watch.stop()
        findings = self.watch.findings
        if findings or problems:
            reasons = [f"{finding.what}{finding.where}" for finding in findings]
            reasons += [f"while your code ran, {problem}" for problem in problems]
            raise ForbiddenCallError("; ".join(dict.fromkeys(reasons))) from None
        if error is None or isinstance(error, KeyboardInterrupt):
            return False
        where = _where(_innermost(traceback), self.watch.test_file)
        raise StudentCodeError(f"your code raised {kind.__name__}: {error}{where}") from None


def _innermost(traceback):
    frame = None
    while traceback is not None:
        frame, traceback = traceback.tb_frame, traceback.tb_next
    return frame
