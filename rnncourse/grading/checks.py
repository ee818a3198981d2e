"""What the exercises' test cells use: each graded check calls the student's code inside
`own_code(...)` (which also names forbidden library shortcuts) and states what it expects with
the functions below. A failed expectation raises `CheckFailed` with a message that says what was
checked and, for visible tests, how to fix it; hidden tests' messages say what was checked
without giving the answer away.

Every comparison first checks the exact type of what the student's code returned
(`type(value) is torch.Tensor`, `float`, `int`, `str`): an object of the student's own class
could otherwise answer every comparison with "equal".
"""

from __future__ import annotations

import math

import torch

from rnncourse.grading.op_count import count_operations, graph_depth
from rnncourse.grading.own_code import ForbiddenCallError, StudentCodeError, own_code
from rnncourse.grading.shortcuts import (
    CLIPPING,
    COURSE_LIBRARY,
    DROPOUT,
    GRU_CELL,
    LSTM_CELL,
    NORMALIZATION,
    RNN_CELL,
    RNN_MODULES,
    RNN_SEQUENCE,
    SCAN,
    Shortcut,
)

__all__ = [
    "CLIPPING", "COURSE_LIBRARY", "DROPOUT", "GRU_CELL", "LSTM_CELL", "NORMALIZATION", "RNN_CELL",
    "RNN_MODULES", "RNN_SEQUENCE", "SCAN", "CheckFailed", "ForbiddenCallError", "Shortcut",
    "StudentCodeError", "count_operations", "expect", "expect_choice", "expect_close",
    "expect_float", "expect_int", "expect_raises", "expect_tensor", "graph_depth", "own_code",
    "passed",
]


class CheckFailed(AssertionError):
    """A check found the student's code wrong; the message says what was checked."""


def expect(condition: bool, message: str) -> None:
    """Fail with `message` unless `condition` is the bool True."""
    __tracebackhide__ = True
    if condition is not True:
        raise CheckFailed(message)


def _type_name(value: object) -> str:
    return type(value).__name__


def expect_tensor(value: object, what: str, shape: tuple | None = None,
                  dtype: torch.dtype | None = None) -> None:
    """`value` is a plain torch.Tensor (not a subclass), of `shape` and `dtype` when given."""
    __tracebackhide__ = True
    expect(type(value) is torch.Tensor, f"{what} should be a torch.Tensor, got "
                                        f"{_type_name(value)}")
    if shape is not None:
        expect(tuple(value.shape) == tuple(shape), f"{what} should have shape {tuple(shape)}, "
                                                   f"got {tuple(value.shape)}")
    if dtype is not None:
        expect(value.dtype == dtype, f"{what} should have dtype {dtype}, got {value.dtype}")


def expect_close(value: object, expected: torch.Tensor, what: str, atol: float = 1e-5,
                 rtol: float = 1e-5, hint: str = "", equal_nan: bool = False) -> None:
    """`value` is a torch.Tensor of `expected`'s shape whose entries are within
    `atol + rtol * |expected|` of it. The message gives the largest difference, not the values.
    """
    __tracebackhide__ = True
    expect_tensor(value, what, shape=tuple(expected.shape))
    with torch._C.DisableTorchFunction(), torch.no_grad():
        got = value.detach().to("cpu", torch.float64)
        want = expected.detach().to("cpu", torch.float64)
        matches = torch.isclose(got, want, rtol=rtol, atol=atol, equal_nan=equal_nan)
        good = bool(matches.all())
        if not good:
            finite = torch.isfinite(got) & torch.isfinite(want)
            gap = float((got - want)[finite].abs().max()) if bool(finite.any()) else math.inf
            wrong, total = int((~matches).sum()), matches.numel()
    if not good:
        detail = (f"{wrong} of {total} entries differ" + (f", by up to {gap:.3g}"
                                                          if math.isfinite(gap) else ""))
        raise CheckFailed(f"{what}: {detail}" + (f". {hint}" if hint else ""))


def expect_float(value: object, expected: float, what: str, rel_tol: float = 1e-6,
                 abs_tol: float = 0.0, hint: str = "") -> None:
    """`value` is a Python float close to `expected` (relative and absolute tolerances)."""
    __tracebackhide__ = True
    expect(type(value) is float, f"{what} should be a Python float (use float(...)), got "
                                 f"{_type_name(value)}")
    close = math.isclose(value, expected, rel_tol=rel_tol, abs_tol=abs_tol) or (
        math.isinf(expected) and value == expected)
    expect(close, f"{what} is wrong" + (f". {hint}" if hint else ""))


def expect_int(value: object, expected: int, what: str, hint: str = "") -> None:
    """`value` is a Python int (not a bool) equal to `expected`."""
    __tracebackhide__ = True
    expect(type(value) is int, f"{what} should be a Python int, got {_type_name(value)}")
    expect(value == expected, f"{what} is wrong" + (f". {hint}" if hint else ""))


def expect_raises(error: type[BaseException], call, what: str,
                  shortcuts: tuple[Shortcut, ...] = (COURSE_LIBRARY,)) -> None:
    """`call()` raises `error` (for bad input the brief says to reject); student code runs in
    `own_code(*shortcuts)`."""
    __tracebackhide__ = True
    try:
        with own_code(*shortcuts):
            call()
    except StudentCodeError as raised:
        if f"raised {error.__name__}:" in str(raised):
            return
        raise CheckFailed(f"{what} should raise {error.__name__}; {raised}") from None
    raise CheckFailed(f"{what} should raise {error.__name__}, and nothing was raised")


def expect_choice(answer: object, options: tuple[str, ...], name: str) -> None:
    """A multiple-choice answer: one of `options` (a string)."""
    __tracebackhide__ = True
    choices = ", ".join(repr(option) for option in options)
    expect(type(answer) is str and answer.strip().lower() in options,
           f"{name} should be one of {choices}, got {answer!r}")


def passed(message: str) -> None:
    """Print that a check passed (feedback lists every check's result)."""
    print(f"passed: {message}")
