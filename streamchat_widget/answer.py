"""One answer, end to end: stream events into a displayed widget, stop, finish.

The caller awaits `answer()` until the answer ends, so Run All keeps order and
headless runs capture whole answers. The stream runs as an inner task: the
Stop click cancels that task (the cell then ends normally, marked stopped); a
kernel interrupt cancels the cell's own task, which stops the stream the same
way and then ends the cell with a one-line `ChatInterrupted`, so Run All halts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from IPython.display import DisplayHandle

from . import static_copy
from .endpoint import DEFAULT_READ_TIMEOUT, Endpoint, EndpointError, open_endpoint
from .recording import SESSION
from .request import sent_options
from .stop_listener import stop_heard
from .stream import (
    Finish,
    ReasoningDelta,
    RefusalDelta,
    StreamError,
    TextDelta,
    ToolCallDelta,
    Usage,
    stream_chat,
)
from .widget import ChatWidget

DEMO_NOTICE = (
    "No API key or base URL is set, so the offline demo model answered. "
    "Set OPENAI_API_KEY or OPENAI_BASE_URL and choose a model with --model."
)


INTERRUPT_POLL = 0.2
# Stop functions of the answers still streaming, by the cell that started them.
_LIVE_BY_CELL: dict[str, Callable[[], None]] = {}


class ChatInterrupted(Exception):
    """The kernel was interrupted while an answer streamed; shown as one line."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


@dataclass
class Reply:
    """An answer as a Python value; `str(reply)` is its text."""

    text: str
    status: str
    model: str
    messages: list[dict[str, Any]]
    reasoning: str = ""
    refusal: str = ""
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    error: dict[str, str] | None = None
    tool_calls: list[dict[str, str]] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    conversation: str | None = None
    source: str = ""  # "offline demo", "replay", or "" for a model's endpoint
    notice: str = ""  # what the widget noted: history left out, system prompt set, tool calls

    def __str__(self) -> str:
        return self.text


@dataclass
class _Accumulator:
    """What the stream has said so far, kept by the inner task for the finish."""

    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    error: StreamError | None = None
    deltas: int = 0
    started: float = field(default_factory=time.monotonic)
    first_token: float | None = None

    def apply(self, event: object, widget: ChatWidget) -> None:
        if isinstance(event, (TextDelta, ReasoningDelta, RefusalDelta)):
            if self.first_token is None:
                self.first_token = time.monotonic()
            self.deltas += 1
        if isinstance(event, TextDelta):
            self.text.append(event.text)
            widget.push(text=event.text)
        elif isinstance(event, ReasoningDelta):
            self.reasoning.append(event.text)
            widget.push(reasoning=event.text)
        elif isinstance(event, RefusalDelta):
            self.refusal.append(event.text)
            widget.push(refusal=event.text)
        elif isinstance(event, ToolCallDelta):
            call = self.tool_calls.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
            call["id"] = event.id or call["id"]
            call["name"] = event.name or call["name"]
            call["arguments"] += event.arguments
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Usage):
            self.usage = event.as_dict()
        elif isinstance(event, StreamError):
            self.error = event

    def stats(self) -> dict[str, float]:
        ended = time.monotonic()
        stats = {"elapsed_s": round(ended - self.started, 3)}
        if self.first_token is not None:
            stats["ttft_s"] = round(self.first_token - self.started, 3)
            tokens = (self.usage or {}).get("completion_tokens") or self.deltas
            if ended > self.first_token:
                stats["tokens_per_s"] = round(tokens / (ended - self.first_token), 1)
        return stats


async def answer(
    request: Mapping[str, Any],
    *,
    notice: str = "",
    conversation: str | None = None,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    max_height: int = 480,
    cell_id: str | None = None,
) -> Reply:
    """Stream one chat completion into a new widget under the cell and return the reply.

    A new answer from a cell stops that cell's answer if it is still streaming.
    """
    model = str(request["model"])
    acc = _Accumulator()
    widget: ChatWidget | None = None

    def show_retry(attempt: int) -> None:
        if widget is not None:
            widget.retrying = f"retrying… (attempt {attempt + 1})"

    replayer = SESSION.replayer
    endpoint: Endpoint | None = None
    if replayer is None:
        try:
            endpoint = open_endpoint(model, read_timeout=read_timeout, on_retry=show_retry)
        except EndpointError as exc:
            acc.error = StreamError("No endpoint configured", str(exc))
    source = "replay" if replayer else "offline demo" if endpoint and endpoint.demo else ""
    notices = [notice, DEMO_NOTICE if source == "offline demo" else ""]
    widget = ChatWidget(
        model_name=model,
        badge=source,
        conversation=conversation or "",
        max_height=max_height,
        notice=" ".join(n for n in notices if n),
    )
    handle = DisplayHandle()
    handle.display(
        {**widget.view_bundle(), "text/plain": f"[streaming answer from {model}]"}, raw=True
    )
    if replayer is None and endpoint is None:
        return _finish(widget, handle, acc, "error", request, "", conversation, source, notice)
    loop = asyncio.get_running_loop()
    recorder = SESSION.recorder if replayer is None else None
    recording = recorder.start(request, conversation=conversation) if recorder else None
    events = (
        replayer.stream(request, conversation=conversation)
        if replayer
        else stream_chat(endpoint.client, request)
    )

    async def consume() -> None:
        async for event in events:
            acc.apply(event, widget)
            if recording is not None:
                recording.add(event)

    task = loop.create_task(consume())
    stop_requested = False

    def stop() -> None:
        nonlocal stop_requested
        if not stop_requested:
            stop_requested = True
            task.cancel()

    def request_stop() -> None:
        """Safe from any thread: the Stop handler may run on a kernel subshell."""
        loop.call_soon_threadsafe(stop)

    widget.on_stop(request_stop)
    if cell_id is not None:
        previous = _LIVE_BY_CELL.pop(cell_id, None)
        if previous is not None:
            previous()
        _LIVE_BY_CELL[cell_id] = request_stop
    interrupted = False
    try:
        try:
            # Wake up now and then: ipykernel 7.4 delivers an interrupt to an async cell
            # only when its loop wakes, so a server that sends nothing would make it wait.
            with stop_heard(widget.model_id, request_stop):
                while not task.done():
                    await asyncio.wait({task}, timeout=INTERRUPT_POLL)
        except asyncio.CancelledError:
            interrupted = True
            stop()
            await asyncio.wait({task})
    finally:
        if cell_id is not None and _LIVE_BY_CELL.get(cell_id) is request_stop:
            del _LIVE_BY_CELL[cell_id]
        if endpoint is not None:
            await endpoint.client.close()
    status = "error" if acc.error else "stopped" if task.cancelled() else "done"
    if recorder is not None and recording is not None:
        recorder.write(recording, status)
    host = endpoint.host if endpoint else "replay"
    reply = _finish(widget, handle, acc, status, request, host, conversation, source, notice)
    if interrupted:
        raise ChatInterrupted("the answer was stopped by the interrupt; its partial text is kept")
    return reply


def _finish(
    widget: ChatWidget,
    handle: DisplayHandle,
    acc: _Accumulator,
    status: str,
    request: Mapping[str, Any],
    host: str,
    conversation: str | None,
    source: str,
    notice: str,
) -> Reply:
    if acc.tool_calls:
        calls = ", ".join(f"{c['name']}({c['arguments']})" for c in acc.tool_calls.values())
        notice = " ".join(filter(None, [notice, f"The model asked to call {calls}; not run here."]))
    reply = Reply(
        text="".join(acc.text),
        status=status,
        model=str(request["model"]),
        messages=list(request.get("messages", [])),
        reasoning="".join(acc.reasoning),
        refusal="".join(acc.refusal),
        finish_reason=acc.finish_reason,
        usage=acc.usage,
        error=acc.error.as_dict() if acc.error else None,
        tool_calls=[acc.tool_calls[i] for i in sorted(acc.tool_calls)],
        stats=acc.stats(),
        conversation=conversation,
        source=source,
        notice=notice,
    )
    widget.finish(
        status,
        retrying="",
        error=reply.error or {},
        finish_reason=reply.finish_reason or "",
        usage=reply.usage or {},
        stats=reply.stats,
    )
    data, metadata = static_copy.bundle(reply, host, sent_options(request))
    handle.update(data, metadata=metadata, raw=True)
    widget.close()
    return reply
