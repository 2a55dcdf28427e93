"""The chat answer widget: batched deltas out, a stop message in.

Deltas travel as numbered custom messages, coalesced to at most one per
`FLUSH_INTERVAL`, because every synced-trait write resends the whole value
(O(n^2) bytes for a growing answer) and Jupyter Server drops iopub traffic
above 1000 messages a second. The text is never a synced trait: when the
answer ends, the widget is replaced by the static copy and closed, so nothing
would read it, and sending it once more would cost a whole answer of traffic.
The front end never writes a trait: it only sends `{"type": "stop"}`, and
`{"type": "catch_up", "after": n}` when its model came to exist after delta `n`
had been sent (marimo makes front-end models late; a reloaded page makes new
ones): the reply is one delta covering everything since.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import ipywidgets  # type: ignore[import-untyped]
import traitlets

from . import marimo_support
from .reply import Reply
from .unparented_comm import create_comm
from .vocabulary import CATCH_UP, DELTA, STATUSES, STOP, Status

STATIC = Path(__file__).parent / "static"
FLUSH_INTERVAL = 0.04


class UnparentedWidget(anywidget.AnyWidget):
    """A model that headless runs do not save (see `unparented_comm`), and has no Layout.

    ipywidgets gives every DOMWidget a Layout model of its own: one more comm
    per answer, saved by headless runs, for styles our views never use. The
    front end takes a null layout as none.
    """

    layout = traitlets.Any(None, allow_none=True).tag(sync=True)

    comm: Any

    def open(self) -> None:
        """ipywidgets' `Widget.open` with our comm; our models hold no binary traits."""
        if self.comm is None:
            data = {"state": self.get_state(), "buffer_paths": []}
            metadata = {"version": ipywidgets.__protocol_version__}
            self.comm = create_comm(target_name="jupyter.widget", data=data, metadata=metadata)


class MarkdownRuntime(UnparentedWidget):
    """Puts the Markdown renderer and the styles into the page, once per kernel.

    anywidget sends a widget's whole ESM with every instance; the renderer is
    ~30x the size of the chat view, so it travels once, with this model, and
    chat views find it on the page (views render plain text until it arrives).
    """

    _esm = STATIC / "runtime.js"
    _css = STATIC / "runtime.css"


_runtime: MarkdownRuntime | None = None


def ensure_runtime() -> None:
    global _runtime
    if _runtime is None or _runtime.comm is None:
        _runtime = MarkdownRuntime()


class AnswerWidget(UnparentedWidget):
    """A live answer's model (one answer, or a comparison's columns): its front end's Stop
    runs the callbacks, and it shows as the widget view until its static copy replaces it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stop_callbacks: list[Callable[[], None]] = []
        self.on_msg(self._on_front_end_message)

    def on_stop(self, callback: Callable[[], None]) -> None:
        """`callback` may run on a kernel subshell thread: it must only be thread-safe."""
        self._stop_callbacks.append(callback)

    def _on_front_end_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        self.hear(content)

    def hear(self, content: Any) -> None:
        """A custom message from the front end (from the comm, or at once: `stop_listener`)."""
        if isinstance(content, dict) and content.get("type") == STOP:
            for callback in list(self._stop_callbacks):
                callback()

    def view_bundle(self) -> dict[str, Any]:
        """The widget-view part of a display bundle."""
        data: Any = self._repr_mimebundle_()
        if isinstance(data, tuple):
            data = data[0]
        return {k: v for k, v in (data or {}).items() if k != "text/plain"}


class ChatWidget(AnswerWidget):
    _esm = STATIC / "widget.js"

    # Lets the front end keep one text buffer per answer for all of its views.
    answer_id = traitlets.Unicode().tag(sync=True)
    status = traitlets.Enum(STATUSES, default_value="streaming").tag(sync=True)
    model_name = traitlets.Unicode("").tag(sync=True)
    conversation = traitlets.Unicode("").tag(sync=True)
    max_height = traitlets.Int(480).tag(sync=True)
    badge = traitlets.Unicode("").tag(sync=True)  # vocabulary.SOURCES
    notice = traitlets.Unicode("").tag(sync=True)
    attachments = traitlets.List(traitlets.Dict()).tag(sync=True)  # a chip for each attached value
    retrying = traitlets.Unicode("").tag(sync=True)
    error = traitlets.Dict().tag(sync=True)
    finish_reason = traitlets.Unicode("").tag(sync=True)
    usage = traitlets.Dict().tag(sync=True)
    stats = traitlets.Dict().tag(sync=True)
    # What to do when the kernel cannot hear Stop, in the words of the front end at hand.
    stop_hint = traitlets.Unicode("").tag(sync=True)

    # Views find the renderer and styles on the page, put there by the runtime model.
    uses_page_runtime: ClassVar[bool] = True

    def __init__(self, **kwargs: Any) -> None:
        if self.uses_page_runtime:
            ensure_runtime()
        super().__init__(answer_id=uuid.uuid4().hex, **kwargs)
        self._pending: dict[str, list[str]] = {"text": [], "reasoning": [], "refusal": []}
        self._seq = 0
        self._sent: list[dict[str, Any]] = []  # every delta sent, for catch-up requests
        self._pieces = 0
        self._last_flush = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._late_failure: Exception | None = None

    def hear(self, content: Any) -> None:
        if (
            isinstance(content, dict)
            and content.get("type") == CATCH_UP
            and isinstance(content.get("after"), int)
        ):
            self._catch_up(content["after"])
        else:
            super().hear(content)

    def _catch_up(self, after: int) -> None:
        """Send the deltas after `after` as one; sent from the handler, so it keeps its parent."""
        missed = self._sent[max(after, 0) :]
        if not missed:
            return
        message: dict[str, Any] = {"type": DELTA, "first": after + 1, "seq": after + len(missed)}
        message["pieces"] = missed[-1]["pieces"]
        for channel in self._pending:
            joined = "".join(delta.get(channel, "") for delta in missed)
            if joined:
                message[channel] = joined
        self.send(message)

    def push(self, *, text: str = "", reasoning: str = "", refusal: str = "") -> None:
        """Queue streamed text; it is sent at most once per `FLUSH_INTERVAL`.

        A flush that failed on the timer is raised here, in the caller's task,
        where the answer can turn it into its error card.
        """
        if self._late_failure is not None:
            self._raise_late_failure()
        self._pieces += 1
        if text:
            self._pending["text"].append(text)
        if reasoning:
            self._pending["reasoning"].append(reasoning)
        if refusal:
            self._pending["refusal"].append(refusal)
        wait = self._last_flush + FLUSH_INTERVAL - time.monotonic()
        if wait <= 0:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(wait, self._flush_later)

    def _flush_later(self) -> None:
        self._timer = None
        try:
            self.flush()
        except Exception as exc:
            self._late_failure = exc

    def _raise_late_failure(self) -> None:
        failure, self._late_failure = self._late_failure, None
        if failure is not None:
            raise failure

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._last_flush = time.monotonic()
        message: dict[str, Any] = {
            key: "".join(parts) for key, parts in self._pending.items() if parts
        }
        if not message:
            return
        for parts in self._pending.values():
            parts.clear()
        self._seq += 1
        # `pieces`: streamed pieces so far (about one token each), for a live tokens/s.
        delta = {"type": DELTA, "seq": self._seq, "pieces": self._pieces, **message}
        self._sent.append(delta)
        self.send(delta)

    def finish_with(self, reply: Reply) -> None:
        """`finish` with the reply's status, error and figures."""
        self.finish(
            reply.status,
            retrying="",
            error=reply.error or {},
            finish_reason=reply.finish_reason or "",
            usage=reply.usage or {},
            stats=reply.stats,
        )

    def finish(self, status: Status, **final: Any) -> None:
        """Send what is pending, then the final status and figures in one update.

        The status is set even if sending what was pending fails (that failure is
        raised after), so the front end never keeps showing a live answer.
        """
        self._stop_callbacks.clear()
        try:
            self.flush()
            self._raise_late_failure()
        finally:
            for parts in self._pending.values():
                parts.clear()
            self._sent.clear()  # an ended answer's views ask for nothing
            with self.hold_sync():
                for name, value in final.items():
                    setattr(self, name, value)
                self.status = status


class SelfContainedChatWidget(ChatWidget):
    """A chat model that brings the renderer and the styles itself, for marimo.

    In marimo the runtime model's code never runs (it is never displayed), each
    view lives in a shadow root of its own (page styles do not reach it, its
    `_css` does), and a model's code travels as a URL, not inline, with the
    front end's module cache keyed by the code's hash.
    """

    _esm = STATIC / "runtime.js"
    _css = STATIC / "runtime.css"
    uses_page_runtime = False


def chat_widget(**traits: Any) -> ChatWidget:
    """The chat model that works in the front end at hand."""
    if marimo_support.running_in_marimo():
        return SelfContainedChatWidget(stop_hint=marimo_support.stop_hint(), **traits)
    return ChatWidget(**traits)
