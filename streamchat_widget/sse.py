"""Server-sent events from a byte stream, per the HTML standard's event-stream rules.

The openai client turns every chunk into a pydantic model, which costs more
than everything else `%%chat` does per token; reading the event stream here
and handing each event's data to `json.loads` keeps the client for the request
(auth, retries, timeouts, status errors) and skips that cost.

Lines end in CRLF, LF or CR (a CRLF split between two reads is one line end);
`:` lines are comments; `data` lines of one event are joined with LF; an event
is dispatched at a blank line, and one cut off by the end of the stream is
dropped. One difference from the standard, kept from the openai client's own
decoder so a stream reads the same through either: an event with a name but no
data is dispatched, with empty data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    event: str  # "" when the event had no `event:` field
    data: str


class SSEDecoder:
    """Feed it the response body's chunks as they arrive; it returns the events they end."""

    def __init__(self) -> None:
        self._partial: list[bytes] = []  # the bytes of an unfinished line
        self._after_cr = False  # the last line ended in CR: a leading LF belongs to it
        self._first_line = True
        self._event = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        if self._after_cr and chunk:
            self._after_cr = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
        if end == 0:
            if chunk:
                self._partial.append(chunk)
            return []
        if self._partial:
            complete = b"".join([*self._partial, chunk[:end]])
            self._partial.clear()
        else:
            complete = chunk[:end]
        if end < len(chunk):
            self._partial.append(chunk[end:])
        if b"\r" in complete:
            self._after_cr = complete[-1] == 0x0D
            complete = complete.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        # Whole lines only, so no UTF-8 sequence is cut; bad bytes become U+FFFD, per the standard.
        lines = complete.decode("utf-8", "replace").split("\n")
        lines.pop()  # the empty string after the last line end
        if self._first_line:
            self._first_line = False
            if lines[0].startswith("\ufeff"):
                lines[0] = lines[0][1:]
        return self._lines(lines)

    def _lines(self, lines: Iterable[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line:
                if data or self._event:
                    events.append(ServerSentEvent(self._event, "\n".join(data)))
                    data.clear()
                self._event = ""
            elif line[0] != ":":
                name, _, value = line.partition(":")
                if value.startswith(" "):
                    value = value[1:]
                if name == "data":
                    data.append(value)
                elif name == "event":
                    self._event = value
                # `id` and `retry` matter only to a reconnecting browser; other fields are ignored.
        return events
