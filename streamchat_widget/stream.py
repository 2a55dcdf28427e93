"""Chat Completions streaming as small typed events.

The widget never sees provider JSON: every chunk shape that real servers send
(OpenAI, Azure, DeepSeek, vLLM, Ollama, llama.cpp, Groq, OpenRouter) is turned
into the events below here, and every failure becomes a `StreamError` value
rather than an exception, so the caller can keep the partial answer.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import openai


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


async def stream_chat(
    client: openai.AsyncOpenAI, request: Mapping[str, Any]
) -> AsyncIterator[Event]:
    """Yield the events of one streamed chat completion.

    `request` holds the `create()` arguments (model, messages, options).
    Failures end the stream with one `StreamError`. Cancellation propagates,
    and the HTTP response is closed on every exit: a bare `break` out of the
    SDK stream would leave the connection open until garbage collection.
    """
    try:
        stream = await _open(client, request)
    except Exception as exc:
        yield describe_error(exc, client)
        return
    seen_output = False
    finish: str | None = None
    try:
        async for chunk in stream:
            for event in chunk_events(chunk):
                if isinstance(event, Finish):
                    finish = event.reason
                elif not isinstance(event, Usage):
                    seen_output = True
                yield event
    except Exception as exc:
        yield describe_error(exc, client, mid_stream=True)
        return
    finally:
        await stream.close()
    if not seen_output and finish is None:
        yield StreamError(
            "Empty response",
            "The server ended the stream without sending any answer or finish reason.",
            "The server may have failed before answering (for example a prompt longer than "
            "its context). Check the server's log.",
        )


async def _open(client: openai.AsyncOpenAI, request: Mapping[str, Any]) -> Any:
    """Start the stream, asking for usage; retry once without it if the server refuses."""
    try:
        return await client.chat.completions.create(
            **request, stream=True, stream_options={"include_usage": True}
        )
    except openai.BadRequestError as exc:
        if "stream_options" not in f"{exc.message} {exc.param}":
            raise
    return await client.chat.completions.create(**request, stream=True)


def chunk_events(chunk: Any) -> list[Event]:
    """Events of one chunk. Only choice index 0 is the answer (n=1 is what we ask)."""
    events: list[Event] = []
    for choice in chunk.choices or []:
        if (getattr(choice, "index", None) or 0) != 0:
            continue
        delta = choice.delta
        if delta is not None:
            reasoning = _extra(delta, "reasoning_content") or _extra(delta, "reasoning")
            if isinstance(reasoning, str) and reasoning:
                events.append(ReasoningDelta(reasoning))
            text = _content_text(delta.content)
            if text:
                events.append(TextDelta(text))
            if delta.refusal:
                events.append(RefusalDelta(delta.refusal))
            for call in delta.tool_calls or []:
                function = call.function
                events.append(
                    ToolCallDelta(
                        index=call.index or 0,
                        id=call.id,
                        name=function.name if function else None,
                        arguments=(function.arguments or "") if function else "",
                    )
                )
        if choice.finish_reason:
            events.append(Finish(str(choice.finish_reason)))
    usage = chunk.usage or _groq_usage(chunk)
    if usage is not None:
        events.append(
            Usage(
                _get(usage, "prompt_tokens"),
                _get(usage, "completion_tokens"),
                _get(usage, "total_tokens"),
            )
        )
    return events


def _extra(obj: Any, name: str) -> Any:
    value = getattr(obj, name, None)
    if value is None:
        value = (getattr(obj, "model_extra", None) or {}).get(name)
    return value


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _groq_usage(chunk: Any) -> Any:
    x_groq = (getattr(chunk, "model_extra", None) or {}).get("x_groq")
    return x_groq.get("usage") if isinstance(x_groq, Mapping) else None


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
    exc: BaseException, client: openai.AsyncOpenAI | None = None, *, mid_stream: bool = False
) -> StreamError:
    """Turn an exception into a readable `StreamError`, with the key scrubbed out."""
    host = _host(client)
    if isinstance(exc, openai.APITimeoutError):
        error = StreamError(
            "Timed out",
            "The server did not answer within the read timeout"
            + (" while the answer was streaming." if mid_stream else "."),
            f"The model at {host} may be overloaded or still loading; try again.",
        )
    elif isinstance(exc, openai.APIConnectionError) and _caused_by(exc, ssl.SSLError):
        error = StreamError(
            "TLS failure",
            f"The secure connection to {host} failed: {_caused_by(exc, ssl.SSLError)}",
            "The server's certificate was not accepted. For a local server use http://, "
            "or point SSL_CERT_FILE at the certificate authority that signed it.",
        )
    elif isinstance(exc, openai.APIConnectionError):
        if mid_stream:
            error = StreamError(
                "Connection lost",
                "The connection to the server dropped in the middle of the answer.",
                "The partial answer is kept; run the cell again to retry.",
            )
        else:
            error = StreamError(
                "Cannot reach the server",
                f"No connection could be made to {host}.",
                "Check that the server is running and that OPENAI_BASE_URL points at it.",
            )
    elif isinstance(exc, openai.APIStatusError):
        title, hint = _STATUS_TEXT.get(
            exc.status_code,
            (
                f"Server error ({exc.status_code})",
                "The server failed; try again in a moment.",
            ),
        )
        error = StreamError(title, _server_message(exc), hint, exc.status_code)
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
        error = StreamError(f"Unexpected error: {type(exc).__name__}", str(exc), "")
    return scrub(error, client.api_key if client is not None else None)


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
    if isinstance(body, Mapping):
        message = body.get("message") or _get(body.get("error") or {}, "message")
        if isinstance(message, str) and message:
            return message
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return exc.message


def _host(client: openai.AsyncOpenAI | None) -> str:
    if client is None:
        return "the server"
    parts = urlsplit(str(client.base_url))
    return (
        parts.hostname + (f":{parts.port}" if parts.port else "")
        if parts.hostname
        else "the server"
    )


def scrub(error: StreamError, secret: str | None) -> StreamError:
    """Remove the API key from every field, whatever the server echoed back."""
    if not secret:
        return error
    return StreamError(
        error.title.replace(secret, "***"),
        error.message.replace(secret, "***"),
        error.hint.replace(secret, "***"),
        error.status_code,
    )
