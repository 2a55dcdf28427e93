"""The loopback server itself, through the real `openai` client: the other suites trust it."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import openai
import pytest

from tests.sse_server import FIXTURES_PATH, Plan, SSEServer, fixture_plan

MESSAGES = [{"role": "user", "content": "hi"}]


def with_client(
    server: SSEServer, use: Callable[[openai.AsyncOpenAI], Awaitable[Any]], key: str | None = None
) -> Any:
    """Runs `use(client)` on a fresh loop; no retries, so errors surface at once."""

    async def run() -> Any:
        client = openai.AsyncOpenAI(
            base_url=server.base_url, api_key=key or server.api_key, max_retries=0
        )
        try:
            return await use(client)
        finally:
            await client.close()

    return asyncio.run(run())


def test_tokens_stream_then_finish_and_usage(server):
    server.add_model("three", Plan(tokens=["Hello", " wide", " world"], reasoning=["hmm"]))

    async def use(client: openai.AsyncOpenAI) -> list:
        stream = await client.chat.completions.create(
            model="three", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        return [chunk async for chunk in stream]

    chunks = with_client(server, use)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant"
    assert [getattr(d, "reasoning_content", None) for d in deltas] == [None, "hmm", *[None] * 4]
    assert "".join(d.content or "" for d in deltas) == "Hello wide world"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 3
    record = server.wait_finished()
    assert record.body["model"] == "three"
    assert "authorization" not in record.headers
    assert record.chunks_sent == len(chunks)


def test_echo_streams_the_last_user_message_word_by_word(server):
    async def use(client: openai.AsyncOpenAI) -> list[str]:
        messages = [{"role": "user", "content": "old"}, {"role": "user", "content": "a  b\nc"}]
        stream = await client.chat.completions.create(model="echo", messages=messages, stream=True)
        return [c.choices[0].delta.content async for c in stream if c.choices][1:-1]

    assert with_client(server, use) == ["a  ", "b\n", "c"]


@pytest.mark.parametrize("how", ["close", "cancel"])
def test_a_client_leaving_mid_stream_is_recorded_at_once(server, how):
    server.add_model("long", Plan(tokens=[f"t{i} " for i in range(500)], delay=0.01))

    async def use(client: openai.AsyncOpenAI) -> float:
        stream = await client.chat.completions.create(model="long", messages=MESSAGES, stream=True)
        if how == "close":
            async for _ in stream:
                if server.last_request().chunks_sent >= 5:
                    break
            left = time.monotonic()
            await stream.close()
            return left

        streaming = asyncio.Event()

        async def consume() -> None:
            async for _ in stream:
                streaming.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(streaming.wait(), 5)
        left = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return left

    left = with_client(server, use)
    record = server.wait_for_disconnect(timeout=0.5)
    assert record.disconnected_at - left < 0.5
    assert record.finished is None
    assert record.chunks_sent < 100


def test_a_client_giving_up_before_headers_is_recorded(server):
    server.add_model("loading", Plan(hang_before_headers=True))

    async def use(client: openai.AsyncOpenAI) -> float:
        task = asyncio.create_task(
            client.chat.completions.create(model="loading", messages=MESSAGES, stream=True)
        )
        await asyncio.to_thread(server.wait_for_requests, 1)
        left = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return left

    left = with_client(server, use)
    assert server.wait_for_disconnect(timeout=0.5).disconnected_at - left < 0.5


def test_wrong_key_is_an_authentication_error_that_does_not_echo_it(server):
    secret = "sk-wrong-0123456789abcdef"

    async def use(client: openai.AsyncOpenAI) -> None:
        await client.chat.completions.create(model="echo", messages=MESSAGES, stream=True)

    with pytest.raises(openai.AuthenticationError) as caught:
        with_client(server, use, key=secret)
    assert caught.value.code == "invalid_api_key"
    assert secret not in str(caught.value.body) and secret[-4:] not in str(caught.value.body)


def test_unknown_model_is_not_found(server):
    async def use(client: openai.AsyncOpenAI) -> None:
        await client.chat.completions.create(model="no-such", messages=MESSAGES, stream=True)

    with pytest.raises(openai.NotFoundError) as caught:
        with_client(server, use)
    assert caught.value.code == "model_not_found"
    assert "`no-such` does not exist" in caught.value.message


def test_a_dropped_stream_is_a_connection_error(server):
    server.add_model("drop", Plan(tokens=["a", "b", "c", "d"], drop_after=2))
    received: list[str] = []

    async def use(client: openai.AsyncOpenAI) -> None:
        stream = await client.chat.completions.create(model="drop", messages=MESSAGES, stream=True)
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content)

    with pytest.raises(openai.APIConnectionError):
        with_client(server, use)
    assert received == ["", "a", "b"]


def test_stream_options_can_be_refused(server):
    server.add_model("strict", Plan(tokens=["ok"], reject_stream_options=True))

    async def use(client: openai.AsyncOpenAI, **extra: Any) -> list:
        stream = await client.chat.completions.create(
            model="strict", messages=MESSAGES, stream=True, **extra
        )
        return [c async for c in stream]

    with pytest.raises(openai.BadRequestError) as caught:
        with_client(server, lambda c: use(c, stream_options={"include_usage": True}))
    assert caught.value.param == "stream_options"
    assert len(with_client(server, use)) == 3


def test_errors_can_pass_after_some_attempts(server):
    server.add_model("busy", Plan(tokens=["ok"], status=429, fail_times=1))

    async def use(client: openai.AsyncOpenAI) -> list:
        stream = await client.with_options(max_retries=1).chat.completions.create(
            model="busy", messages=MESSAGES, stream=True
        )
        return [c async for c in stream]

    assert len(with_client(server, use)) == 3
    assert len(server.requests) == 2


def test_models_are_listed(server):
    server.add_model("listed", Plan(tokens=["x"]))

    async def use(client: openai.AsyncOpenAI) -> set[str]:
        return {m.id async for m in client.models.list()}

    assert {"echo", "slow", "listed"} <= with_client(server, use)


def test_a_fixture_line_goes_out_as_recorded(server):
    line = json.loads(FIXTURES_PATH.read_text().splitlines()[0])
    server.add_model("fixture", fixture_plan(line))

    async def use(client: openai.AsyncOpenAI) -> list:
        stream = await client.chat.completions.create(
            model="fixture", messages=MESSAGES, stream=True
        )
        return [c.id async for c in stream]

    assert with_client(server, use) == [line["payload"]["id"]]


def test_stop_closes_open_connections_and_refuses_new_ones():
    with SSEServer() as own:
        own.add_model("loading", Plan(hang_before_headers=True))
        connection = socket.create_connection(("127.0.0.1", own.port))
        body = b'{"model": "loading"}'
        connection.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {own.api_key}\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        own.wait_for_requests(1)
    connection.settimeout(2)
    assert connection.recv(1) == b"", "closed without a reply"
    connection.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", own.port), timeout=1)


def test_an_unknown_path_is_a_404_that_echoes_it_as_openai_does(server):
    async def use(client: openai.AsyncOpenAI) -> None:
        await client.get("/no/such/path", cast_to=object)

    with pytest.raises(openai.NotFoundError) as caught:
        with_client(server, use)
    assert "Invalid URL (GET /v1/no/such/path)" in caught.value.message


def test_error_responses_can_ask_the_client_to_wait(server):
    server.add_model("later", Plan(status=503, retry_after=7))

    async def use(client: openai.AsyncOpenAI) -> None:
        await client.chat.completions.create(model="later", messages=MESSAGES, stream=True)

    with pytest.raises(openai.InternalServerError) as caught:
        with_client(server, use)
    assert caught.value.response.headers["retry-after"] == "7"


def test_default_models_come_back_after_a_test_replaced_them(server):
    server.add_model("echo", Plan(tokens=["not an echo"]))
    server.add_default_models()

    async def use(client: openai.AsyncOpenAI) -> str:
        stream = await client.chat.completions.create(model="echo", messages=MESSAGES, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert with_client(server, use) == "hi"
