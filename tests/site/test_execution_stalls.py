"""No page's execution waits on a reply that has already arrived (book/_ext/kernel_replies.py), and
the build's execution report shows each page's wall time beside its kernel's CPU time
(book/_ext/execution_times.py).

The stall: nbclient awaits a cell's execute_reply on the shell socket while its stand-in for the
Output widget sends a comm_msg on that socket behind pyzmq's back; a reply that arrived just before
lost its wake-up and was read only at the cell timeout (300 s). A busy second core made it likely.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session
from website import (
    MYST_NOTEBOOK_HEADER,
    ROOT,
    build_site,
    execution_report,
    execution_rows,
    write_fixture_site,
)

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import execution_times  # noqa: E402
import kernel_replies  # noqa: E402
import kernel_usage  # noqa: E402

# A page may wait this long beyond its kernel's CPU time (start-up, a busy machine); a stall
# lasts the cell timeout, 300 s.
ALLOWED_WAIT_SECONDS = execution_times.WAIT_WARNING_SECONDS
BUILDS = 5


# --- the lost wake-up, on two sockets -------------------------------------------------------

async def seconds_until_reply_is_read(send: object, poll_timeout: float) -> float:
    """Send a request, await its reply, and send a widget update just after the reply arrived
    (before the event loop has run): how long the waiting `get_msg` then takes."""
    session = Session(key=b"")
    router = zmq.Context.instance().socket(zmq.ROUTER)
    dealer = zmq.asyncio.Context.instance().socket(zmq.DEALER)
    try:
        port = router.bind_to_random_port("tcp://127.0.0.1")
        dealer.connect(f"tcp://127.0.0.1:{port}")
        channel = AsyncZMQSocketChannel(dealer, session)
        send(channel, session.msg("execute_request"))
        identities, request = session.feed_identities(router.recv_multipart())
        waiting = asyncio.ensure_future(channel.get_msg(timeout=poll_timeout))
        await asyncio.sleep(0.05)  # the poll is waiting
        session.send(router, "execute_reply", parent=session.deserialize(request)["header"],
                     ident=identities)
        time.sleep(0.2)  # the reply has arrived; the event loop has not run since
        send(channel, session.msg("comm_msg"))  # what nbclient's Output widget stand-in does
        started = time.monotonic()
        reply = await waiting
        assert reply["msg_type"] == "execute_reply"
        return time.monotonic() - started
    finally:
        dealer.close(linger=0)
        router.close(linger=0)


def seconds_on_a_fresh_event_loop(send: object, poll_timeout: float) -> float:
    """`seconds_until_reply_is_read` on a new event loop in a thread of its own: an earlier test in
    this process (a notebook client, a browser driver) may have left a loop marked as running in
    the main thread, where `asyncio.run` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, seconds_until_reply_is_read(send, poll_timeout)).result()


def test_a_reply_wakes_its_waiting_poll_although_a_send_followed_it() -> None:
    kernel_replies.install()
    seconds = seconds_on_a_fresh_event_loop(AsyncZMQSocketChannel.send, 10)
    assert seconds < 2, f"the reply was read {seconds:.1f} s after it arrived"


def test_the_scenario_loses_the_wake_up_without_the_fix() -> None:
    """Checks the test above tests something: jupyter_client's own send loses the wake-up. If this
    fails after an upgrade, the upstream bug is fixed and kernel_replies.py can go."""
    kernel_replies.install()
    unwrapped = AsyncZMQSocketChannel.send.__wrapped__
    seconds = seconds_on_a_fresh_event_loop(unwrapped, 3)
    assert seconds > 2, f"the reply was read after {seconds:.1f} s, not at the poll's timeout"


def test_the_book_loads_the_fix() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["local_extensions"].get("kernel_replies") == "book/_ext"


def test_a_page_that_waited_gets_a_line_saying_so() -> None:
    line = execution_times.wait_warning("book/01-x", wall=330.0, cpu=28.0, waiting_for_cpu=2.0)
    assert line.startswith("  ! book/01-x") and "by 302.0 s" in line, line
    assert "2.0 s of it for a CPU" in line and "300.0 s for a request" in line, line
    busy = execution_times.wait_warning("book/01-x", wall=330.0, cpu=28.0, waiting_for_cpu=310.0)
    assert "302.0 s of it for a CPU" in busy and "0.0 s for a request" in busy, busy
    assert execution_times.wait_warning("book/01-x", wall=45.0, cpu=30.0,
                                        waiting_for_cpu=None) is None


@pytest.mark.skipif(kernel_usage.resource is None, reason="no getrusage on this system")
def test_the_kernel_watch_counts_a_child_process_cpu_time() -> None:
    watch = kernel_usage.KernelWatch().start()
    burn = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)
    usage = watch.stop()
    assert 0.5 <= usage.cpu < 5, usage
    if kernel_usage.run_queue_statistics_available():
        assert usage.waiting_for_cpu is not None and usage.waiting_for_cpu >= 0, usage


# --- the stall, in whole builds -------------------------------------------------------------

WIDGET_OUTPUTS_PAGE = MYST_NOTEBOOK_HEADER + """
# Widgets with output areas

Each `interactive` draws into an `Output` widget: the build's kernel client answers every output
with a widget update to the kernel, just as the cell's reply comes back.

```{code-cell} ipython3
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

steps = np.arange(30)


def draw(rate=0.9):
    figure, axis = plt.subplots(figsize=(3, 2))
    axis.plot(steps, rate ** steps)
    plt.show()
```
""" + "".join(f"""
```{{code-cell}} ipython3
widgets.interactive(draw, rate=widgets.FloatSlider(value={rate}, min=0.5, max=1.0, step=0.05))
```
""" for rate in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)) + """
```{code-cell} ipython3
area = widgets.Output()
with area:
    print("printed into an output area")
area
```
"""
PRINTS_PAGE = MYST_NOTEBOOK_HEADER + """
# Printed results

```{code-cell} ipython3
for lag in range(0, 60, 10):
    print(f"lag {lag:2d}: gradient norm {0.9 ** lag:.4f}")
```

```{code-cell} ipython3
print("done")
```
"""
STALL_TOC = """\
format: jb-book
root: demo/index
chapters:
  - file: demo/widgets
  - file: demo/widget-outputs
  - file: demo/prints
  - file: demo/bibliography
"""


@pytest.fixture
def other_core_busy() -> Iterator[None]:
    """A busy loop in another process for the test's duration (the stall needed a busy machine)."""
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        loop.kill()
        loop.wait()


def write_stall_site(source: Path) -> Path:
    """The fixture site (website.py) with a page of widget output areas and a page that prints."""
    write_fixture_site(source)
    (source / "demo" / "widget-outputs.md").write_text(WIDGET_OUTPUTS_PAGE)
    (source / "demo" / "prints.md").write_text(PRINTS_PAGE)
    (source / "_toc.yml").write_text(STALL_TOC)
    return source


@pytest.mark.slow
@pytest.mark.usefixtures("other_core_busy")
def test_no_page_waits_beyond_its_cpu_time_in_repeated_builds(
        tmp_path: Path, pytestconfig: pytest.Config) -> None:
    source = write_stall_site(tmp_path / "source")
    pages = ["demo/widgets", "demo/widget-outputs", "demo/prints"]
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    for build in range(1, BUILDS + 1):
        completed, seconds = build_site(source, tmp_path / f"build-{build}")
        log = completed.stdout + completed.stderr
        assert completed.returncode == 0, log[-4000:]
        report = execution_report(log)
        with capture.global_and_fixture_disabled():
            print(f"\nstall check, build {build} of {BUILDS} ({seconds:.0f} s):\n{report}")
        rows = execution_rows(report)
        for page in pages:
            row = rows.get(page)
            assert row is not None and row.source == "executed" and row.status == "ok", report
            assert row.wall is not None and row.cpu is not None, f"{page}: no times\n{report}"
            assert row.wall - row.cpu <= ALLOWED_WAIT_SECONDS, (
                f"build {build}: {page} waited {row.wall - row.cpu:.0f} s beyond its kernel's "
                f"CPU time\n{report}")
