"""The Python API, for scripts, marimo, other widgets, and `%%chat` itself.

`chat()` is what a `%%chat` cell does: continue a named conversation, stream
the answer into a widget displayed where it is awaited, record the exchange,
return the reply. Where nothing can show a widget (plain `python`, terminal
IPython) the answer's text streams to stdout instead (`terminal`). `stream_text()`
is only the text, for code that wants the deltas and no widget.

Both honour asyncio cancellation: `asyncio.wait_for`, `asyncio.timeout` and a
`TaskGroup` (and Ctrl-C under `asyncio.run`) stop the stream (the server sees
the disconnect), the widget ends stopped with its static copy, the partial
exchange is kept, and then the cancellation is re-raised. Only `%%chat` turns
it into `ChatInterrupted`.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

from .answer import answer
from .conversation import CONVERSATIONS, Exchange
from .endpoint import EndpointError, default_model, open_endpoint
from .marimo_support import conversations
from .options import KEYWORDS, REQUEST_PARAMETERS, check_keywords, keyword_parameters
from .reply import Reply
from .request import build_request
from .stream import StreamError, TextDelta, stream_chat
from .vocabulary import KEPT

__all__ = ["ChatError", "ChatInterrupted", "Reply", "chat", "stream_text"]


class ChatError(Exception):
    """An answer that failed, in the words the widget would show."""

    def __init__(self, error: StreamError) -> None:
        super().__init__(
            f"{error.title}: {error.message}" + (f" {error.hint}" if error.hint else "")
        )
        self.error = error


class ChatInterrupted(Exception):
    """What `%%chat` shows, as one line, when the kernel interrupt stopped its answer."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


async def chat(
    prompt: str,
    *,
    cell_id: str | None = None,
    on_reply: Callable[[Reply], None] | None = None,
    **options: Any,
) -> Reply:
    """Ask `prompt` in `conversation`, stream the answer into a widget, return the reply.

    The keywords are the options of `options.OPTIONS` (model, conversation, new,
    system, temperature, ...). `system` sets the conversation's system prompt from
    now on; `default_system` applies only to a conversation that has none.
    Stopped answers are recorded as their partial text; errored ones are not
    recorded. `on_reply` receives the reply even when cancellation ends the
    answer (and is then re-raised).
    """
    check_keywords("chat", options)
    given = {name: options.get(name, option.default) for name, option in KEYWORDS.items()}
    name, max_history = given["conversation"], given["max_history"]
    registry = conversations(CONVERSATIONS)
    thread = registry.new(name) if given["new"] else registry.get(name)
    notices = []
    system_notice = thread.set_system(
        given["system"], cell_id=cell_id, default=given["default_system"]
    )
    if system_notice:
        notices.append(system_notice)
    outgoing = thread.outgoing(prompt, cell_id=cell_id, max_history=max_history)
    if outgoing.omitted:
        notices.append(
            f"{outgoing.omitted} older exchange(s) not sent (max history {max_history}); "
            f"{outgoing.sent} sent."
        )
    request = build_request(
        given["model"] or default_model(),
        outgoing.messages,
        options=given["options"],
        **{key: given[key] for key in REQUEST_PARAMETERS},
    )
    answered = await answer(
        request,
        notice=" ".join(notices),
        conversation=name,
        read_timeout=given["read_timeout"],
        max_height=given["max_height"],
        cell_id=cell_id,
    )
    reply = answered.reply
    if reply.status in KEPT:
        thread.record(Exchange(prompt, reply.text, reply.status, cell_id))
    if on_reply is not None:
        on_reply(reply)
    if answered.cancelled is not None:
        raise answered.cancelled
    return reply


_signature = inspect.signature(chat)
chat.__signature__ = _signature.replace(  # type: ignore[attr-defined]
    parameters=[
        _signature.parameters["prompt"],
        *keyword_parameters(),
        _signature.parameters["cell_id"],
        _signature.parameters["on_reply"],
    ]
)


async def stream_text(
    prompt: str | list[dict[str, str]], *, model: str | None = None, **params: Any
) -> AsyncIterator[str]:
    """Yield the answer's text deltas; raise `ChatError` if the answer fails.

    `prompt` is a user message, or a whole `messages` list. `params` go to
    `chat.completions.create` as they are (temperature, max_tokens, ...).
    """
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    name = model or default_model()
    try:
        endpoint = open_endpoint(name)
    except EndpointError as exc:
        raise ChatError(StreamError(exc.title, str(exc))) from None
    request = {"model": name, "messages": messages, **params}
    events = stream_chat(endpoint.client, request, first_byte_timeout=endpoint.first_byte_timeout)
    try:
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, TextDelta):
                    yield event.text
                elif isinstance(event, StreamError):
                    raise ChatError(event)
    finally:
        await endpoint.client.close()
