"""An answer as a Python value: what `chat()` returns and what the static copy renders.

It has its own module so that the answer pipeline and the static copy both
import it, and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .vocabulary import MODEL_ENDPOINT, SourceLabel, Status


@dataclass
class Reply:
    """An answer as a Python value; `str(reply)` is its text."""

    text: str
    status: Status  # one of vocabulary.ENDED once the answer has ended
    model: str
    messages: list[dict[str, Any]]
    reasoning: str = ""
    refusal: str = ""
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    error: dict[str, str] | None = None
    tool_calls: list[dict[str, str]] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    conversation: str | None = None
    source: SourceLabel = MODEL_ENDPOINT
    notice: str = ""  # what the widget noted: history left out, system prompt set, tool calls
    attachments: list[dict[str, str]] = field(default_factory=list)  # a chip for each value

    def __str__(self) -> str:
        return self.text


class Replies(list[Reply]):
    """A comparison's replies, in the order the models were given (`_chat[0].text`).

    `kept` is the index of the one that entered the conversation (None: none did).
    """

    def __init__(self, replies: list[Reply], kept: int | None = None) -> None:
        super().__init__(replies)
        self.kept = kept
