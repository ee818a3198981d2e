"""Counting PyTorch operations at the dispatcher, where student code cannot hide them:
`with count_operations() as counted: linear_scan(...)`, then `counted.calls`.

A `TorchFunctionMode` counter is switched off by `torch._C.DisableTorchFunction()`; this one
uses PyTorch's profiler instead (CPU activity, in this thread), which records each ATen operator
however it was called. Work moved to another thread is not counted: tests count inside
`own_code`, which refuses threads started by the student's code.

The profiler is PyTorch's own: student code could stop it, or stop it and start another. Both
are detected: markers recorded right after the start and right before the end must both be in
the profile that this block stops, or counting fails with ForbiddenCallError. The profiler's own
log lines (written to the process's standard error) are silenced while it starts and stops.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys

import torch
from torch._C import _autograd as autograd_profiler
from torch._C._profiler import (
    ProfilerActivity,
    ProfilerConfig,
    ProfilerState,
    _ExperimentalConfig,
)

from rnncourse.grading.own_code import ForbiddenCallError


@contextlib.contextmanager
def _quiet_stderr():
    """Send file descriptor 2 to /dev/null (the profiler logs there, below Python)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _mark(name: str) -> None:
    handle = torch.ops.profiler._record_function_enter_new(name, None)
    torch.ops.profiler._record_function_exit._RecordFunction(handle)


# Operators that make, move, view or convert tensors without computing new values: every other
# operator counts as arithmetic (`count_operations.arithmetic`).
NOT_ARITHMETIC = frozenset(f"aten::{name}" for name in (
    "detach", "detach_", "alias", "view", "_unsafe_view", "reshape", "_reshape_alias",
    "as_strided", "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones",
    "ones_like", "full", "full_like", "fill_", "zero_", "lift_fresh", "lift_fresh_copy",
    "resolve_conj", "resolve_neg", "to", "_to_copy", "copy_", "clone", "contiguous", "slice",
    "select", "narrow", "expand", "expand_as", "unsqueeze", "squeeze", "t", "transpose",
    "permute", "unbind", "split", "split_with_sizes", "chunk", "cat", "stack", "flip", "roll",
    "index_select", "gather", "randn", "rand", "normal_", "uniform_", "random_", "item",
    "_local_scalar_dense", "scalar_tensor", "tensor", "numpy_T", "flatten", "unflatten",
))


class count_operations:  # noqa: N801 (used as `with count_operations() as counted:`)
    """Count the ATen operators called inside the block (`calls`), in every thread, and among
    them those that compute new values (`arithmetic`: all but `NOT_ARITHMETIC`)."""

    def __init__(self) -> None:
        self.calls = 0
        self.arithmetic = 0
        self.token = f"rnncourse-count-{secrets.token_hex(6)}"

    def __enter__(self) -> count_operations:
        if autograd_profiler._profiler_enabled():
            raise RuntimeError("a profiler is already running: operations cannot be counted")
        config = ProfilerConfig(ProfilerState.KINETO, False, False, False, False, False,
                                _ExperimentalConfig())
        activities = {ProfilerActivity.CPU}
        with _quiet_stderr():
            autograd_profiler._prepare_profiler(config, activities)
            autograd_profiler._enable_profiler(config, activities)
        _mark(f"{self.token}-start")
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        __tracebackhide__ = True
        if not autograd_profiler._profiler_enabled():
            raise ForbiddenCallError("while your code ran, the profiler that counts operations "
                                     "was stopped") from None
        _mark(f"{self.token}-end")
        with _quiet_stderr():
            result = autograd_profiler._disable_profiler()
        names = [event.name() for event in result.events()]
        if f"{self.token}-start" not in names or f"{self.token}-end" not in names:
            raise ForbiddenCallError("while your code ran, the profiler that counts operations "
                                     "was restarted") from None
        operators = [name for name in names if name.startswith("aten::")]
        self.calls = len(operators)
        self.arithmetic = sum(name not in NOT_ARITHMETIC for name in operators)
        return False


def graph_depth(tensor: torch.Tensor) -> int:
    """The number of autograd nodes on the longest path from `tensor` back to its leaves: a
    computation made of T sequential steps has a depth that grows like T."""
    if tensor.grad_fn is None:
        return 0
    depth: dict[int, int] = {}
    stack = [(tensor.grad_fn, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in depth:
            continue
        children = [child for child, _ in node.next_functions if child is not None]
        if expanded:
            depth[id(node)] = 1 + max((depth[id(child)] for child in children), default=0)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in depth)
    return depth[id(tensor.grad_fn)]
