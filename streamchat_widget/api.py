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
from dataclasses import dataclass
from typing import Any

from .answer import answer
from .attachments import AttachmentError, Budget, attach, named
from .comparison import Pickable, column_labels, compare_answers, remember
from .conversation import CONVERSATIONS, Conversation, Exchange, Outgoing
from .endpoint import EndpointError, default_model, open_endpoint
from .marimo_support import conversations
from .options import KEYWORDS, REQUEST_PARAMETERS, check_keywords, keyword_parameters
from .reply import Replies, Reply
from .request import build_request
from .stream import StreamError, TextDelta, stream_chat
from .vocabulary import KEPT

__all__ = [
    "AttachmentError",
    "ChatError",
    "ChatInterrupted",
    "Replies",
    "Reply",
    "chat",
    "compare",
    "stream_text",
]


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
    recorded. `with_` attaches values (a list, or a mapping of names to values);
    one that cannot be attached raises `AttachmentError` before anything is sent.
    `on_reply` receives the reply even when cancellation ends the answer (and is
    then re-raised).
    """
    check_keywords("chat", options)
    asked = await _prepare(prompt, cell_id, options)
    thread = asked.thread
    answered = await answer(_request(asked.given["model"], asked), **asked.answering(cell_id))
    reply = answered.reply
    if reply.status in KEPT:
        thread.record(Exchange(prompt, reply.text, reply.status, cell_id, asked.content))
    if on_reply is not None:
        on_reply(reply)
    if answered.cancelled is not None:
        raise answered.cancelled
    return reply


@dataclass
class _Asked:
    """What one cell asks, ready to send to one model or several."""

    given: dict[str, Any]  # every option, defaults filled in
    thread: Conversation
    outgoing: Outgoing
    notice: str
    content: str | list[dict[str, Any]] | None  # the user message as sent, with attachments
    chips: list[dict[str, str]]  # the attached values, as the widget shows them

    def answering(self, cell_id: str | None) -> dict[str, Any]:
        """The keywords each answer of this cell gets, whichever models answer."""
        return {
            "notice": self.notice,
            "conversation": self.thread.name,
            "read_timeout": self.given["read_timeout"],
            "max_height": self.given["max_height"],
            "cell_id": cell_id,
            "attachments": self.chips,
        }


async def _prepare(prompt: str, cell_id: str | None, options: Mapping[str, Any]) -> _Asked:
    """The options with their defaults, the values attached, the conversation, what it sends."""
    given = {name: options.get(name, option.default) for name, option in KEYWORDS.items()}
    attached = await attach(named(given["with_"]), Budget.of(given))  # before anything is sent
    content = attached.content(prompt)
    name, max_history = given["conversation"], given["max_history"]
    registry = conversations(CONVERSATIONS)
    thread = registry.new(name) if given["new"] else registry.get(name)
    notices = []
    system_notice = thread.set_system(
        given["system"], cell_id=cell_id, default=given["default_system"]
    )
    if system_notice:
        notices.append(system_notice)
    outgoing = thread.outgoing(prompt, cell_id=cell_id, max_history=max_history, content=content)
    if outgoing.omitted:
        notices.append(
            f"{outgoing.omitted} older exchange(s) not sent (max history {max_history}); "
            f"{outgoing.sent} sent."
        )
    return _Asked(given, thread, outgoing, " ".join(notices), content, attached.chips)


def _request(model: str | None, asked: _Asked) -> dict[str, Any]:
    return build_request(
        model or default_model(),
        asked.outgoing.messages,
        options=asked.given["options"],
        **{key: asked.given[key] for key in REQUEST_PARAMETERS},
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
    asked = await _prepare(prompt, cell_id, options)
    thread = asked.thread
    compared = await compare_answers(
        [_request(model, asked) for model in models], keep=keep, **asked.answering(cell_id)
    )
    replies = Replies(compared.replies, compared.kept)
    exchange = None
    if compared.kept is not None:
        kept = replies[compared.kept]
        exchange = Exchange(prompt, kept.text, kept.status, cell_id, asked.content)
        thread.record(exchange)
    labels = column_labels([r.model for r in replies])
    remember(
        Pickable(
            thread.name, prompt, asked.content, cell_id, replies, labels, exchange, compared.reshow
        )
    )
    if on_reply is not None:
        on_reply(replies)
    if compared.cancelled is not None:
        raise compared.cancelled
    return replies


def _show_option_keywords(
    function: Callable[..., Any], *, leading: tuple[str, ...], without: tuple[str, ...] = ()
) -> None:
    """`function`'s signature with the option table's keywords (but `without`) in place of
    `**options`, so `help()` and completion list them."""
    own = inspect.signature(function).parameters
    function.__signature__ = inspect.signature(function).replace(  # type: ignore[attr-defined]
        parameters=[
            *(own[name] for name in leading),
            *(p for p in keyword_parameters() if p.name not in without),
            own["cell_id"],
            own["on_reply"],
        ]
    )


_show_option_keywords(chat, leading=("prompt",))
_show_option_keywords(compare, leading=("prompt", "models", "keep"), without=("model",))


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
