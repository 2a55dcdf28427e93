"""What the stream has said so far, gathered apart from the widget that shows it.

The accumulator only collects typed events (already coerced by `stream.py`), so
building the final `Reply` from it cannot fail on what a server sent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .reply import Reply
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
from .vocabulary import SourceLabel, Status


@dataclass
class Accumulator:
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    error: StreamError | None = None
    deltas: int = 0
    started: float = field(default_factory=time.monotonic)
    first_token: float | None = None

    def apply(self, event: Event) -> None:
        if isinstance(event, (TextDelta, ReasoningDelta, RefusalDelta)):
            if self.first_token is None:
                self.first_token = time.monotonic()
            self.deltas += 1
        if isinstance(event, TextDelta):
            self.text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self.reasoning.append(event.text)
        elif isinstance(event, RefusalDelta):
            self.refusal.append(event.text)
        elif isinstance(event, ToolCallDelta):
            call = self.tool_calls.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
            call["id"] = event.id or call["id"]
            call["name"] = event.name or call["name"]
            call["arguments"] += event.arguments
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
        elif isinstance(event, Usage):
            self.usage = event.as_dict()
        elif isinstance(event, StreamError):
            self.error = event

    def stats(self) -> dict[str, float]:
        ended = time.monotonic()
        stats = {"elapsed_s": round(ended - self.started, 3)}
        if self.first_token is not None:
            stats["ttft_s"] = round(self.first_token - self.started, 3)
            tokens = (self.usage or {}).get("completion_tokens") or self.deltas
            if ended > self.first_token:
                stats["tokens_per_s"] = round(tokens / (ended - self.first_token), 1)
        return stats

    def reply(
        self,
        status: Status,
        error: StreamError | None,
        request: Mapping[str, Any],
        *,
        conversation: str | None,
        source: SourceLabel,
        notice: str,
        attachments: list[dict[str, str]],
    ) -> Reply:
        """The reply as it stands; `error` is what ended the answer, if anything did."""
        calls = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        if calls:
            asked = ", ".join(f"{c['name']}({c['arguments']})" for c in calls)
            asked_note = f"The model asked to call {asked}; not run here."
            notice = " ".join(filter(None, [notice, asked_note]))
        return Reply(
            text="".join(self.text),
            status=status,
            model=str(request["model"]),
            messages=list(request.get("messages", [])),
            reasoning="".join(self.reasoning),
            refusal="".join(self.refusal),
            finish_reason=self.finish_reason,
            usage=self.usage,
            error=error.as_dict() if error else None,
            tool_calls=calls,
            stats=self.stats(),
            conversation=conversation,
            source=source,
            notice=notice,
            attachments=attachments,
        )
