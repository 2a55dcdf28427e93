"""marimo: hear our widgets' messages while the cell that streams the answer runs.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
from collections.abc import Iterator
from typing import Any

POLL = 0.05
# The comms of the widgets streaming now, by model id.
_LIVE: dict[str, Any] = {}
_poller: asyncio.Task[None] | None = None

EDIT_HINT = "marimo can't deliver the click while this cell runs: use marimo's interrupt button."
RUN_HINT = "marimo can't deliver the click while this cell runs: the answer goes on to its end."


def running_in_marimo() -> bool:
    """Whether this runs in a marimo notebook's kernel (edit or run), not a script."""
    marimo = sys.modules.get("marimo")
    return bool(marimo is not None and marimo.running_in_notebook())


def stop_hint() -> str:
    """What to do when the click is not heard, in what marimo's current mode offers."""
    from marimo._runtime.context.utils import get_mode

    return EDIT_HINT if get_mode() == "edit" else RUN_HINT


@contextlib.contextmanager
def heard_while_running(widget: Any) -> Iterator[None]:
    """While streaming in marimo, `widget` gets its front end's messages at once."""
    global _poller
    if not running_in_marimo() or widget.comm is None:
        yield
        return
    batched = _batching_queue()
    if batched is None:
        yield
        return
    _LIVE[widget.model_id] = widget.comm
    if _poller is None or _poller.done():
        _poller = asyncio.get_running_loop().create_task(_poll(batched))
    try:
        yield
    finally:
        _LIVE.pop(widget.model_id, None)


async def _poll(batched: Any) -> None:
    while _LIVE:
        _hand_over(batched)
        await asyncio.sleep(POLL)


def _hand_over(batched: Any) -> None:
    """Take every queued copy; give a live widget its custom messages."""
    from marimo._runtime.commands import ModelCommand, ModelCustomMessage

    while True:
        try:
            command = batched.get_nowait()
        except (queue.Empty, OSError, ValueError):
            return
        if not isinstance(command, ModelCommand):
            continue
        comm = _LIVE.get(command.model_id)
        if comm is not None and isinstance(command.message, ModelCustomMessage):
            try:
                comm.handle_msg(command.into_comm_payload())
            except Exception:
                logging.getLogger(__name__).exception("a widget message failed")


def _batching_queue() -> Any:
    """marimo's queue of UI-update copies, or None where it cannot be found."""
    try:
        from marimo._runtime.context import get_context

        enqueue = get_context()._kernel.enqueue_control_request  # type: ignore[attr-defined]
        cells = dict(zip(enqueue.__code__.co_freevars, enqueue.__closure__ or (), strict=True))
        found = cells["set_ui_element_queue"].cell_contents
    except Exception:
        return None
    return found if callable(getattr(found, "get_nowait", None)) else None
