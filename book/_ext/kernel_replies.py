"""Let a kernel's reply wake the page executor as soon as it arrives, even after a widget update.

The stall this prevents: a page whose code shows a widget with an output area
(`ipywidgets.interactive` draws its figure into an `Output` widget) sometimes waits exactly the
cell timeout (`execute.timeout` in _config.yml) with both the kernel and the build idle, then goes
on as if nothing happened. The cause lies in how nbclient, jupyter_client and pyzmq meet:

1. nbclient waits for a cell's `execute_reply` by awaiting a poll of the shell socket, a
   `zmq.asyncio` socket, with the cell timeout as the poll's timeout.
2. Meanwhile nbclient's stand-in for the front end's Output widget answers each output the widget
   captures with a `comm_msg` to the kernel, sent on that same shell socket.
3. jupyter_client's `Session.send` sends through a blocking shadow of the asyncio socket, behind
   pyzmq's back.
4. A zmq socket tells an event loop that messages are waiting through an edge-triggered file
   descriptor, and any operation on the socket, a send included, takes the pending notification
   off it. When the kernel's `execute_reply` has arrived just before the widget update is sent, the
   send takes away the only wake-up the reply would have caused. The poll sleeps until its
   timeout, then finds the reply waiting and returns it: the page is "ok", 300 s late.

A busy machine makes the window wider (client and kernel interleave on one core), which is when
the stall was seen. pyzmq re-checks an asyncio socket's events, and wakes its waiting polls,
whenever `zmq.EVENTS` is read through that socket: that is its way to recover from other users of
the notification. So after each send on an asyncio channel this module reads `zmq.EVENTS` through
the asyncio socket; a reply that already waits then resolves the poll at once.

Upstream, unfixed in the latest releases (jupyter_client 8.10.0, nbclient 0.11.0, pyzmq 27.3.0):
jupyter/nbclient#312 (PR #311) and jupyter/jupyter_client#1059. The page executions run inside
the Sphinx process, where nothing configures the kernel client that myst-nb's execution creates,
so the channel's `send` is wrapped here, once, when the extension loads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from sphinx.application import Sphinx

WRAPPED = "_rnncourse_rechecks_events"


def recheck_events(socket: Any) -> None:
    """Read `zmq.EVENTS` through an asyncio socket so pyzmq wakes whatever awaits it."""
    if isinstance(socket, zmq.asyncio.Socket) and not socket.closed:
        socket.get(zmq.EVENTS)


def send_then_recheck(send: Callable[[AsyncZMQSocketChannel, dict], None]
                      ) -> Callable[[AsyncZMQSocketChannel, dict], None]:
    """`send`, followed by a re-check of the channel socket's events."""

    @functools.wraps(send)
    def send_and_recheck(channel: AsyncZMQSocketChannel, msg: dict[str, Any]) -> None:
        send(channel, msg)
        recheck_events(channel.socket)

    setattr(send_and_recheck, WRAPPED, True)
    return send_and_recheck


def install() -> None:
    """Wrap `AsyncZMQSocketChannel.send` (once, however often the extension is loaded)."""
    if not getattr(AsyncZMQSocketChannel.send, WRAPPED, False):
        AsyncZMQSocketChannel.send = send_then_recheck(AsyncZMQSocketChannel.send)


def setup(app: Sphinx) -> dict:
    install()
    return {"parallel_read_safe": True, "parallel_write_safe": True}
