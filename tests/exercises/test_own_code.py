"""`own_code` and `count_operations`: what the exercises' tests use to see which library
functions a student's code calls, and how many operations it makes, however it calls them."""

from __future__ import annotations

import functools
import sys
import threading

import pytest
import torch

from rnncourse.grading.checks import (
    CLIPPING,
    COURSE_LIBRARY,
    DROPOUT,
    LSTM_CELL,
    NORMALIZATION,
    CheckFailed,
    ForbiddenCallError,
    StudentCodeError,
    count_operations,
    expect_close,
    expect_float,
    expect_raises,
    graph_depth,
    own_code,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

X, H, C = torch.randn(4, 3), torch.randn(4, 5), torch.randn(4, 5)
WEIGHTS = [p.detach() for p in torch.nn.LSTMCell(3, 5).parameters()]


def own_lstm_cell(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
    h, c = state
    i, f, g, o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=-1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_next.tanh(), c_next


def in_a_thread(function):
    results = []

    def run():
        try:
            results.append(function())
        except ForbiddenCallError as error:  # raised by the watched kernel, in that thread
            results.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return results[0] if results else None


def disabled_torch_function():
    with torch._C.DisableTorchFunction():
        return list(map(torch.lstm_cell, [X], [(H, C)], *[[w] for w in WEIGHTS]))[0]


def inference_mode():
    with torch.inference_mode():
        return torch.lstm_cell(X, (H, C), *WEIGHTS)


SHORTCUTS = {
    "direct": lambda: torch.lstm_cell(X, (H, C), *WEIGHTS),
    "torch._VF": lambda: torch._VF.lstm_cell(X, (H, C), *WEIGHTS),
    "torch.ops": lambda: torch.ops.aten.lstm_cell(X, [H, C], *WEIGHTS),
    "partial": lambda: functools.partial(torch.lstm_cell, X, (H, C))(*WEIGHTS),
    "DisableTorchFunction and map": disabled_torch_function,
    "inference mode": inference_mode,
    "module": lambda: torch.nn.LSTMCell(3, 5)(X, (H, C)),
    "swallowed": lambda: _swallowed(),
    "another thread": lambda: in_a_thread(lambda: torch.lstm_cell(X, (H, C), *WEIGHTS)),
}


def _swallowed():
    try:
        return torch.lstm_cell(X, (H, C), *WEIGHTS)
    except Exception:
        return own_lstm_cell(X, (H, C), *WEIGHTS)


@pytest.mark.parametrize("how", SHORTCUTS)
def test_a_forbidden_operator_is_caught_however_it_is_called(how: str) -> None:
    with pytest.raises(ForbiddenCallError, match="torch.lstm_cell"):
        with own_code(LSTM_CELL):
            SHORTCUTS[how]()
    # Outside the block the operator works again.
    torch.testing.assert_close(torch.lstm_cell(X, (H, C), *WEIGHTS)[1],
                               own_lstm_cell(X, (H, C), *WEIGHTS)[1], atol=1e-6, rtol=1e-5)


def test_own_code_passes_and_leaves_no_trace() -> None:
    profile = sys.getprofile()
    with own_code(LSTM_CELL, NORMALIZATION, CLIPPING, COURSE_LIBRARY):
        h_next, _ = own_lstm_cell(X, (H, C), *WEIGHTS)
    assert h_next.shape == (4, 5)
    assert sys.getprofile() is profile and threading.getprofile() is None
    assert "own_code" not in torch._C._dispatch_dump("aten::lstm_cell")


def test_python_functions_and_the_course_library_are_caught() -> None:
    parameter = torch.nn.Parameter(torch.ones(3))
    parameter.grad = torch.ones(3)
    with pytest.raises(ForbiddenCallError, match="clip_grad"):
        with own_code(CLIPPING):
            torch.nn.utils.clip_grad_norm_([parameter], 1.0)
    from rnncourse.training.diagnostics import jacobian_norm_bound

    with pytest.raises(ForbiddenCallError, match="rnncourse.*jacobian_norm_bound"):
        with own_code(COURSE_LIBRARY):
            jacobian_norm_bound(torch.eye(2), 3)
    with pytest.raises(ForbiddenCallError, match="layer_norm"):
        with own_code(NORMALIZATION):
            torch.nn.functional.layer_norm(X, (3,))


SEQUENCES = torch.randn(2, 5, 3)
DROPOUTS = {
    "F.dropout": lambda: torch.nn.functional.dropout(SEQUENCES, 0.5),
    "torch.dropout": lambda: torch.dropout(SEQUENCES, 0.5, True),
    "F.dropout1d on (batch, features, T)": lambda: torch.nn.functional.dropout1d(
        SEQUENCES.transpose(1, 2), 0.5),
    "F.dropout2d": lambda: torch.nn.functional.dropout2d(SEQUENCES.unsqueeze(-1), 0.5),
    "F.alpha_dropout": lambda: torch.nn.functional.alpha_dropout(SEQUENCES, 0.5, True),
    "F.feature_alpha_dropout": lambda: torch.nn.functional.feature_alpha_dropout(
        SEQUENCES, 0.5, True),
    "nn.Dropout": lambda: torch.nn.Dropout(0.5)(SEQUENCES),
    "torch.ops.aten.native_dropout": lambda: torch.ops.aten.native_dropout(SEQUENCES, 0.5, True),
}


@pytest.mark.parametrize("how", DROPOUTS)
def test_dropout_is_caught_in_every_form(how: str) -> None:
    with pytest.raises(ForbiddenCallError, match="dropout"):
        with own_code(DROPOUT):
            DROPOUTS[how]()
    mask = torch.bernoulli(torch.full((2, 1, 3), 0.5))  # drawing a mask yourself is allowed
    with own_code(DROPOUT):
        assert (SEQUENCES * mask / 0.5).shape == SEQUENCES.shape


def test_importing_the_course_library_is_named_as_an_import() -> None:
    """A module's own set-up code runs at its first import: the message says the student
    imported the library, not that they called whatever that set-up runs."""
    import rnncourse.models
    import rnncourse.models.chunked_scan as imported_before

    del sys.modules["rnncourse.models.chunked_scan"]
    try:
        with pytest.raises(ForbiddenCallError, match="imported the course library") as caught:
            with own_code(COURSE_LIBRARY):
                exec("import rnncourse.models.chunked_scan", {})
        assert "called" not in str(caught.value)
    finally:  # the module as every other test knows it
        sys.modules["rnncourse.models.chunked_scan"] = imported_before
        rnncourse.models.chunked_scan = imported_before


def test_allowed_course_functions() -> None:
    from rnncourse.data import adding_problem

    with own_code(COURSE_LIBRARY, allow=(adding_problem,)):
        inputs, _ = adding_problem(2, 5, seed=0)
    assert inputs.shape == (2, 5, 2)


def test_compiled_code_called_through_ctypes_is_caught() -> None:
    import ctypes

    from rnncourse.models.scan_kernel import SOURCE, scan_kernel_path

    libc = ctypes.CDLL(None)
    # Loading a library or looking up a function in one is caught. (Calling a function looked
    # up before the block raises no audit event: no hook can see it.)
    with pytest.raises(ForbiddenCallError, match=r"ctypes \(ctypes.dlsym\)"):
        with own_code(COURSE_LIBRARY):
            libc.labs(-3)
    # A library loaded inside the block (here the course's kernel scan, which no file holds).
    assert scan_kernel_path(torch.zeros(1)) == "C kernel" and SOURCE.exists()
    with pytest.raises(ForbiddenCallError, match=r"ctypes \(ctypes.dlopen\)"):
        with own_code(COURSE_LIBRARY):
            ctypes.CDLL("libm.so.6")
    assert libc.abs(-3) == 3  # outside the block, as before


def test_switching_the_watch_off_is_caught() -> None:
    def unprofile():
        sys.setprofile(None)

    with pytest.raises(ForbiddenCallError, match="profile function"):
        with own_code(COURSE_LIBRARY):
            unprofile()
    assert sys.getprofile() is None


def test_modes_and_global_state_left_behind_are_undone() -> None:
    state = torch.get_rng_state()
    with pytest.raises(ForbiddenCallError, match="torch function mode"):
        with own_code():
            torch.overrides.TorchFunctionMode().__enter__()
    assert torch._C._len_torch_function_stack() == 0
    with own_code():
        torch.manual_seed(123)
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(False)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_default_dtype() == torch.float32 and torch.is_grad_enabled()


def test_student_errors_become_one_clear_message() -> None:
    def broken(x):
        return x @ x

    with pytest.raises(StudentCodeError, match="raised RuntimeError: mat1 and mat2"):
        with own_code():
            broken(X)


def test_expectations_check_exact_types() -> None:
    class Anything(torch.Tensor):
        pass

    with pytest.raises(CheckFailed, match="should be a torch.Tensor, got Anything"):
        expect_close(torch.zeros(2).as_subclass(Anything), torch.zeros(2), "the result")
    with pytest.raises(CheckFailed, match="2 of 2 entries differ, by up to 1"):
        expect_close(torch.ones(2), torch.zeros(2), "the result")
    with pytest.raises(CheckFailed, match="Python float"):
        expect_float(torch.tensor(1.0), 1.0, "the rate")

    def accepts(value):
        return value

    with pytest.raises(CheckFailed, match="should raise ValueError, and nothing was raised"):
        expect_raises(ValueError, lambda: accepts(-1), "accepts(-1)")


def scan(a, b, h0):
    values, coefficients, shift = torch.cat([a[:1] * h0 + b[:1], b[1:]]), a, 1
    while shift < a.shape[0]:
        values = torch.cat([values[:shift], coefficients[shift:] * values[:-shift]
                            + values[shift:]])
        coefficients = torch.cat([coefficients[:shift],
                                  coefficients[shift:] * coefficients[:-shift]])
        shift *= 2
    return values


def hidden_loop(a, b, h0):
    with torch._C.DisableTorchFunction():
        h, states = h0, []
        for a_t, b_t in zip(a, b, strict=True):
            h = a_t * h + b_t
            states.append(h)
        return torch.stack(states)


def test_operations_are_counted_at_the_dispatcher() -> None:
    a, b, h0 = torch.rand(1024, 4, requires_grad=True), torch.randn(1024, 4), torch.zeros(4)
    with count_operations() as scanned:
        fast = scan(a, b, h0)
    with count_operations() as looped:
        slow = hidden_loop(a, b, h0)
    assert scanned.calls < 400 < 3000 < looped.calls
    assert graph_depth(fast) < 60 < 1000 < graph_depth(slow)
    assert 10 <= scanned.arithmetic < scanned.calls  # the products and sums of 10 rounds


def test_work_done_outside_pytorch_counts_no_arithmetic() -> None:
    a = torch.rand(1024, 4)
    with count_operations() as counted:
        values = a.detach().numpy().cumsum(0)  # NumPy's work: invisible to the dispatcher
        result = torch.from_numpy(values).reshape(1024, 4).clone().contiguous()
        torch.zeros(4), torch.cat([result[:1], result[1:]])
    assert counted.calls > 0 and counted.arithmetic == 0
    with count_operations() as counted:
        torch.addcmul(a, a, a) * 2
    assert counted.arithmetic == 2


def test_stopping_the_counter_is_caught() -> None:
    with pytest.raises(ForbiddenCallError, match="stopped"):
        with count_operations():
            torch._C._autograd._disable_profiler()
    with count_operations() as counted:  # and counting works again afterwards
        torch.ones(2) + 1
    assert counted.calls >= 1


def test_a_worker_thread_started_before_is_refused() -> None:
    import queue

    jobs: queue.Queue = queue.Queue()
    worker = threading.Thread(target=lambda: jobs.get(), daemon=True)  # waits for work to do
    worker.start()
    try:
        with pytest.raises(ForbiddenCallError, match="thread running notebook code"):
            with own_code():
                pass
    finally:
        jobs.put(None)
        worker.join()
