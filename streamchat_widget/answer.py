"""One answer, end to end: a source's events into a displayed widget, then the static copy.

The caller awaits `answer()` until the answer ends, so Run All keeps order and
headless runs capture whole answers. The stream runs as an inner task: the Stop
click cancels that task, and the answer ends stopped. Cancelling the caller (a
kernel interrupt, `asyncio.wait_for`, a `TaskGroup`) stops the stream the same
way; `answer()` then hands that cancellation back beside the reply, so the
caller keeps the reply first and re-raises it after. Whatever fails, the
answer ends in `_finish`, the one place that turns failures into the error card.
Where no front end can show a widget, the answer goes to the terminal instead
(`terminal.TerminalView`), through the same steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import static_copy
from .accumulator import Accumulator
from .attachments import chips_line
from .endpoint import DEFAULT_READ_TIMEOUT
from .marimo_support import display_handle, heard_while_running
from .recording import SESSION, Recorder, Recording
from .reply import Reply
from .request import sent_options
from .source import Source, open_source
from .stop_listener import heard_at_once
from .stream import Event, ReasoningDelta, RefusalDelta, StreamError, TextDelta, clean_text
from .terminal import TerminalView, can_show_widgets
from .vocabulary import DONE, ERROR, STOPPED, Status
from .widget import ChatWidget, chat_widget

__all__ = ["Answered", "Reply", "answer"]

INTERRUPT_POLL = 0.2
# Stop functions of the answers still streaming, by the cell that started them.
_LIVE_BY_CELL: dict[str, Callable[[], None]] = {}


@dataclass
class Answered:
    """The reply, and the caller's cancellation that ended it (to re-raise), if any."""

    reply: Reply
    cancelled: asyncio.CancelledError | None = None


class View(Protocol):
    """Where an answer shows: the widget under the cell, or the terminal."""

    def push(self, *, text: str = "", reasoning: str = "", refusal: str = "") -> None: ...
    def retrying(self, attempt: int) -> None: ...
    def show(self, reply: Reply, host: str, options: dict[str, Any]) -> None: ...
    def show_plainly(self, reply: Reply, host: str) -> None: ...
    def stoppable(self, stop: Callable[[], None]) -> contextlib.AbstractContextManager[None]: ...


class WidgetView:
    """The live widget under the cell; at the end, its static copy in its place."""

    def __init__(self, widget: ChatWidget, model: str) -> None:
        self.widget = widget
        self.handle = display_handle()
        self.handle.display(
            {**widget.view_bundle(), "text/plain": f"[streaming answer from {model}]"}, raw=True
        )

    def push(self, *, text: str = "", reasoning: str = "", refusal: str = "") -> None:
        self.widget.push(text=text, reasoning=reasoning, refusal=refusal)

    def retrying(self, attempt: int) -> None:
        self.widget.retrying = f"retrying… (attempt {attempt + 1})"

    @contextlib.contextmanager
    def stoppable(self, stop: Callable[[], None]) -> Iterator[None]:
        """The Stop click calls `stop` (thread-safe), on every kernel (see `stop_listener`)."""
        self.widget.on_stop(stop)
        with heard_at_once(self.widget), heard_while_running(self.widget):
            yield

    def show(self, reply: Reply, host: str, options: dict[str, Any]) -> None:
        self.widget.finish_with(reply)
        data, metadata = static_copy.bundle(reply, host, options)
        self.handle.update(data, metadata=metadata, raw=True)
        self.widget.close()

    def show_plainly(self, reply: Reply, host: str) -> None:
        """After a failed `show`, each step on its own: the widget never stays live.

        Where even the display cannot be replaced, the widget stays, showing the card.
        """
        with contextlib.suppress(Exception):
            self.widget.finish(ERROR, retrying="", error=reply.error or {})
        try:
            data, _ = static_copy.bundle(reply, host, {})
            self.handle.update(data, raw=True)
        except Exception:
            try:
                self.handle.update(
                    {"text/plain": clean_text(static_copy.to_plain(reply))}, raw=True
                )
            except Exception:
                return
        with contextlib.suppress(Exception):
            self.widget.close()


@dataclass
class AnswerContext:
    """One answer's parts, from its start to its finish."""

    request: Mapping[str, Any]
    source: Source
    view: View
    conversation: str | None
    notice: str
    acc: Accumulator = field(default_factory=Accumulator)
    recorder: Recorder | None = None
    recording: Recording | None = None
    attachments: list[dict[str, str]] = field(default_factory=list)


async def answer(
    request: Mapping[str, Any],
    *,
    notice: str = "",
    conversation: str | None = None,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    max_height: int = 480,
    cell_id: str | None = None,
    attachments: list[dict[str, str]] | None = None,
    make_view: Callable[[Source, str], View] | None = None,
) -> Answered:
    """Stream one chat completion into a new widget under the cell.

    A new answer from a cell stops that cell's answer if it is still streaming.
    `attachments` are the chips of the values attached to the prompt.
    `make_view(source, notice)` shows it elsewhere (a column of a comparison).
    """
    ctx = _start(
        request, notice, conversation, read_timeout, max_height, attachments or [], make_view
    )
    loop = asyncio.get_running_loop()
    task = loop.create_task(_consume(ctx))
    stop = _Stop(loop, task)
    with _live_in_cell(cell_id, stop.request), ctx.view.stoppable(stop.request):
        cancelled = await _wait(task, stop)
    status, error = _outcome(task, ctx)
    return Answered(_finish(ctx, status, error), cancelled)


def _start(
    request: Mapping[str, Any],
    notice: str,
    conversation: str | None,
    read_timeout: float,
    max_height: int,
    attachments: list[dict[str, str]],
    make_view: Callable[[Source, str], View] | None = None,
) -> AnswerContext:
    """Open the source and show the live widget under the cell, or start on the terminal."""
    model = str(request["model"])
    shown: list[View] = []

    def show_retry(attempt: int) -> None:
        for view in shown:
            view.retrying(attempt)

    source = open_source(model, read_timeout=read_timeout, on_retry=show_retry)
    notices = " ".join(n for n in (notice, source.notice) if n)
    view: View
    if make_view is not None:
        view = make_view(source, notices)
    elif can_show_widgets():
        widget = chat_widget(
            model_name=model,
            badge=source.label,
            conversation=conversation or "",
            max_height=max_height,
            notice=notices,
            attachments=attachments,
        )
        view = WidgetView(widget, model)
    else:
        view = TerminalView(" ".join(filter(None, [notices, chips_line(attachments)])))
    shown.append(view)
    recorder = SESSION.recorder if source.recordable else None
    recording = recorder.start(request, conversation=conversation) if recorder is not None else None
    return AnswerContext(
        request, source, view, conversation, notice, Accumulator(), recorder, recording, attachments
    )


async def _consume(ctx: AnswerContext) -> None:
    """The inner task: each event to the accumulator, the widget and the recording."""
    try:
        async with contextlib.aclosing(ctx.source.events(ctx.request, ctx.conversation)) as events:
            async for event in events:
                ctx.acc.apply(event)
                _push(ctx.view, event)
                if ctx.recording is not None:
                    ctx.recording.add(event)
    finally:
        await ctx.source.aclose()


def _push(view: View, event: Event) -> None:
    if isinstance(event, TextDelta):
        view.push(text=event.text)
    elif isinstance(event, ReasoningDelta):
        view.push(reasoning=event.text)
    elif isinstance(event, RefusalDelta):
        view.push(refusal=event.text)


class _Stop:
    """Cancels the inner task once; `request` is safe from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[None]) -> None:
        self.loop = loop
        self.task = task
        self.requested = False

    def __call__(self) -> None:
        if not self.requested:
            self.requested = True
            self.task.cancel()

    def request(self) -> None:
        """The Stop handler may run on a kernel subshell thread."""
        self.loop.call_soon_threadsafe(self)


@contextlib.contextmanager
def _live_in_cell(cell_id: str | None, stop: Callable[[], None]) -> Iterator[None]:
    """While the answer streams, a new answer from the same cell stops it."""
    if cell_id is None:
        yield
        return
    previous = _LIVE_BY_CELL.pop(cell_id, None)
    if previous is not None:
        previous()
    _LIVE_BY_CELL[cell_id] = stop
    try:
        yield
    finally:
        if _LIVE_BY_CELL.get(cell_id) is stop:
            del _LIVE_BY_CELL[cell_id]


async def _wait(task: asyncio.Task[None], stop: _Stop) -> asyncio.CancelledError | None:
    """Wait for the inner task; a cancellation of ours stops it and is returned."""
    try:
        # Wake up now and then: ipykernel 7.4 delivers an interrupt to an async cell
        # only when its loop wakes, so a server that sends nothing would make it wait.
        while not task.done():
            await asyncio.wait({task}, timeout=INTERRUPT_POLL)
    except asyncio.CancelledError as cancelled:
        stop()
        # A second cancellation (another interrupt) ends this wait, never the finish:
        # the inner task then closes its stream by itself.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({task})
        return cancelled
    return None


def _outcome(task: asyncio.Task[None], ctx: AnswerContext) -> tuple[Status, StreamError | None]:
    """The status the answer ends with, and the error that ended it, if any."""
    if not task.done():
        task.add_done_callback(_retrieve)
        return (ERROR, ctx.acc.error) if ctx.acc.error else (STOPPED, None)
    failure = None if task.cancelled() else task.exception()
    if failure is not None:
        return ERROR, ctx.source.describe(failure)
    if ctx.acc.error is not None:
        return ERROR, ctx.acc.error
    return (STOPPED, None) if task.cancelled() else (DONE, None)


def _retrieve(task: asyncio.Task[None]) -> None:
    """Take a late task's outcome, so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


def _finish(ctx: AnswerContext, status: Status, error: StreamError | None) -> Reply:
    """The one place an answer ends; it never raises.

    Recording, the widget's last update and the static copy each may fail; any
    such failure becomes the error card, and the text streamed so far is kept.
    """
    reply = ctx.acc.reply(
        status,
        error,
        ctx.request,
        conversation=ctx.conversation,
        source=ctx.source.label,
        notice=ctx.notice,
        attachments=ctx.attachments,
    )
    if ctx.recorder is not None and ctx.recording is not None:
        try:
            ctx.recorder.write(ctx.recording, status)
        except Exception as exc:
            hint = f"The answer is kept. Check the recording file {ctx.recorder.path}."
            reply = _failed(ctx, reply, "Could not record this exchange", exc, hint)
    try:
        ctx.view.show(reply, ctx.source.host, sent_options(ctx.request))
    except Exception as exc:
        hint = "The answer's text is kept in the reply (`_chat` after %%chat)."
        reply = _failed(ctx, reply, "Could not show the finished answer", exc, hint)
        ctx.view.show_plainly(reply, ctx.source.host)
    return reply


def _failed(ctx: AnswerContext, reply: Reply, title: str, exc: Exception, hint: str) -> Reply:
    """`reply` as an error card; an error it already has keeps its place first."""
    said = ctx.source.describe(exc).message  # scrubbed and capped
    message = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
    if reply.error:
        earlier = reply.error
        card = {**earlier, "message": f"{earlier['message']} Then: {title.lower()} ({message})."}
    else:
        card = StreamError(title, message, hint).as_dict()
    return dataclasses.replace(reply, status=ERROR, error=card)
