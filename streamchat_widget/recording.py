"""Record exchanges to JSONL, and answer matching requests from such a file.

A recording lets a notebook made with a real model be re-run by anyone,
offline and without a key: each line holds a request (model, messages,
options) and the stream's events with their timing. Replay matches the whole
request, so the same prompt in another conversation or with other options is
not answered from it. Keys never enter a recording: requests carry none.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import time
from collections.abc import AsyncIterator, Mapping
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

_EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (TextDelta, ReasoningDelta, RefusalDelta, ToolCallDelta, Usage, Finish, StreamError)
}


def normalized(request: Mapping[str, Any]) -> dict[str, Any]:
    """What makes two requests the same: model, messages, options as sent."""
    return {
        "model": request["model"],
        "messages": request["messages"],
        "options": sent_options(request),
    }


def _key(normal: Mapping[str, Any]) -> str:
    return json.dumps(normal, sort_keys=True)


def _prompt(request: Mapping[str, Any]) -> str:
    users = [m.get("content", "") for m in request["messages"] if m.get("role") == "user"]
    return str(users[-1]) if users else ""


@dataclass
class Recording:
    """One exchange as it happened: events with seconds since the request started."""

    request: dict[str, Any]
    status: str
    events: list[tuple[float, Event]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def add(self, event: Event) -> None:
        self.events.append((time.monotonic() - self.started, event))

    def to_json(self) -> str:
        events = [[round(t, 4), type(e).__name__, asdict(e)] for t, e in self.events]
        record = {"request": self.request, "status": self.status, "events": events}
        return json.dumps(record, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Recording:
        data = json.loads(line)
        events = [(t, _EVENT_TYPES[name](**fields)) for t, name, fields in data["events"]]
        return cls(data["request"], data["status"], events)


class Recorder:
    """Appends every finished exchange to a JSONL file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()

    def start(self, request: Mapping[str, Any]) -> Recording:
        return Recording(normalized(request), status="streaming")

    def write(self, recording: Recording, status: str) -> None:
        recording.status = status
        with self.path.open("a", encoding="utf-8") as file:
            file.write(recording.to_json() + "\n")


class ReplayMissing(LookupError):
    """No recording matches the request."""


class Replayer:
    """Answers requests from a recording, at the recorded pace divided by `speed`."""

    def __init__(self, path: str | Path, speed: float = 1.0) -> None:
        self.path = Path(path)
        self.speed = speed
        lines = self.path.read_text(encoding="utf-8").splitlines()
        self.recordings: dict[str, Recording] = {}
        for line in lines:
            if line.strip():
                recording = Recording.from_json(line)
                self.recordings[_key(recording.request)] = recording

    def find(self, request: Mapping[str, Any]) -> Recording:
        found = self.recordings.get(_key(normalized(request)))
        if found is not None:
            return found
        prompts = [_prompt(r.request) for r in self.recordings.values()]
        closest = difflib.get_close_matches(_prompt(request), prompts, n=1, cutoff=0)
        hint = f" The closest recorded prompt is {closest[0]!r}." if closest else ""
        raise ReplayMissing(
            f"{self.path.name} has no recording of this request (same model, conversation, "
            f"prompt and options).{hint}"
        )

    async def stream(self, request: Mapping[str, Any]) -> AsyncIterator[Event]:
        """The recorded events; a recording of a stopped answer stops the same way."""
        try:
            recording = self.find(request)
        except ReplayMissing as exc:
            yield StreamError("No recording for this request", str(exc), "Run it with a model.")
            return
        elapsed = 0.0
        for t, event in recording.events:
            if self.speed > 0 and t > elapsed:
                await asyncio.sleep((t - elapsed) / self.speed)
            elapsed = t
            yield event
        if recording.status == "stopped":
            current = asyncio.current_task()
            if current is not None:
                current.cancel()
                await asyncio.sleep(0)


@dataclass
class Session:
    """The kernel's recording and replay switches, set by `%chat record` / `%chat replay`."""

    recorder: Recorder | None = None
    replayer: Replayer | None = None


SESSION = Session()
