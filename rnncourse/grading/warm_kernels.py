"""Kernels forked from a warm process: each submission still runs in a fresh kernel process, but
without paying for starting Python and importing torch, numpy and IPython every time.

A grading worker starts one *template* process (`python -m rnncourse.grading.warm_kernels`)
that imports what every grading kernel needs (`WARM_MODULES`) and then only waits. For each
kernel that nbclient asks for, the template forks: the child starts a new session, takes the
kernel's working folder and environment, and becomes `python -m ipykernel_launcher -f
CONNECTION_FILE`, as jupyter_client would have started it. So every kernel is a new process
with nothing of any other submission in it: a copy of the template as it was after its imports,
with no cell ever run in it. The template holds no zmq context, no threads and no state of its
own (it never runs notebook code), so what a child starts from is the same every time.

`ForkedKernelManager` is a jupyter_client kernel manager whose kernels come from the template
(`GuardedExecute.kernel_manager_class`; `rnncourse grade` sets it). Interrupts, kills, restarts
and time limits work as for any local kernel: the manager knows the kernel's process id and
process group. Where fork is not safe (not Linux), where the kernel command is not this
interpreter's `ipykernel_launcher`, or when the template cannot start, the kernel is launched
as jupyter_client does: the same kernel, only slower to start.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

# Imported once in the template, so a forked kernel finds them loaded.
WARM_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython", "numpy", "torch",
                "matplotlib")


def fork_is_safe() -> bool:
    """Whether kernels may be forked here: Linux only (macOS's system libraries break after a
    fork, and Windows has no fork)."""
    return sys.platform.startswith("linux")


class _Template:
    """The warm template process and the pipe to ask it for a kernel."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rnncourse.grading.warm_kernels"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.lock = threading.Lock()
        ready = self.process.stdout.readline()
        if json.loads(ready or "{}").get("ready") is not True:
            raise RuntimeError("the warm kernel template did not start")

    def fork(self, cmd: list[str], cwd: str, env: dict[str, str]) -> int:
        with self.lock:
            self.process.stdin.write(json.dumps({"cmd": cmd, "cwd": cwd, "env": env}) + "\n")
            self.process.stdin.flush()
            answer = json.loads(self.process.stdout.readline() or "{}")
        if "pid" not in answer:
            raise RuntimeError(f"the warm kernel template gave no kernel: {answer}")
        return answer["pid"]

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()


_template: _Template | None = None
_template_failed = False
_template_lock = threading.Lock()


def _shared_template() -> _Template | None:
    """This process's template (started on first use), or None where there can be none."""
    global _template, _template_failed
    with _template_lock:
        if _template is None and not _template_failed and fork_is_safe():
            try:
                _template = _Template()
                atexit.register(_template.close)
            except Exception:  # no template: kernels are launched the usual way
                _template_failed = True
        return _template


class ForkedProcess:
    """What jupyter_client needs of a kernel's process (as `subprocess.Popen`), for a kernel
    forked by the template: the template reaps it at once, so it is alive while its id
    exists."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -signal.SIGKILL  # the exit status went to the template
            except PermissionError:  # the id was reused by another user's process
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _is_plain_ipykernel(cmd: list[str]) -> bool:
    return (len(cmd) >= 3 and Path(cmd[0]).resolve() == Path(sys.executable).resolve()
            and cmd[1:3] == ["-m", "ipykernel_launcher"])


class ForkedProvisioner(LocalProvisioner):
    """Launches the kernel by forking the template (see the module docstring)."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        template = _shared_template() if _is_plain_ipykernel(cmd) else None
        if template is None:
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or Path.cwd())
        env = dict(kwargs.get("env") or os.environ)
        # As jupyter_client's launcher; the kernel then exits when its template does.
        env["JPY_PARENT_PID"] = str(os.getpid())
        self.process = ForkedProcess(template.fork(cmd, cwd, env))
        self.pid = self.pgid = self.process.pid  # the kernel leads a session of its own
        self.cwd = cwd
        return self.connection_info


class ForkedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels are forked from the warm template."""

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            import uuid

            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = ForkedProvisioner(kernel_id=self.kernel_id,
                                                 kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def _become_kernel(request: dict) -> None:
    """In a forked child: become `python -m ipykernel_launcher ...` as the request asks."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel's subprocesses are its own
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # as jupyter_client: the kernel's own output goes nowhere
        os.dup2(null, fd)
    os.close(null)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if request.get("own_folder") in sys.path:  # IPython puts the kernel's folder in front
        sys.path.remove(request["own_folder"])
    import ipykernel_launcher
    from ipykernel import kernelapp

    sys.argv = [ipykernel_launcher.__file__, *request["cmd"][3:]]
    kernelapp.launch_new_instance()


def _reap(*_) -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def serve() -> None:
    """The template: import `WARM_MODULES`, then fork a kernel for each request on stdin."""
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # a kernel without it imports nothing more than usual
            pass
    # Kernels are reaped as soon as they exit (so their CPU time counts as the template's
    # children's, as that of kernels started by jupyter_client counts as the worker's).
    signal.signal(signal.SIGCHLD, _reap)
    answers = sys.stdout
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    # The folder `python -m` put first on sys.path (none with -P or PYTHONSAFEPATH).
    own_folder = sys.path[0] if sys.path and sys.path[0] in ("", os.getcwd()) else None
    for line in sys.stdin:
        request = {**json.loads(line), "own_folder": own_folder}
        pid = os.fork()
        if pid == 0:
            try:
                _become_kernel(request)
            finally:
                os._exit(0)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()


if __name__ == "__main__":
    serve()
