"""Every recorded provider chunk shape, replayed through the real openai client.

Each fixture line is sent by the loopback SSE server, followed by a normal
tail (one more content chunk, a finish chunk, `[DONE]`), so a shape that
wrongly ends or breaks the stream shows up as a missing tail.
"""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from streamchat_widget.stream import (
    MESSAGE_LIMIT,
    Finish,
    FirstByteTimeout,
    ReasoningDelta,
    RefusalDelta,
    StreamError,
    TextDelta,
    ToolCallDelta,
    Usage,
    stream_chat,
    within,
)
from tests.sse_server import FIXTURES_PATH, Plan

TAIL = "<tail>"
TAIL_BYTES = [
    b'data: {"id":"t","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"'
    + TAIL.encode()
    + b'"},"finish_reason":null}]}\n\n',
    b'data: {"id":"t","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
]

# What each line must produce, per its `expect`: text, reasoning, refusal,
# finish reasons, usage, tool-call deltas, and the error title when the SDK
# raises on it (the tail then never arrives).
EXPECTED: dict[str, dict] = {
    "openai_role_first": {},
    "openai_content_obfuscation": {"text": "Hello"},
    "openai_content_usage_null": {"text": "The"},
    "openai_finish_stop": {"finish": ["stop"]},
    "openai_finish_length": {"finish": ["length"]},
    "openai_usage_final": {
        "usage": [{"prompt_tokens": 79, "completion_tokens": 1, "total_tokens": 80}]
    },
    "openai_refusal_first": {},
    "openai_refusal_delta": {"refusal": "I'm"},
    "openai_tool_call_first": {
        "tools": [ToolCallDelta(0, "call_4XzlGBLtUe9dy3GVNV4jhq7h", "get_weather", "")]
    },
    "openai_tool_call_args": {"tools": [ToolCallDelta(0, None, None, '{"')]},
    "openai_finish_tool_calls": {"finish": ["tool_calls"]},
    "openai_n2_index1": {},
    "openai_midstream_error": {"error": "The server reported an error"},
    "azure_prompt_filter_first": {},
    "azure_content_with_filter_results": {"text": "Hello"},
    "azure_async_filter_annotation": {},
    "deepseek_reasoning_content_nospace": {"reasoning": "Okay"},
    "deepseek_reasoning_then_content": {"reasoning": "Think"},
    "vllm_reasoning_new_field": {"reasoning": " user"},
    "ollama_reasoning": {"reasoning": "We"},
    "llamacpp_reasoning_timings": {"reasoning": " it"},
    "llamacpp_role_content_null": {},
    "groq_final_x_groq_usage": {
        "finish": ["stop"],
        "usage": [{"prompt_tokens": 924, "completion_tokens": 99, "total_tokens": 1023}],
    },
    "groq_role_repeated_empty_tool_calls": {"text": "Hello"},
    "openrouter_first": {},
    "openrouter_midstream_error": {"error": "The server reported an error"},
    "vllm_midstream_error": {"error": "The server reported an error"},
    "llamacpp_new_error": {"error": "The server reported an error"},
    "sse_done": {"error": "Empty response", "no_tail": True},
    "sse_comment_keepalive": {},
    "sse_llamacpp_old_error_field": {"error": "Empty response", "no_tail": True},
    "sse_empty_data_keepalive": {"error": "Malformed stream"},
    "sse_event_without_data": {"error": "Malformed stream"},
    "sse_malformed_json": {"error": "Malformed stream"},
    "sse_event_error_typed": {"error": "The server reported an error"},
    "choices_null": {},
    "delta_null": {},
    "choice_missing_index": {"text": "Hi"},
    "content_as_list": {"text": "Hi"},
    "finish_reason_nonstandard": {"finish": ["abort"]},
}

ERROR_MESSAGES = {
    "openai_midstream_error": "The server had an error while processing your request",
    "openrouter_midstream_error": "Provider disconnected unexpectedly",
    "vllm_midstream_error": "The prompt is too long",
    "llamacpp_new_error": "exceeds the available context size",
    "sse_event_error_typed": "boom",
}


def _lines() -> list[dict]:
    return [json.loads(line) for line in FIXTURES_PATH.read_text().splitlines() if line.strip()]


def _wire(line: dict) -> bytes:
    if line["kind"] == "raw":
        return line["payload"].encode()
    return b"data: " + json.dumps(line["payload"]).encode() + b"\n\n"


def collect_from(base_url: str, api_key: str, model: str = "echo") -> list:
    """Every event of one answer, through the real client (no retries: errors come at once)."""

    async def run() -> list:
        client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0)
        try:
            messages = [{"role": "user", "content": "hi"}]
            return [e async for e in stream_chat(client, {"model": model, "messages": messages})]
        finally:
            await client.close()

    return asyncio.run(run())


def collect(server, model: str) -> list:
    return collect_from(server.base_url, server.api_key, model)


def test_every_fixture_line_has_an_expectation():
    assert {line["id"] for line in _lines()} == set(EXPECTED)


@pytest.mark.parametrize("line", _lines(), ids=lambda line: line["id"])
def test_fixture_line(server, line):
    expected = EXPECTED[line["id"]]
    server.add_model("fixture", Plan(raw=[_wire(line), *TAIL_BYTES]))
    events = collect(server, "fixture")

    errors = [e for e in events if isinstance(e, StreamError)]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    if "error" in expected:
        assert [e.title for e in errors] == [expected["error"]]
        assert events[-1] is errors[0], "the error ends the stream"
        assert TAIL not in text
        if line["id"] in ERROR_MESSAGES:
            assert ERROR_MESSAGES[line["id"]] in errors[0].message
        assert text == expected.get("text", "")
        return
    assert errors == []
    assert text == expected.get("text", "") + TAIL
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert reasoning == expected.get("reasoning", "")
    refusal = "".join(e.text for e in events if isinstance(e, RefusalDelta))
    assert refusal == expected.get("refusal", "")
    finishes = [e.reason for e in events if isinstance(e, Finish)]
    assert finishes == [*expected.get("finish", []), "stop"]
    usages = [e.as_dict() for e in events if isinstance(e, Usage)]
    assert usages == expected.get("usage", [])
    assert [e for e in events if isinstance(e, ToolCallDelta)] == expected.get("tools", [])


def test_usage_is_requested_and_streamed(server):
    server.add_model("plain", Plan(tokens=["Hello", " world"]))
    events = collect(server, "plain")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello world"
    assert [e.completion_tokens for e in events if isinstance(e, Usage)] == [2]
    assert server.last_request().body["stream_options"] == {"include_usage": True}


def test_server_rejecting_stream_options_is_retried_once_without(server):
    server.add_model("strict", Plan(tokens=["ok"], reject_stream_options=True))
    events = collect(server, "strict")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "ok"
    bodies = [r.body for r in server.requests if r.path.endswith("/chat/completions")]
    assert ["stream_options" in b for b in bodies] == [True, False]


def test_unknown_model_is_a_404_error_event(server):
    (error,) = collect(server, "no-such-model")
    assert error.status_code == 404
    assert "does not exist" in error.message


def test_wrong_key_is_a_401_error_that_does_not_show_the_key(server):
    secret = "sk-wrong-key-1234567890abcdef"
    (error,) = collect_from(server.base_url, secret)
    assert error.status_code == 401
    assert "OPENAI_API_KEY" in error.hint
    assert secret not in repr(error)


def test_dead_server_is_a_connection_error():
    (error,) = collect_from("http://127.0.0.1:9/v1", "x")
    assert error.title == "Cannot reach the server"
    assert "127.0.0.1:9" in error.message


def test_dropped_connection_keeps_partial_text_and_ends_in_error(server):
    server.add_model("drop", Plan(tokens=["a", "b", "c", "d"], drop_after=2))
    events = collect(server, "drop")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "ab"
    assert isinstance(events[-1], StreamError)
    assert events[-1].title == "Connection lost"


def test_cancelling_the_consumer_closes_the_connection(server):
    server.add_model("long", Plan(tokens=[f"t{i} " for i in range(500)], delay=0.01))

    async def run() -> None:
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key=server.api_key)
        request = {"model": "long", "messages": [{"role": "user", "content": "hi"}]}

        streaming = asyncio.Event()

        async def consume() -> None:
            async for _ in stream_chat(client, request):
                streaming.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(streaming.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await client.close()

    asyncio.run(run())
    record = server.wait_for_disconnect(timeout=2)
    assert record.disconnected
    assert record.chunks_sent < 100


def test_a_certificate_the_client_does_not_trust_is_a_tls_error(tmp_path):
    import ssl
    import subprocess

    from tests.sse_server import SSEServer

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-subj", "/CN=127.0.0.1", "-days", "1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with SSEServer(ssl_context=context) as tls_server:
        (error,) = collect_from(tls_server.base_url, tls_server.api_key)
    assert error.title == "TLS failure"
    assert "certificate" in error.message.lower()


def _chunk(delta: dict | None = None, finish: str | None = None, **extra) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    payload = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
               "choices": choices, **extra}  # fmt: skip
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def test_values_of_the_wrong_type_are_coerced_where_they_enter(server):
    call = {"index": "one", "id": 7, "function": {"name": "f", "arguments": {"a": 1}}}
    usage = {"prompt_tokens": 3.0, "completion_tokens": "many", "total_tokens": True}
    server.add_model("odd", Plan(raw=[
        _chunk({"refusal": 42}), _chunk({"tool_calls": [call]}), _chunk(None, usage=usage),
        _chunk({"content": "rest"}, "stop"),
    ]))  # fmt: skip
    events = collect(server, "odd")
    assert [e for e in events if isinstance(e, RefusalDelta)] == [RefusalDelta("42")]
    assert [e for e in events if isinstance(e, ToolCallDelta)] == [
        ToolCallDelta(0, "7", "f", '{"a": 1}')
    ]
    assert [e.as_dict() for e in events if isinstance(e, Usage)] == [{"prompt_tokens": 3}]
    assert not any(isinstance(e, StreamError) for e in events)


def test_a_surrogate_pair_split_across_chunks_is_joined(server):
    server.add_model("halves", Plan(raw=[
        _chunk({"content": "\ud83d"}), _chunk({"reasoning_content": "\ud83e"}),
        _chunk({"content": "\ude00 and"}), _chunk({"reasoning_content": "\udd14"}),
        _chunk({"content": " lone \udc00 and \ud83d"}, "stop"),
    ]))  # fmt: skip
    events = collect(server, "halves")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert text == "\U0001f600 and lone \ufffd and \ufffd"
    assert reasoning == "\U0001f914"
    assert all(e.text.encode("utf-8") for e in events if isinstance(e, TextDelta))


def test_a_finish_reason_without_any_text_is_an_empty_answer(server):
    server.add_model("nothing", Plan(tokens=[], finish_reason="content_filter"))
    events = collect(server, "nothing")
    assert events[-1].title == "Empty answer"
    assert "content_filter" in events[-1].message
    assert "content filter" in events[-1].hint


def test_a_400_naming_the_model_points_to_the_model_name(server):
    litellm = {"error": {
        "message": "Invalid model name passed in model=proxy-x. Call `/v1/models` to view "
                   "available models for your key.",
        "type": "invalid_request_error", "param": None, "code": "400",
    }}  # fmt: skip
    server.add_model("proxy-x", Plan(status=400, error_body=litellm))
    (error,) = collect(server, "proxy-x")
    assert error.status_code == 400
    assert "'proxy-x'" in error.hint and "%chat models" in error.hint

    other = {"error": {"message": "temperature must be at most 2", "type": "invalid_request_error",
                       "param": "temperature", "code": None}}  # fmt: skip
    server.add_model("strict", Plan(status=400, error_body=other))
    (error,) = collect(server, "strict")
    assert error.hint == "Check the options sent with this cell."


def test_a_huge_server_error_message_is_cut_with_an_ellipsis(server):
    body = {"error": {"message": "overloaded " * 100_000, "type": "server_error"}}
    server.add_model("verbose", Plan(status=500, error_body=body))
    (error,) = collect(server, "verbose")
    assert len(error.message) == MESSAGE_LIMIT
    assert error.message.startswith("overloaded overloaded") and error.message.endswith("…")


def test_credentials_in_the_base_url_never_reach_the_error_text(server):
    base_url = f"http://someone:URLPASSWORD@127.0.0.1:{server.port}/v1?api-key=URLSECRET"
    (error,) = collect_from(base_url, server.api_key)
    assert error.status_code == 404
    assert "Invalid URL" in error.message, "the server echoed the path it was sent"
    assert "URLSECRET" not in repr(error) and "URLPASSWORD" not in repr(error)


@pytest.mark.parametrize("base_url", [None, "http://127.0.0.1:abc/v1"])
def test_stream_text_raises_chat_error_without_a_usable_endpoint(monkeypatch, base_url):
    from streamchat_widget import ChatError, stream_text

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    if base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)

    async def collect_text() -> list[str]:
        return [piece async for piece in stream_text("hi", model="gpt-x")]

    with pytest.raises(ChatError, match="OPENAI_BASE_URL"):
        asyncio.run(collect_text())


def test_a_stop_as_the_response_opens_is_never_lost():
    """A cancellation that lands just as the request returns reaches the answer's task.

    `asyncio.wait_for` on 3.11 returned the result and dropped such a cancellation, so a
    Stop (or a new answer from the same cell) at that moment let the old answer stream on.
    """

    async def scenario() -> str:
        task = asyncio.current_task()
        assert task is not None

        async def opening() -> str:
            await asyncio.sleep(0)
            asyncio.get_running_loop().call_soon(task.cancel)  # the Stop, as it returns
            return "response"

        try:
            await within(5, opening())
            await asyncio.sleep(1)  # streaming on
        except asyncio.CancelledError:
            return "stopped"
        return "streamed on"

    assert asyncio.run(scenario()) == "stopped"


def test_the_first_byte_deadline_still_expires():
    async def silent() -> None:
        await asyncio.sleep(10)

    with pytest.raises(FirstByteTimeout):
        asyncio.run(within(0.05, silent()))
