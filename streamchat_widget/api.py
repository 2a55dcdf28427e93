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
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from .answer import answer
from .comparison import Pickable, column_labels, compare_answers, remember
from .conversation import CONVERSATIONS, Conversation, Exchange, Outgoing
from .endpoint import EndpointError, default_model, open_endpoint
from .options import KEYWORDS, REQUEST_PARAMETERS, check_keywords, keyword_parameters
from .reply import Replies, Reply
from .request import build_request
from .stream import StreamError, TextDelta, stream_chat
from .vocabulary import KEPT

__all__ = ["ChatError", "ChatInterrupted", "Replies", "Reply", "chat", "compare", "stream_text"]


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
    given, thread, outgoing, notice = _prepare(prompt, cell_id, options)
    request = _request(given["model"], given, outgoing)
    answered = await answer(
        request,
        notice=notice,
        conversation=thread.name,
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


def _prepare(
    prompt: str, cell_id: str | None, options: Mapping[str, Any]
) -> tuple[dict[str, Any], Conversation, Outgoing, str]:
    """The options with their defaults, the conversation, what it sends, and the notice."""
    given = {name: options.get(name, option.default) for name, option in KEYWORDS.items()}
    name, max_history = given["conversation"], given["max_history"]
    thread = CONVERSATIONS.new(name) if given["new"] else CONVERSATIONS.get(name)
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
    return given, thread, outgoing, " ".join(notices)


def _request(model: str | None, given: Mapping[str, Any], outgoing: Outgoing) -> dict[str, Any]:
    return build_request(
        model or default_model(),
        outgoing.messages,
        options=given["options"],
        **{key: given[key] for key in REQUEST_PARAMETERS},
    )


async def compare(
    prompt: str,
    *,
    models: Sequence[str | None],
    keep: int = 0,
    cell_id: str | None = None,
    on_reply: Callable[[Replies], None] | None = None,
    **options: Any,
) -> Replies:
    """Ask every model in `models` the same messages at once; one output, a column each.

    The keywords are `chat()`'s but `model`. The answer of `models[keep]` enters
    the conversation (unless it failed: then none does, as for a failed `chat()`);
    the others are shown and returned only. Returns the replies in the order given.
    Cancellation stops every column, then is re-raised, as in `chat()`.
    """
    check_keywords("compare", options)
    if "model" in options:
        raise TypeError("compare() takes models=[...], not model=")
    if not models:
        raise ValueError("compare() needs at least one model")
    if not 0 <= keep < len(models):
        raise ValueError(
            f"keep={keep} is not a column: there are {len(models)} (0 to {len(models) - 1})"
        )
    given, thread, outgoing, notice = _prepare(prompt, cell_id, options)
    requests = [_request(model, given, outgoing) for model in models]
    compared = await compare_answers(
        requests,
        keep=keep,
        notice=notice,
        conversation=thread.name,
        read_timeout=given["read_timeout"],
        max_height=given["max_height"],
        cell_id=cell_id,
    )
    replies = Replies(compared.replies, compared.kept)
    exchange = None
    if compared.kept is not None:
        kept = replies[compared.kept]
        exchange = Exchange(prompt, kept.text, kept.status, cell_id)
        thread.record(exchange)
    labels = column_labels([r.model for r in replies])
    remember(Pickable(thread.name, prompt, cell_id, replies, labels, exchange, compared.reshow))
    if on_reply is not None:
        on_reply(replies)
    if compared.cancelled is not None:
        raise compared.cancelled
    return replies


_signature = inspect.signature(chat)
chat.__signature__ = _signature.replace(  # type: ignore[attr-defined]
    parameters=[
        _signature.parameters["prompt"],
        *keyword_parameters(),
        _signature.parameters["cell_id"],
        _signature.parameters["on_reply"],
    ]
)
_compare_signature = inspect.signature(compare)
compare.__signature__ = _compare_signature.replace(  # type: ignore[attr-defined]
    parameters=[
        *(_compare_signature.parameters[n] for n in ("prompt", "models", "keep")),
        *(p for p in keyword_parameters() if p.name != "model"),
        _compare_signature.parameters["cell_id"],
        _compare_signature.parameters["on_reply"],
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
