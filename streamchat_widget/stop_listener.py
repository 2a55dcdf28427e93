"""Hear the Stop click (and a late view's catch-up request) on kernels that hold widget
messages back while a cell runs.

ipykernel >= 7.4 dispatches comm messages while an async cell awaits, and
7.0-7.3 with JupyterLab/Notebook 7 sends them to a subshell thread. Elsewhere
(ipykernel 6.x; 7.0-7.3 without subshells, as in VS Code; any kernel while a
synchronous cell blocks its main thread) the click waits in the shell stream
until the cell ends. So while an answer streams there, each shell message that
reaches the kernel's main thread is looked at on its way in (header and
content only, signature checked, nothing consumed): a custom message addressed
to a live answer's widget (a Stop, a catch-up request) is handed to that widget
at once. Every message, that one included, then goes on to the kernel's own
handler in its order, as before (by then the answer has ended: a second Stop
does nothing, and the front end drops a catch-up it has already applied).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol


class Hearing(Protocol):
    """A live answer's widget: what its front end sends, handled as its comm would."""

    model_id: str

    def hear(self, content: Any) -> None: ...


# The widgets of the answers streaming now, by comm id.
_LIVE: dict[str, Hearing] = {}
_tap: _Tap | None = None
_tap_users = 0


def kernel_queues_comms() -> bool:
    """Whether an awaiting async cell leaves comm messages queued (ipykernel < 7.4)."""
    try:
        release = version("ipykernel").split(".")
        return (int(release[0]), int(release[1])) < (7, 4)
    except (PackageNotFoundError, ValueError, IndexError):
        return False


@contextlib.contextmanager
def heard_at_once(widget: Hearing) -> Iterator[None]:
    """While streaming: `widget` hears its front end at once, even where the kernel queues it.

    From the kernel's main thread (the async cell) the tap is put on the shell
    stream where the kernel needs it; from a worker thread (the synchronous
    fallback) `pumping()` on the main thread does it.
    """
    _LIVE[widget.model_id] = widget
    on_main = threading.current_thread() is threading.main_thread()
    try:
        with tapped() if on_main and kernel_queues_comms() else contextlib.nullcontext():
            yield
    finally:
        _LIVE.pop(widget.model_id, None)


@contextlib.contextmanager
def tapped() -> Iterator[Callable[[], None]]:
    """Put the tap on the main thread's shell stream; yield a pump for blocked waits.

    The pump reads what has arrived on the stream into the kernel's own queue
    (as the kernel's loop would, in order), so the tap sees a Stop while the
    main thread is blocked in a synchronous cell. Without a kernel both are no-ops.
    """
    global _tap, _tap_users
    if _tap is None:
        _tap = _Tap.install()
    _tap_users += 1
    try:
        yield _tap.pump if _tap is not None else _nothing
    finally:
        _tap_users -= 1
        if _tap_users == 0 and _tap is not None:
            _tap.remove()
            _tap = None


def _nothing() -> None:
    return None


class _Tap:
    """Our look at each message on its way from a ZMQ stream to the kernel's handler."""

    def __init__(self, stream: Any, session: Any) -> None:
        self.stream = stream
        self.session = session
        self.handler = stream._recv_callback
        self.copy = stream._recv_copy

    @classmethod
    def install(cls) -> _Tap | None:
        stream, session = _main_shell_stream()
        if stream is None or getattr(stream, "_recv_callback", None) is None:
            return None
        tap = cls(stream, session)
        stream.on_recv(tap.receive, copy=tap.copy)
        return tap

    def remove(self) -> None:
        if self.stream._recv_callback == self.receive:
            self.stream.on_recv(self.handler, copy=self.copy)

    def receive(self, frames: list[Any]) -> Any:
        addressed = _addressed(self.session, frames)
        if addressed is not None:
            widget, content = addressed
            widget.hear(content)
        return self.handler(frames)

    def pump(self) -> None:
        import zmq

        self.stream.flush(zmq.POLLIN)


def _main_shell_stream() -> tuple[Any, Any]:
    """The stream that hands shell messages to the kernel's main thread, and the session."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None, None
    kernel = getattr(get_ipython(), "kernel", None)
    if kernel is None or getattr(kernel, "session", None) is None:
        return None, None
    channel_thread = getattr(kernel, "shell_channel_thread", None)
    if channel_thread is not None:  # ipykernel 7: the channel thread forwards to the main thread
        pair = channel_thread.manager.get_shell_channel_to_subshell_pair(None)
        return pair.to_stream, kernel.session
    return getattr(kernel, "shell_stream", None), kernel.session


def _addressed(session: Any, frames: list[Any]) -> tuple[Hearing, Any] | None:
    """The live answer's widget a message is for, and what it says, if it is one of ours.

    Peeks without consuming: `deserialize(content=False)` checks the signature
    but does not record it, so the kernel's own reading later is unaffected.
    """
    if not _LIVE:
        return None
    try:
        _idents, parts = session.feed_identities(frames, copy=False)
        message = session.deserialize(parts, content=False, copy=False)
        if message["header"].get("msg_type") != "comm_msg":
            return None
        content = session.unpack(message["content"])
    except Exception:
        return None
    data = content.get("data") if isinstance(content, dict) else None
    if not isinstance(data, dict) or data.get("method") != "custom":
        return None
    widget = _LIVE.get(str(content.get("comm_id")))
    return None if widget is None else (widget, data.get("content"))
