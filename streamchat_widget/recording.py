"""Record exchanges to JSONL, and answer matching requests from such a file.

A recording lets a notebook made with a real model be re-run by anyone,
offline and without a key: each line holds the conversation's name, a request
(model, messages, options) and the stream's events with their timing. Replay
matches all of them, so the same prompt in another conversation or with other
options is not answered from it. Lines written before names were recorded
have no `conversation` and match in any conversation. A request recorded more
than once is answered with each recording in turn, then the last one again.
Keys never enter a recording: requests carry none, and option values that look
like secrets are redacted (`request.sent_options`).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import math
import time
import typing
from collections.abc import AsyncGenerator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .request import sent_options
from .stream import (
    Event,
    Finish,
    ReasoningDelta,
    RefusalDelta,
    StreamError,
    TextDelta,
    ToolCallDelta,
    Usage,
)
from .vocabulary import ENDED, STOPPED, STREAMING

_EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (TextDelta, ReasoningDelta, RefusalDelta, ToolCallDelta, Usage, Finish, StreamError)
}
_FIELD_TYPES = {name: typing.get_type_hints(cls) for name, cls in _EVENT_TYPES.items()}
# JSON leaves these raw inside strings, and `str.splitlines()` splits on them.
_LINE_BREAKS = ("\u2028", "\u2029", "\x85")
# A replay miss names the closest recorded prompt; bounded, as it runs on the kernel's loop.
HINT_PREFIX = 400
HINT_CANDIDATES = 5
HINT_POOL = 1000


class RecordingError(ValueError):
    """A recording that cannot be written or read; the message says why, in one line."""


def normalized(request: Mapping[str, Any]) -> dict[str, Any]:
    """What makes two requests the same: model, messages, options as sent."""
    return {
        "model": request["model"],
        "messages": request["messages"],
        "options": sent_options(request),
    }


def _key(conversation: str | None, normal: Mapping[str, Any]) -> str:
    return json.dumps([conversation, normal], sort_keys=True)


def _prompt(request: Mapping[str, Any]) -> str:
    users = [m.get("content", "") for m in request["messages"] if m.get("role") == "user"]
    return str(users[-1]) if users else ""


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…"


@dataclass
class Recording:
    """One exchange as it happened: events with seconds since the request started."""

    request: dict[str, Any]
    status: str
    events: list[tuple[float, Event]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    conversation: str | None = None

    def add(self, event: Event) -> None:
        self.events.append((time.monotonic() - self.started, event))

    def to_json(self) -> str:
        """One line: `\\n` is the only line break left in it, whatever the answer holds."""
        events = [[round(t, 4), type(e).__name__, asdict(e)] for t, e in self.events]
        record: dict[str, Any] = {"request": self.request, "status": self.status, "events": events}
        if self.conversation is not None:
            record = {"conversation": self.conversation, **record}
        text = json.dumps(record, ensure_ascii=False)
        for char in _LINE_BREAKS:
            text = text.replace(char, f"\\u{ord(char):04x}")
        return text

    @classmethod
    def from_json(cls, line: str) -> Recording:
        """Parse one line, checking every field's type: a file may come from anywhere."""
        data = json.loads(line)
        if not isinstance(data, dict):
            raise RecordingError(f"expected an object, got {type(data).__name__}")
        conversation = data.get("conversation")
        if conversation is not None and not isinstance(conversation, str):
            raise RecordingError("'conversation' must be text")
        if data.get("status") not in ENDED:
            raise RecordingError(f"'status' must be one of {', '.join(ENDED)}")
        events = data.get("events")
        if not isinstance(events, list):
            raise RecordingError("'events' must be a list")
        return cls(
            _checked_request(data.get("request")),
            data["status"],
            [_checked_event(event) for event in events],
            conversation=conversation,
        )


def _checked_request(request: Any) -> dict[str, Any]:
    if not isinstance(request, dict) or not isinstance(request.get("model"), str):
        raise RecordingError("'request' must be an object with a 'model'")
    messages = request.get("messages")
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages
    ):
        raise RecordingError("'request.messages' must be a list of messages with a 'role'")
    if not isinstance(request.get("options", {}), dict):
        raise RecordingError("'request.options' must be an object")
    return {"model": request["model"], "messages": messages, "options": request.get("options", {})}


def _checked_event(event: Any) -> tuple[float, Event]:
    if not (isinstance(event, list) and len(event) == 3):
        raise RecordingError("each event must be [seconds, type, fields]")
    t, name, fields = event
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        raise RecordingError(f"event time must be a number of seconds, got {t!r}")
    if name not in _EVENT_TYPES or not isinstance(fields, dict):
        raise RecordingError(f"unknown event {str(name)[:40]!r}")
    types = _FIELD_TYPES[name]
    for key, value in fields.items():
        if key not in types or not isinstance(value, types[key]):
            raise RecordingError(f"{name}.{str(key)[:40]} has the wrong type")
    try:
        return float(t), _EVENT_TYPES[name](**fields)
    except TypeError as exc:
        raise RecordingError(f"{name}: {exc}") from None


class Recorder:
    """Appends every finished exchange to a JSONL file."""

    def __init__(self, path: str | Path) -> None:
        """Refuse now, not after an answer, a path that cannot be appended to."""
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise RecordingError(f"cannot record to {path}: it is a directory")
        folder = next((p for p in self.path.parents if p.exists()), None)
        if folder is not None and not folder.is_dir():
            raise RecordingError(f"cannot record to {path}: {folder} is not a directory")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                pass
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise RecordingError(f"cannot record to {path}: {reason}") from None

    def start(self, request: Mapping[str, Any], *, conversation: str | None) -> Recording:
        return Recording(normalized(request), status=STREAMING, conversation=conversation)

    def write(self, recording: Recording, status: str) -> None:
        recording.status = status
        with self.path.open("a", encoding="utf-8") as file:
            file.write(recording.to_json() + "\n")


class ReplayMissing(LookupError):
    """No recording matches the request."""


class Replayer:
    """Answers requests from a recording, at the recorded pace divided by `speed`.

    A line that cannot be read is skipped and named in `skipped`; a file with
    lines but none readable is refused.
    """

    def __init__(self, path: str | Path, speed: float = 1.0) -> None:
        self.path = Path(path).expanduser()
        self.speed = speed
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise RecordingError(f"{path} is not UTF-8 text") from None
        self.recordings: list[Recording] = []
        self.skipped: list[str] = []
        self._by_key: dict[str, list[Recording]] = {}
        self._served: dict[str, int] = {}
        self._by_prompt: dict[str, list[Recording]] = {}
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                recording = Recording.from_json(line)
            except (ValueError, RecursionError) as exc:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                self.skipped.append(f"line {number} skipped: {_shorten(reason, 120)}")
                continue
            self.recordings.append(recording)
            key = _key(recording.conversation, recording.request)
            self._by_key.setdefault(key, []).append(recording)
            self._by_prompt.setdefault(_prompt(recording.request), []).append(recording)
        if self.skipped and not self.recordings:
            raise RecordingError(f"{path} holds no readable recording ({self.skipped[0]})")

    @property
    def repeats(self) -> int:
        """How many recordings repeat an earlier one's request (answered in turn)."""
        return len(self.recordings) - len(self._by_key)

    def find(self, request: Mapping[str, Any], conversation: str | None) -> Recording:
        normal = normalized(request)
        for key in (_key(conversation, normal), _key(None, normal)):
            found = self._by_key.get(key)
            if found:
                served = self._served.get(key, 0)
                self._served[key] = served + 1
                return found[min(served, len(found) - 1)]
        raise ReplayMissing(
            f"{self.path.name} has no recording of this request (same model, conversation, "
            f"prompt and options).{self._hint(normal, conversation)}"
        )

    def _hint(self, normal: Mapping[str, Any], conversation: str | None) -> str:
        prompt = _prompt(normal)
        same = self._by_prompt.get(prompt)
        if same:
            differences = min((_differences(r, normal, conversation) for r in same), key=len)
            if differences:
                return f" The same prompt was recorded {', '.join(differences)}."
        closest = closest_prompt(prompt, list(self._by_prompt)[-HINT_POOL:])
        return f" The closest recorded prompt is {_shorten(closest)!r}." if closest else ""

    async def stream(
        self, request: Mapping[str, Any], *, conversation: str | None
    ) -> AsyncGenerator[Event, None]:
        """The recorded events; a recording of a stopped answer stops the same way."""
        try:
            recording = self.find(request, conversation)
        except ReplayMissing as exc:
            yield StreamError("No recording for this request", str(exc), "Run it with a model.")
            return
        elapsed = 0.0
        for t, event in recording.events:
            if self.speed > 0 and t > elapsed:
                await asyncio.sleep((t - elapsed) / self.speed)
            elapsed = t
            yield event
        if recording.status == STOPPED:
            current = asyncio.current_task()
            if current is not None:
                current.cancel()
                await asyncio.sleep(0)


def _differences(
    recording: Recording, normal: Mapping[str, Any], conversation: str | None
) -> list[str]:
    differences = []
    if recording.conversation not in (None, conversation):
        differences.append(f"in conversation {recording.conversation!r}")
    if recording.request["model"] != normal["model"]:
        differences.append(f"for model {_shorten(recording.request['model'], 60)!r}")
    if recording.request["messages"] != normal["messages"]:
        differences.append("after other earlier messages")
    if recording.request["options"] != normal["options"]:
        differences.append("with other options")
    return differences


def closest_prompt(prompt: str, prompts: list[str]) -> str | None:
    """The recorded prompt most like `prompt`, with bounded work.

    Only the first `HINT_PREFIX` characters are compared; the cheap
    `quick_ratio` ranks them all and the full `ratio` runs on the best few.
    """
    matcher = difflib.SequenceMatcher(None, b=prompt[:HINT_PREFIX], autojunk=False)
    ranked = []
    for candidate in prompts:
        matcher.set_seq1(candidate[:HINT_PREFIX])
        ranked.append((matcher.quick_ratio(), candidate))
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    best, best_ratio = None, -1.0
    for _, candidate in ranked[:HINT_CANDIDATES]:
        matcher.set_seq1(candidate[:HINT_PREFIX])
        ratio = matcher.ratio()
        if ratio > best_ratio:
            best, best_ratio = candidate, ratio
    return best


@dataclass
class Session:
    """The kernel's recording and replay switches, set by `%chat record` / `%chat replay`."""

    recorder: Recorder | None = None
    replayer: Replayer | None = None


SESSION = Session()
