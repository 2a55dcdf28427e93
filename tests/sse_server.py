"""A real OpenAI-compatible HTTP server on 127.0.0.1 that streams Server-Sent Events.

Standard library only: a hand-written HTTP/1.1 server on asyncio, in a thread
of its own. The `model` of each request picks a `Plan` (slow streams, fixture
lines, HTTP errors, hangs, drops, in-band errors...). Every request is
recorded, and so is the moment a client closes its connection early, which is
how tests prove that Stop reached the socket.

    python -m tests.sse_server --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import itertools
import json
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Chunk shapes recorded from real providers (tests/fixtures/README.md says what each expects).
FIXTURES_PATH = Path(
    os.environ.get(
        "STREAMCHAT_FIXTURES", Path(__file__).parent / "fixtures" / "chat-completion-chunks.jsonl"
    )
)
DEFAULT_KEY = "sk-test-streamchat-0123456789"


@dataclass
class Plan:
    """How the server answers a model name."""

    tokens: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    finish_reason: str = "stop"
    delay: float = 0.0
    first_delay: float = 0.0
    raw: list[bytes] | None = None
    done: bool = True
    status: int = 200
    error_body: dict | str | None = None
    fail_times: int | None = None
    retry_after: float | None = None  # seconds, sent with the error responses
    hang_before_headers: bool = False
    drop_after: int | None = None
    stall_after: int | None = None
    error_after: int | None = None
    error_event: dict | None = None
    reject_stream_options: bool = False
    json_body: dict | None = None
    echo: bool = False


@dataclass
class Request:
    """One request as the server saw it; the key is never kept (no `authorization` header)."""

    id: int
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw_body: bytes
    started: float
    finished: float | None = None
    disconnected: bool = False
    disconnected_at: float | None = None
    chunks_sent: int = 0
    last_chunk_wall: float | None = None  # time.time() of the last chunk, to compare with a browser


def fixture_plan(line: dict) -> Plan:
    """A plan that sends one fixture line as recorded, then `[DONE]` unless it holds it."""
    if line["kind"] == "raw":
        payload = line["payload"].encode()
    else:
        payload = b"data: " + json.dumps(line["payload"]).encode() + b"\n\n"
    return Plan(raw=[payload], done=b"[DONE]" not in payload)


def _error(message: str, kind: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _chunked(data: bytes) -> bytes:
    """One piece in HTTP/1.1 chunked framing, so an abrupt close is a visible error."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _until_closed(reader: asyncio.StreamReader) -> None:
    """Returns when the client closes its side; stray bytes it sends are not a close."""
    while await reader.read(1024):
        pass


class _ClientGone(Exception):
    """The client closed the connection while the server was sending."""


class _ServerDropped(Exception):
    """The plan itself cut the connection."""


class SSEServer:
    """The loopback model server; `with SSEServer() as server:` or `start()` / `stop()`."""

    def __init__(
        self, port: int = 0, api_key: str = DEFAULT_KEY, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.api_key = api_key
        self.port = port
        self._ssl = ssl_context
        self._plans: dict[str, Plan] = {}
        self._failures: dict[str, int] = {}
        self._requests: list[Request] = []
        self._ids = itertools.count(1)  # not reset with the records, so an id names one request
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread: threading.Thread | None = None
        self.add_default_models()

    @property
    def base_url(self) -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://127.0.0.1:{self.port}/v1"

    def add_default_models(self) -> None:
        """`echo` (the last user message back) and `slow` (200 tokens, 20 a second)."""
        self.add_model("echo", Plan(echo=True))
        self.add_model("slow", Plan(tokens=[f"tok{i} " for i in range(200)], delay=0.05))

    def add_model(self, name: str, plan: Plan) -> None:
        with self._lock:
            self._plans[name] = plan
            self._failures.pop(name, None)

    def start(self) -> SSEServer:
        """Listen on 127.0.0.1 from a daemon thread; a failure to bind is raised here."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", self.port, ssl=self._ssl)
                )
            except BaseException as exc:
                failure.append(exc)
                loop.close()
                ready.set()
                return
            self.port = self._server.sockets[0].getsockname()[1]
            self._loop = loop
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="sse-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the SSE server did not start within 10 s")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop listening and abort every open connection, so later requests are refused."""
        if self._loop is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> SSEServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- records --------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def last_request(self) -> Request:
        with self._lock:
            return self._requests[-1]

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._failures.clear()

    def _wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = predicate()
                if found:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
                self._changed.wait(remaining)

    def wait_for_requests(self, n: int, timeout: float = 5) -> list[Request]:
        return self._wait(
            lambda: list(self._requests) if len(self._requests) >= n else None,
            timeout,
            f"{n} requests",
        )

    def _select(self, request_id: int | None) -> Request | None:
        if request_id is None:
            return self._requests[-1] if self._requests else None
        return next((r for r in self._requests if r.id == request_id), None)

    def wait_for_disconnect(self, request_id: int | None = None, timeout: float = 5) -> Request:
        """The request (latest by default) once its client closed the connection early."""

        def gone() -> Request | None:
            record = self._select(request_id)
            return record if record is not None and record.disconnected else None

        return self._wait(gone, timeout, "the client to disconnect")

    def wait_finished(self, request_id: int | None = None, timeout: float = 5) -> Request:
        """The request (latest by default) once the server sent all of its response."""

        def finished() -> Request | None:
            record = self._select(request_id)
            return record if record is not None and record.finished is not None else None

        return self._wait(finished, timeout, "the response to finish")

    def _update(self, record: Request, **changes: Any) -> None:
        with self._changed:
            for name, value in changes.items():
                setattr(record, name, value)
            self._changed.notify_all()

    # -- HTTP -----------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        record: Request | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            raw_body = await reader.readexactly(int(headers.get("content-length", 0)))
            try:
                body = json.loads(raw_body) if raw_body else None
            except ValueError:
                body = None
            auth = headers.pop("authorization", "")
            with self._changed:
                record = Request(
                    next(self._ids), method, path, headers, body, raw_body,
                    time.monotonic(),
                )  # fmt: skip
                self._requests.append(record)
                self._changed.notify_all()
            watcher = asyncio.ensure_future(_until_closed(reader))
            responder = asyncio.ensure_future(self._respond(record, auth, writer))
            await asyncio.wait({watcher, responder}, return_when=asyncio.FIRST_COMPLETED)
            if responder.done():
                watcher.cancel()
                try:
                    responder.result()
                except (_ClientGone, ConnectionError):
                    self._update(record, disconnected=True, disconnected_at=time.monotonic())
                except _ServerDropped:
                    pass
                else:
                    self._update(record, finished=time.monotonic())
            else:
                responder.cancel()
                self._update(record, disconnected=True, disconnected_at=time.monotonic())
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            if record is not None and record.finished is None:
                self._update(record, disconnected=True, disconnected_at=time.monotonic())
        finally:
            self._writers.discard(writer)
            if record is not None and record.finished is not None:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
            else:
                writer.transport.abort()

    async def _respond(self, record: Request, auth: str, writer: asyncio.StreamWriter) -> None:
        if record.path.rstrip("/").endswith("/models") and record.method == "GET":
            if auth != f"Bearer {self.api_key}":
                return await self._json(writer, 401, self._bad_key())
            with self._lock:
                names = sorted(self._plans)
            data = [{"id": n, "object": "model", "created": 0, "owned_by": "test"} for n in names]
            return await self._json(writer, 200, {"object": "list", "data": data})
        if not record.path.rstrip("/").endswith("/chat/completions") or record.method != "POST":
            # As OpenAI does: the path is echoed, with whatever a base URL put into it.
            message = f"Invalid URL ({record.method} {record.path})"
            return await self._json(writer, 404, _error(message, "invalid_request_error"))
        if auth != f"Bearer {self.api_key}":
            return await self._json(writer, 401, self._bad_key())
        body = record.body if isinstance(record.body, dict) else {}
        model = str(body.get("model", ""))
        with self._lock:
            plan = self._plans.get(model)
        if plan is None:
            message = f"The model `{model}` does not exist or you do not have access to it."
            return await self._json(
                writer, 404, _error(message, "invalid_request_error", "model_not_found")
            )
        if plan.hang_before_headers:
            await asyncio.Event().wait()
        if plan.reject_stream_options and "stream_options" in body:
            message = "Unrecognized request argument supplied: stream_options"
            return await self._json(
                writer, 400, _error(message, "invalid_request_error", None, "stream_options")
            )
        if plan.status != 200:
            with self._lock:
                failures = self._failures.get(model, 0)
                self._failures[model] = failures + 1
            if plan.fail_times is None or failures < plan.fail_times:
                error = plan.error_body or _error(f"error {plan.status}", "server_error")
                extra = {"retry-after": "0"} if plan.status == 429 else {}
                if plan.retry_after is not None:
                    extra = {"retry-after": f"{plan.retry_after:g}"}
                return await self._json(writer, plan.status, error, extra)
        if plan.json_body is not None:
            return await self._json(writer, 200, plan.json_body)
        await self._stream(record, plan, body, writer)

    def _bad_key(self) -> dict:
        return _error("Incorrect API key provided.", "invalid_request_error", "invalid_api_key")

    async def _json(
        self, writer: asyncio.StreamWriter, status: int, payload: Any, extra: dict | None = None
    ) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        headers = {"content-type": "application/json", "content-length": str(len(data))}
        await self._send(writer, self._head(status, {**headers, **(extra or {})}) + data)

    def _head(self, status: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} {http.client.responses.get(status, 'Unknown')}"]
        lines += [f"{k}: {v}" for k, v in {**headers, "connection": "close"}.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        if writer.is_closing():
            raise _ClientGone
        writer.write(data)
        try:
            await writer.drain()
        except ConnectionError as exc:
            raise _ClientGone from exc

    async def _stream(
        self, record: Request, plan: Plan, body: dict, writer: asyncio.StreamWriter
    ) -> None:
        headers = {
            "content-type": "text/event-stream",
            "cache-control": "no-cache",
            "transfer-encoding": "chunked",
        }
        await self._send(writer, self._head(200, headers))
        if plan.first_delay:
            await asyncio.sleep(plan.first_delay)
        model = str(body.get("model"))
        sent = 0
        for piece, is_content in self._pieces(plan, body, model):
            if plan.stall_after is not None and is_content and sent >= plan.stall_after:
                await asyncio.Event().wait()
            if plan.drop_after is not None and is_content and sent >= plan.drop_after:
                writer.transport.abort()
                raise _ServerDropped
            if plan.error_after is not None and is_content and sent >= plan.error_after:
                event = {"error": plan.error_event or {"message": "error", "type": "server_error"}}
                await self._send(writer, _chunked(b"data: " + json.dumps(event).encode() + b"\n\n"))
                await self._send(writer, b"0\r\n\r\n")
                return
            await self._send(writer, _chunked(piece))
            sent += is_content
            self._update(record, chunks_sent=record.chunks_sent + 1, last_chunk_wall=time.time())
            if plan.delay:
                await asyncio.sleep(plan.delay)
        if plan.done:
            await self._send(writer, _chunked(b"data: [DONE]\n\n"))
        await self._send(writer, b"0\r\n\r\n")

    def _pieces(self, plan: Plan, body: dict, model: str) -> Iterator[tuple[bytes, bool]]:
        """The SSE events of a plan, each with whether it carries a content token."""
        if plan.raw is not None:
            for piece in plan.raw:
                yield piece, True
            return
        created = int(time.time())

        def chunk(choices: list, **extra: Any) -> bytes:
            payload = {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": choices,
                **extra,
            }
            return b"data: " + json.dumps(payload).encode() + b"\n\n"

        def delta(**d: Any) -> bytes:
            return chunk([{"index": 0, "delta": d, "logprobs": None, "finish_reason": None}])

        tokens = plan.tokens
        if plan.echo:
            messages = body.get("messages") or []
            last = next((m for m in reversed(messages) if m.get("role") == "user"), {})
            tokens = re.findall(r"\S+\s*|\s+", str(last.get("content", "")))
        yield delta(role="assistant", content=""), False
        for piece in plan.reasoning:
            yield delta(reasoning_content=piece), False
        for token in tokens:
            yield delta(content=token), True
        finish = [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": plan.finish_reason}]
        yield chunk(finish), False
        if (body.get("stream_options") or {}).get("include_usage"):
            prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
            usage = {
                "prompt_tokens": prompt,
                "completion_tokens": len(tokens),
                "total_tokens": prompt + len(tokens),
            }
            yield chunk([], usage=usage), False


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the test SSE server in the foreground.")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = SSEServer(port=args.port).start()
    print(f"OPENAI_BASE_URL={server.base_url} OPENAI_API_KEY={server.api_key}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
