"""marimo: show an answer in its cell, and hear its widget while the cell runs.

An answer is shown with marimo's own output functions (`MarimoDisplay`), not
IPython's `display`, which marimo shims with one table of display ids per
session, installed process-wide: under `marimo run` every session's kernel is
a thread of one process, so the latest session's table answers for all, and
an earlier session's answer never got its static copy (measured); the shim's
update also replaces the cell's whole output, earlier answers of it included.
For the same reason each marimo session keeps conversations of its own
(`conversations`): one registry per process would send each viewer's questions
and answers to the model with the next viewer's (measured).

marimo's kernel handles what the front end sends one request at a time, and
running a cell is one request: a widget message (the Stop click, a catch-up
request) waits in its control queue until the cell has ended, so Stop would
never stop anything. marimo puts each widget message on two queues, though:
the control queue, and a copy on the queue it batches UI updates from (it
handles whichever copy it meets first and skips the other by its token).
While an answer streams, we take the copies from that second queue every
`POLL` seconds and hand the ones addressed to a live answer's widget to it at
once, through the widget's own comm, as marimo would. Every message's original
is still in the control queue and is handled after the cell, as before (the
answer has ended by then, so a Stop or a catch-up for it does nothing).

The batching queue is reached through the kernel's request enqueuer, which
holds it; marimo has no public way to it. Where that fails (another marimo
version), nothing is taken and the widget's Stop hint says what to do instead.
marimo is no dependency of ours and is never imported here: this runs only in
marimo's kernel, which has loaded every marimo module used (`_loaded`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import weakref
from collections.abc import Iterator
from typing import Any, TypeVar

POLL = 0.05
# The comms of the widgets streaming now, by model id, per batching queue: `marimo run`
# runs each session's kernel in a thread of its own, with its own queues, in one process.
_LIVE: dict[int, dict[str, Any]] = {}
_pollers: dict[int, asyncio.Task[None]] = {}

EDIT_HINT = "marimo can't deliver the click while this cell runs: use marimo's interrupt button."
RUN_HINT = "marimo can't deliver the click while this cell runs: the answer goes on to its end."


def _loaded(name: str) -> Any:
    """A module of marimo's that its kernel has loaded, or None."""
    return sys.modules.get(name)


class _Bundle:
    """A MIME bundle as marimo's formatters take one."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.data


class MarimoDisplay:
    """IPython's `DisplayHandle` calls, done with marimo's output of the running cell."""

    def __init__(self) -> None:
        self._index: int | None = None

    def display(self, data: dict[str, Any], raw: bool = True) -> None:
        del raw
        output = _loaded("marimo._runtime.context").get_context().execution_context.output
        self._index = len(output)
        _loaded("marimo").output.append(_Bundle(data))

    def update(self, data: dict[str, Any], metadata: Any = None, raw: bool = True) -> None:
        """Replace what `display` showed, in place; metadata has no place in marimo."""
        del metadata, raw
        if self._index is not None:
            _loaded("marimo").output.replace_at_index(_Bundle(data), self._index)


Registry = TypeVar("Registry")
# The conversations of each marimo session, by its kernel (gone with the session).
_SESSIONS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def conversations(shared: Registry) -> Registry:
    """This marimo session's conversations (a new registry like `shared`); else `shared`."""
    if not running_in_marimo():
        return shared
    kernel = _loaded("marimo._runtime.context").get_context()._kernel
    found: Registry = _SESSIONS.setdefault(kernel, type(shared)())
    return found


def display_handle() -> Any:
    """Where an answer shows under its cell: marimo's output there, else IPython's display."""
    if running_in_marimo():
        return MarimoDisplay()
    from IPython.display import DisplayHandle

    return DisplayHandle()


def running_in_marimo() -> bool:
    """Whether this runs in a marimo notebook's kernel (edit or run), not a script."""
    marimo = _loaded("marimo")
    return bool(marimo is not None and marimo.running_in_notebook())


def stop_hint() -> str:
    """What to do when the click is not heard, in what marimo's current mode offers."""
    return EDIT_HINT if _loaded("marimo").app_meta().mode == "edit" else RUN_HINT


@contextlib.contextmanager
def heard_while_running(widget: Any) -> Iterator[None]:
    """While streaming in marimo, `widget` gets its front end's messages at once."""
    if not running_in_marimo() or widget.comm is None:
        yield
        return
    batched = _batching_queue()
    if batched is None:
        yield
        return
    key = id(batched)
    live = _LIVE.setdefault(key, {})
    live[widget.model_id] = widget.comm
    poller = _pollers.get(key)
    if poller is None or poller.done():
        _pollers[key] = asyncio.get_running_loop().create_task(_poll(batched, live))
    try:
        yield
    finally:
        live.pop(widget.model_id, None)


async def _poll(batched: Any, live: dict[str, Any]) -> None:
    while live:
        _hand_over(batched, live)
        await asyncio.sleep(POLL)


def _hand_over(batched: Any, live: dict[str, Any]) -> None:
    """Take every queued copy; give a live widget its custom messages."""
    commands = _loaded("marimo._runtime.commands")
    while True:
        try:
            command = batched.get_nowait()
        except (queue.Empty, OSError, ValueError):
            return
        if not isinstance(command, commands.ModelCommand):
            continue
        comm = live.get(command.model_id)
        if comm is not None and isinstance(command.message, commands.ModelCustomMessage):
            try:
                comm.handle_msg(command.into_comm_payload())
            except Exception:
                logging.getLogger(__name__).exception("a widget message failed")


def _batching_queue() -> Any:
    """marimo's queue of UI-update copies, or None where it cannot be found."""
    try:
        context = _loaded("marimo._runtime.context").get_context()
        enqueue = context._kernel.enqueue_control_request
        cells = dict(zip(enqueue.__code__.co_freevars, enqueue.__closure__ or (), strict=True))
        found = cells["set_ui_element_queue"].cell_contents
    except Exception:
        return None
    return found if callable(getattr(found, "get_nowait", None)) else None
