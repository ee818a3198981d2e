"""Kernels forked from a warm template (`rnncourse.grading.warm_kernels`) are fresh processes:
a new process for each notebook, nothing of an earlier notebook in it, torch already imported,
and interrupts, deaths and restarts handled as for a kernel started from scratch. (The grading
tests in test_grading.py and test_grading_paths.py grade with these kernels too.)"""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbformat.v4 import new_code_cell, new_notebook

from rnncourse.grading import warm_kernels
from rnncourse.grading.warm_kernels import ForkedKernelManager, ForkedProcess

pytestmark = pytest.mark.skipif(not warm_kernels.fork_is_safe(), reason="kernels fork on Linux")

PROBE = ("import os, sys\nprint(os.getpid(), os.getppid(), os.getsid(0), 'torch' in sys.modules,"
         " 'LEFT_BEHIND' in globals(), os.getcwd())\nLEFT_BEHIND = 1")


def run(tmp_path, *sources: str, timeout: int = 20) -> tuple[nbformat.NotebookNode, NotebookClient]:
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            kernel_manager_class=ForkedKernelManager,
                            resources={"metadata": {"path": str(tmp_path)}})
    return client.execute(), client


def probe(notebook: nbformat.NotebookNode, index: int = 0) -> list[str]:
    return notebook.cells[index].outputs[0]["text"].split()


def test_each_notebook_gets_a_new_warm_process(tmp_path) -> None:
    first, second = (probe(run(tmp_path, PROBE)[0]) for _ in range(2))
    template = warm_kernels._shared_template().process.pid
    for pid, parent, session, torch_loaded, left_behind, cwd in (first, second):
        assert int(parent) == template != int(pid) != os.getpid()
        assert int(session) == int(pid), "the kernel leads a session of its own"
        assert (torch_loaded, left_behind, cwd) == ("True", "False", str(tmp_path))
    assert first[0] != second[0]


def test_a_stuck_cell_is_interrupted_and_a_dead_kernel_restarts(tmp_path) -> None:
    notebook = new_notebook(cells=[new_code_cell("import time\nwhile True:\n    time.sleep(0.01)"),
                                   new_code_cell(PROBE), new_code_cell("import os\nos._exit(3)")])
    client = NotebookClient(notebook, timeout=3, kernel_name="python3", interrupt_on_timeout=True,
                            allow_errors=True, kernel_manager_class=ForkedKernelManager,
                            resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        client.execute_cell(notebook.cells[0], 0)
        assert notebook.cells[0].outputs[-1]["ename"] == "KeyboardInterrupt"
        client.execute_cell(notebook.cells[1], 1)  # the interrupted kernel goes on
        before = int(probe(notebook, 1)[0])
        with pytest.raises(DeadKernelError):
            client.execute_cell(notebook.cells[2], 2)
        assert client.km.provisioner.process.poll() is not None
        run_sync(client.km.restart_kernel)(now=True)
        run_sync(client.kc.wait_for_ready)(timeout=30)
        notebook.cells[1].outputs = []
        client.execute_cell(notebook.cells[1], 1)
        after = probe(notebook, 1)
        assert int(after[0]) != before and after[4] == "False", "a fresh kernel after a restart"


def test_without_fork_the_kernel_starts_as_usual(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(warm_kernels, "fork_is_safe", lambda: False)
    monkeypatch.setattr(warm_kernels, "_template", None)
    pid, parent, _, torch_loaded, *_ = probe(run(tmp_path, PROBE)[0])
    assert int(parent) == os.getpid() != int(pid), "started by this process, not forked"
    assert torch_loaded == "False", "a kernel started afresh has not imported torch yet"


def test_a_forked_process_reports_its_end() -> None:
    process = ForkedProcess(2 ** 22 + 12345)  # no such process
    assert process.poll() is not None and process.wait(timeout=1) == process.returncode


def test_a_forked_kernel_sees_the_paths_of_one_started_afresh(tmp_path, monkeypatch) -> None:
    show = "import os, sys\nprint(repr((sys.path, os.getcwd(), sorted(os.environ))))"
    forked = run(tmp_path, show)[0].cells[0].outputs[0]["text"]
    monkeypatch.setattr(warm_kernels, "fork_is_safe", lambda: False)
    monkeypatch.setattr(warm_kernels, "_template", None)
    fresh = run(tmp_path, show)[0].cells[0].outputs[0]["text"]
    assert forked == fresh
