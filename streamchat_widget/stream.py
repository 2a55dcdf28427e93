"""Chat Completions streaming as small typed events.

The widget never sees provider JSON: every chunk shape that real servers send
(OpenAI, Azure, DeepSeek, vLLM, Ollama, llama.cpp, Groq, OpenRouter) is turned
into the events below here, and every failure becomes a `StreamError` value
rather than an exception, so the caller can keep the partial answer. Values
are coerced here, at the boundary: a server that sends a number where text
belongs, or half of a surrogate pair per chunk, cannot break what comes after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import sys
from collections.abc import AsyncGenerator, Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import anyio
import httpx2
import openai

from .sse import SSEDecoder

T = TypeVar("T")


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class RefusalDelta:
    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a tool call; continuations carry only `index` and `arguments`."""

    index: int
    id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Finish:
    reason: str


@dataclass(frozen=True)
class StreamError:
    """What failed, in words a notebook user can act on; never holds the key."""

    title: str
    message: str
    hint: str = ""
    status_code: int | None = None

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "message": self.message, "hint": self.hint}


Event = TextDelta | ReasoningDelta | RefusalDelta | ToolCallDelta | Usage | Finish | StreamError


# A server's error message is shown in the widget and saved three times in the notebook.
MESSAGE_LIMIT = 500


def stream_chat(
    client: openai.AsyncOpenAI,
    request: Mapping[str, Any],
    *,
    first_byte_timeout: float | None = None,
) -> AsyncGenerator[Event, None]:
    """Yield the events of one streamed chat completion.

    `request` holds the `create()` arguments (model, messages, options).
    Failures end the stream with one `StreamError`. Cancellation propagates,
    and the HTTP response is closed on every exit: a bare `break` out of the
    SDK stream would leave the connection open until garbage collection.
    `first_byte_timeout` bounds the wait for the response across all of the
    client's retries, so a silent server costs that long, not once per attempt.
    """
    return _stream_events(client, request, first_byte_timeout)


async def _stream_events(
    client: openai.AsyncOpenAI, request: Mapping[str, Any], first_byte_timeout: float | None
) -> AsyncGenerator[Event, None]:
    """The client sends the request; the body is read here, one JSON value per SSE event,
    with no pydantic model per chunk. Ends, and fails, as the client's own stream would:
    at `[DONE]`, with `APIError` for an in-band error, `APITimeoutError` or
    `APIConnectionError` when the connection fails, `json.JSONDecodeError` for bad data.
    One loop, no generator per layer: this runs once per token."""
    model = str(request.get("model", ""))
    try:
        response = await _open(client, request, first_byte_timeout)
    except Exception as exc:
        yield describe_error(exc, client, model=model)
        return
    decoder = SSEDecoder()
    joiner = _Joiner()
    seen_output = done = False
    finish: str | None = None
    event: Any  # dispatched on `type(event)` below, which mypy does not narrow
    try:
        async for data in response.aiter_bytes():
            for sse in decoder.feed(data):
                if sse.data.startswith("[DONE]"):
                    done = True
                    break
                chunk = json.loads(sse.data)
                if type(chunk) is dict and chunk.get("error"):
                    raise _in_band_error(chunk["error"], response.request)
                for event in chunk_events(chunk):
                    kind = type(event)
                    if kind in _SPLITTABLE:
                        seen_output = True
                        event = joiner.whole(event)
                        if event is None:
                            continue
                    elif kind is Finish:
                        finish = event.reason
                    elif kind is not Usage:
                        seen_output = True
                    yield event
            if done:
                break
    except Exception as exc:
        for event in joiner.rest():
            yield event
        error = _client_error(exc, response.request)
        yield describe_error(error, client, mid_stream=True, model=model)
        return
    finally:
        await response.aclose()
    for event in joiner.rest():
        yield event
    if not seen_output:
        yield _empty(finish)


def _client_error(exc: Exception, request: httpx2.Request) -> Exception:
    """A failure of the connection while reading, as the client's own stream raises it."""
    error: Exception
    if isinstance(exc, httpx2.TimeoutException):
        error = openai.APITimeoutError(request=request)
    elif isinstance(exc, (httpx2.RequestError, ssl.SSLError, anyio.EndOfStream)):
        error = openai.APIConnectionError(request=request)
    else:
        return exc
    error.__cause__ = exc
    return error


def _in_band_error(error: Any, request: httpx2.Request) -> openai.APIError:
    message = error.get("message") if isinstance(error, dict) else None
    if not message or not isinstance(message, str):
        message = "An error occurred during streaming"
    return openai.APIError(message, request, body=error)


def _empty(finish: str | None) -> StreamError:
    if finish is None:
        return StreamError(
            "Empty response",
            "The server ended the stream without sending any answer or finish reason.",
            "The server may have failed before answering (for example a prompt longer than "
            "its context). Check the server's log.",
        )
    return StreamError(
        "Empty answer",
        f"The model ended its answer (finish reason: {finish}) without any text.",
        _EMPTY_HINTS.get(finish, "Run the cell again, or rephrase the prompt."),
    )


_EMPTY_HINTS = {
    "length": "The token limit was reached before any text: raise --max-tokens.",
    "content_filter": "The provider's content filter withheld the answer.",
}


class FirstByteTimeout(Exception):
    """No response within the overall deadline, retries included."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no response within {seconds:g} s")
        self.seconds = seconds


async def _open(
    client: openai.AsyncOpenAI, request: Mapping[str, Any], first_byte_timeout: float | None
) -> httpx2.Response:
    if first_byte_timeout is None:
        return await _create(client, request)
    return await within(first_byte_timeout, _create(client, request))


async def within(seconds: float, awaitable: Awaitable[T]) -> T:
    """`awaitable`, or `FirstByteTimeout` after `seconds`; a Stop is never lost.

    `asyncio.wait_for` (3.10, 3.11) swallows a cancellation that arrives as the
    awaited call finishes, so a Stop just as the response opened let the answer
    stream on. `asyncio.timeout` (3.11+) runs it in the caller's own task.
    """
    if sys.version_info < (3, 11):
        try:
            return await asyncio.wait_for(awaitable, seconds)
        except asyncio.TimeoutError:
            raise FirstByteTimeout(seconds) from None
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError:
        if deadline.expired():
            raise FirstByteTimeout(seconds) from None
        raise


async def _create(client: openai.AsyncOpenAI, request: Mapping[str, Any]) -> httpx2.Response:
    """Start the stream, asking for usage; retry once without it if the server refuses.

    The client sends the request (retries, timeouts, a status error for a non-2xx);
    the body is left unread for `_chunks`, and the caller closes it.
    """
    completions = client.chat.completions.with_raw_response
    try:
        raw = await completions.create(
            **request, stream=True, stream_options={"include_usage": True}
        )
    except openai.BadRequestError as exc:
        if "stream_options" not in f"{exc.message} {exc.param}":
            raise
        raw = await completions.create(**request, stream=True)
    response: httpx2.Response = raw.http_response
    return response


def clean_text(text: str) -> str:
    """`text` with surrogate pairs joined and lone surrogates replaced by U+FFFD.

    JSON can carry lone surrogates (`"\\ud83d"`), and Jupyter's message encoder
    cannot send them: one would fail the widget, the display and recordings.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


_SPLITTABLE = (TextDelta, ReasoningDelta, RefusalDelta)


class _Joiner:
    """Holds back a trailing high surrogate until the next delta of its kind, so a pair
    split across two chunks arrives as one character."""

    def __init__(self) -> None:
        self.held: dict[type, str] = {}

    def whole(self, event: TextDelta | ReasoningDelta | RefusalDelta) -> Event | None:
        """`event` with what was held before it and without what is held now; None if empty."""
        kind = type(event)
        text = self.held.pop(kind, "") + event.text if self.held else event.text
        if text and "\ud800" <= text[-1] <= "\udbff":
            self.held[kind], text = text[-1], text[:-1]
        if not text:
            return None
        cleaned = clean_text(text)
        return event if cleaned is event.text else kind(cleaned)

    def rest(self) -> list[Event]:
        """What is still held, each alone (a lone half becomes U+FFFD)."""
        events: list[Event] = [kind(clean_text(text)) for kind, text in self.held.items()]
        self.held.clear()
        return events


async def whole_characters(events: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
    """`events` with surrogate pairs split across deltas joined (see `_Joiner`);
    closes `events` on every exit."""
    joiner = _Joiner()
    async with contextlib.aclosing(events):
        async for event in events:
            if isinstance(event, _SPLITTABLE):
                whole = joiner.whole(event)
                if whole is not None:
                    yield whole
                continue
            if isinstance(event, StreamError):
                for held in joiner.rest():
                    yield held
            yield event
    for held in joiner.rest():
        yield held


def chunk_events(chunk: Any) -> list[Event]:
    """Events of one chunk, the JSON value of one SSE event. Only choice index 0 is
    the answer (n=1 is what we ask); a value of the wrong type counts as absent."""
    if type(chunk) is not dict:
        return []
    events: list[Event] = []
    choices = chunk.get("choices")
    for choice in choices if type(choices) is list else ():
        if type(choice) is not dict or _index(choice.get("index")) != 0:
            continue
        delta = choice.get("delta")
        if type(delta) is dict:
            _delta_events(delta, events)
        finish = choice.get("finish_reason")
        if finish:
            events.append(Finish(clean_text(_text(finish))))
    usage = chunk.get("usage") or _get(chunk.get("x_groq"), "usage")  # Groq's own place
    if type(usage) is dict:
        events.append(
            Usage(
                _count(usage.get("prompt_tokens")),
                _count(usage.get("completion_tokens")),
                _count(usage.get("total_tokens")),
            )
        )
    return events


def _delta_events(delta: dict[str, Any], events: list[Event]) -> None:
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if reasoning and isinstance(reasoning, str):
        events.append(ReasoningDelta(reasoning))
    content = delta.get("content")
    text = content if type(content) is str else _content_text(content)
    if text:
        events.append(TextDelta(text))
    refusal = delta.get("refusal")
    if refusal is not None:
        refusal = _text(refusal)
        if refusal:
            events.append(RefusalDelta(refusal))
    calls = delta.get("tool_calls")
    for call in calls if type(calls) is list else ():
        function = _get(call, "function")
        # Not held back like the deltas: a pair split inside arguments is rare; U+FFFD it is.
        events.append(
            ToolCallDelta(
                index=_index(_get(call, "index")),
                id=clean_text(_text(_get(call, "id"))) or None,
                name=clean_text(_text(_get(function, "name"))) or None,
                arguments=clean_text(_text(_get(function, "arguments"))),
            )
        )


def _text(value: Any) -> str:
    """Text as servers mean it: None is empty, a JSON object is its JSON, a number its digits."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _index(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return 0


def _count(value: Any) -> int | None:
    """A token count, or None when the server sent something that is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if type(obj) is dict else None


def _content_text(content: Any) -> str:
    """Content is a str on most servers, but some send a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (p if isinstance(p, str) else _get(p, "text") for p in content)
        return "".join(p for p in parts if isinstance(p, str))
    return ""


_STATUS_TEXT = {
    400: ("Request rejected (400)", "Check the options sent with this cell."),
    401: (
        "Authentication failed (401)",
        "Check OPENAI_API_KEY for this endpoint (the key is never shown here).",
    ),
    403: ("Permission denied (403)", "This key has no access to this model or endpoint."),
    404: (
        "Model or endpoint not found (404)",
        "Check the model name against the models the endpoint lists (GET /v1/models).",
    ),
    408: ("Request timed out (408)", "Try again; the server gave up waiting."),
    413: ("Request too large (413)", "Shorten the prompt or the conversation."),
    429: (
        "Rate limited (429)",
        "The server asked to slow down and the client's retries ran out; "
        "wait a little and run the cell again.",
    ),
}


def describe_error(
    exc: BaseException,
    client: openai.AsyncOpenAI | None = None,
    *,
    mid_stream: bool = False,
    model: str = "",
) -> StreamError:
    """Turn an exception into a readable `StreamError`: secrets scrubbed, size capped."""
    host = _host(client)
    if isinstance(exc, (openai.APITimeoutError, FirstByteTimeout)):
        error = _timeout_error(exc, host, mid_stream)
    elif isinstance(exc, openai.APIConnectionError):
        error = _connection_error(exc, host, mid_stream)
    elif isinstance(exc, openai.APIStatusError):
        error = _status_error(exc, model)
    elif isinstance(exc, openai.APIError):
        error = StreamError(
            "The server reported an error",
            _server_message(exc),
            "The partial answer is kept; run the cell again to retry.",
        )
    elif isinstance(exc, json.JSONDecodeError):
        error = StreamError(
            "Malformed stream",
            f"The server sent data that is not valid JSON ({exc.msg}).",
            "The endpoint may not be OpenAI-compatible, or a proxy altered the stream.",
        )
    elif isinstance(exc, openai.OpenAIError):
        error = StreamError("Client error", str(exc), "")
    else:
        error = unexpected_error(exc)
    return scrub(error, secrets_of(client))


def unexpected_error(exc: BaseException) -> StreamError:
    """A failure of our own or of a value nothing else caught; the partial answer is kept."""
    return StreamError(
        f"Unexpected error: {type(exc).__name__}",
        str(exc),
        "The partial answer is kept. Please report this with the cell that caused it.",
    )


def _timeout_error(exc: BaseException, host: str, mid_stream: bool) -> StreamError:
    if isinstance(exc, FirstByteTimeout):
        message = f"The server sent no response within {exc.seconds:g} s, retries included."
    else:
        message = "The server did not answer within the read timeout" + (
            " while the answer was streaming." if mid_stream else "."
        )
    return StreamError(
        "Timed out", message, f"The model at {host} may be overloaded or still loading; try again."
    )


def _connection_error(exc: openai.APIConnectionError, host: str, mid_stream: bool) -> StreamError:
    tls = _caused_by(exc, ssl.SSLError)
    if tls is not None:
        return StreamError(
            "TLS failure",
            f"The secure connection to {host} failed: {tls}",
            "The server's certificate was not accepted. For a local server use http://, "
            "or point SSL_CERT_FILE at the certificate authority that signed it.",
        )
    if mid_stream:
        return StreamError(
            "Connection lost",
            "The connection to the server dropped in the middle of the answer.",
            "The partial answer is kept; run the cell again to retry.",
        )
    return StreamError(
        "Cannot reach the server",
        f"No connection could be made to {host}.",
        "Check that the server is running and that OPENAI_BASE_URL points at it.",
    )


def _status_error(exc: openai.APIStatusError, model: str) -> StreamError:
    title, hint = _STATUS_TEXT.get(
        exc.status_code,
        (f"Server error ({exc.status_code})", "The server failed; try again in a moment."),
    )
    if exc.status_code == 400 and _rejects_model(_error_fields(exc.body)):
        hint = (
            f"The endpoint does not accept the model name {model!r}: check it against "
            "the names `%chat models` lists."
        )
    return StreamError(title, _server_message(exc), hint, exc.status_code)


_MODEL_CODES = frozenset({"model_not_found", "invalid_model", "model_not_supported"})
_MODEL_REJECTED = ("invalid", "unknown", "not found", "does not exist", "not supported")


def _error_fields(body: object) -> Mapping[str, Any]:
    """The fields of an error body: `{"error": {...}}` or the error object itself."""
    if not isinstance(body, Mapping):
        return {}
    inner = body.get("error")
    return inner if isinstance(inner, Mapping) else body


def _rejects_model(fields: Mapping[str, Any]) -> bool:
    """Whether the error's own fields say the model name is what the server refused.

    LiteLLM's proxy answers an unknown model with a 400 whose only sign is its
    message ("Invalid model name passed in model=foo").
    """
    if fields.get("param") == "model" or fields.get("code") in _MODEL_CODES:
        return True
    message = fields.get("message")
    if not isinstance(message, str):
        return False
    words = message.lower()
    return "model" in words and any(phrase in words for phrase in _MODEL_REJECTED)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of `kind` in the chain of causes behind `exc`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _server_message(exc: openai.APIError) -> str:
    body = exc.body
    message = _error_fields(body).get("message")
    if isinstance(message, str) and message:
        return message
    if isinstance(body, str) and body.strip():
        return body.strip()
    return exc.message


def _host(client: openai.AsyncOpenAI | None) -> str:
    """Host and port of the client's base URL; never raises (a bad port is left out)."""
    if client is None:
        return "the server"
    return host_of(str(client.base_url)) or "the server"


def host_of(url: str) -> str:
    """`host:port` of `url`, or "" when it has no host; never credentials, never raises."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    return (parts.hostname or "") + (f":{port}" if port and parts.hostname else "")


def secrets_of(client: openai.AsyncOpenAI | None) -> list[str]:
    """What must never be shown: the key, and credentials or query values in the base URL."""
    if client is None:
        return []
    return [client.api_key, *url_secrets(str(client.base_url))]


def url_secrets(url: str) -> list[str]:
    """Userinfo and query values of `url`; very short ones ("v1", "1") are no secret."""
    try:
        parts = urlsplit(url)
        userinfo = [parts.username, parts.password]
    except ValueError:
        return []
    values = [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    return [s for s in (*userinfo, *values) if s and len(s) >= 4]


def scrub(error: StreamError, secrets: Iterable[str | None]) -> StreamError:
    """Remove secrets from every field, whatever the server echoed back; cap the message
    (a server could send megabytes) and replace lone surrogates (Jupyter cannot send them)."""
    fields = [error.title, error.message, error.hint]
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        fields = [field.replace(secret, "***") for field in fields]
    title, message, hint = (clean_text(field) for field in fields)
    if len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 1] + "…"
    return StreamError(title, message, hint, error.status_code)
