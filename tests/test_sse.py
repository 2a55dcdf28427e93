"""The event stream is read per the HTML standard's rules, through the real client.

`stream_chat` reads the response body itself (the openai client only sends the
request), so the framing every server uses must hold here: line ends of each
kind, comments, multi-line data, event ids, a byte order mark, bytes that are
not UTF-8, and events or characters cut across network reads.
"""

from __future__ import annotations

import json

from streamchat_widget.sse import ServerSentEvent, SSEDecoder
from streamchat_widget.stream import StreamError, TextDelta
from tests.sse_server import Plan
from tests.test_stream import collect


def _data(content: str, finish: str | None = None) -> str:
    return json.dumps({"choices": [{"index": 0, "delta": {"content": content},
                                    "finish_reason": finish}]}, ensure_ascii=False)  # fmt: skip


def _answer(server, raw: list[bytes], done: bool = True) -> tuple[str, list[StreamError]]:
    server.add_model("framed", Plan(raw=raw, done=done))
    events = collect(server, "framed")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    return text, [e for e in events if isinstance(e, StreamError)]


def test_event_ids_and_keep_alive_comments_do_not_break_the_stream(server):
    raw = [f"id: 1\ndata: {_data('one ')}\n\n".encode(), b": keep-alive\n\n",
           f"id: 2\nretry: 100\ndata: {_data('two', 'stop')}\n\n".encode()]  # fmt: skip
    assert _answer(server, raw) == ("one two", [])


def test_bytes_that_are_not_utf8_become_replacement_characters(server):
    raw = [f"data: {_data('caf@ ')}\n\n".encode().replace(b"@", b"\xff"),
           f"data: {_data('ok', 'stop')}\n\n".encode()]  # fmt: skip
    assert _answer(server, raw) == ("caf\ufffd ok", [])


def test_a_byte_order_mark_before_the_first_event_is_skipped(server):
    raw = [b"\xef\xbb\xbf" + f"data: {_data('first ')}\n\n".encode(),
           f"data: {_data('last', 'stop')}\n\n".encode()]  # fmt: skip
    assert _answer(server, raw) == ("first last", [])


def test_line_ends_of_every_kind_and_multi_line_data(server):
    first, rest = _data("a ").split(":", 1)
    raw = [f"data: {first}:\r\ndata: {rest}\r\n\r\n".encode(),
           f"data: {_data('b ')}\r\r".encode(),
           f"event: message\ndata: {_data('c', 'stop')}\n\n".encode()]  # fmt: skip
    assert _answer(server, raw) == ("a b c", [])


def test_an_event_and_a_character_cut_across_network_reads(server):
    word = "caf\u00e9 "
    wire = f"data: {_data(word)}\r\n\r\ndata: {_data('end', 'stop')}\n\n"
    encoded = wire.encode()
    cut = encoded.index(b"\xa9")  # inside the two bytes of U+00E9
    crlf = encoded.index(b"\r\n") + 1  # between CR and LF
    raw = [encoded[:cut], encoded[cut:crlf], encoded[crlf:]]
    assert _answer(server, raw) == ("caf\u00e9 end", [])


def test_an_event_the_stream_cuts_off_is_dropped(server):
    raw = [f"data: {_data('kept')}\n\n".encode(), f"data: {_data(' lost')}\n".encode()]
    assert _answer(server, raw, done=False) == ("kept", [])


def test_the_decoder_joins_a_crlf_split_between_two_feeds():
    decoder = SSEDecoder()
    events = [*decoder.feed(b"data: a\r"), *decoder.feed(b"\ndata: b\r"), *decoder.feed(b"\n\r\n")]
    assert events == [ServerSentEvent("", "a\nb")]


def test_the_decoder_keeps_a_line_fed_a_byte_at_a_time():
    decoder = SSEDecoder()
    wire = "event: x\ndata: d\u00e9j\u00e0 vu\n\n".encode()
    events = [event for i in range(len(wire)) for event in decoder.feed(wire[i : i + 1])]
    assert events == [ServerSentEvent("x", "d\u00e9j\u00e0 vu")]
