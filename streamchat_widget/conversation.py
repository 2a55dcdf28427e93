"""Named conversations: the full transcript, and what of it each request sends.

Nothing is ever dropped from a transcript: `--max-history` only caps what is
sent, and the caller is told how much was left out. Exchanges are keyed by the
notebook cell that made them, so re-running a cell replaces its exchange in
place, and the re-run sees only what came before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT = "default"


@dataclass
class Exchange:
    user: str
    assistant: str
    status: str = "done"
    cell_id: str | None = None


@dataclass
class Outgoing:
    """The messages one request sends, and how many earlier exchanges were left out."""

    messages: list[dict[str, str]]
    sent: int
    omitted: int


@dataclass
class Conversation:
    name: str
    system: str | None = None
    exchanges: list[Exchange] = field(default_factory=list)

    def _position(self, cell_id: str | None) -> int | None:
        if cell_id is None:
            return None
        return next((i for i, e in enumerate(self.exchanges) if e.cell_id == cell_id), None)

    def outgoing(
        self, prompt: str, *, cell_id: str | None = None, max_history: int | None = None
    ) -> Outgoing:
        position = self._position(cell_id)
        earlier = self.exchanges if position is None else self.exchanges[:position]
        kept = earlier if max_history is None else earlier[max(0, len(earlier) - max_history) :]
        messages = [{"role": "system", "content": self.system}] if self.system else []
        for exchange in kept:
            messages.append({"role": "user", "content": exchange.user})
            messages.append({"role": "assistant", "content": exchange.assistant})
        messages.append({"role": "user", "content": prompt})
        return Outgoing(messages, len(kept), len(earlier) - len(kept))

    def record(self, exchange: Exchange) -> None:
        """Add an exchange; one from a cell that already has one replaces it in place."""
        position = self._position(exchange.cell_id)
        if position is None:
            self.exchanges.append(exchange)
        else:
            self.exchanges[position] = exchange

    def to_messages(self) -> list[dict[str, str]]:
        """The transcript in the Chat Completions `messages` format."""
        return self.outgoing("").messages[:-1] if self.exchanges or self.system else []

    @classmethod
    def from_messages(cls, name: str, messages: list[dict[str, Any]]) -> Conversation:
        conversation = cls(name)
        pending_user: str | None = None
        for message in messages:
            role, content = message.get("role"), message.get("content")
            if not isinstance(content, str):
                raise ValueError(f"message content must be text, got {type(content).__name__}")
            if role == "system":
                conversation.system = content
            elif role == "user":
                if pending_user is not None:
                    raise ValueError("two user messages in a row: expected user/assistant pairs")
                pending_user = content
            elif role == "assistant":
                if pending_user is None:
                    raise ValueError("an assistant message without a user message before it")
                conversation.exchanges.append(Exchange(pending_user, content))
                pending_user = None
            else:
                raise ValueError(f"unknown role {role!r}")
        if pending_user is not None:
            raise ValueError("the last user message has no answer")
        return conversation


class Conversations:
    """All conversations of a kernel, by name; created on first use."""

    def __init__(self) -> None:
        self._by_name: dict[str, Conversation] = {}

    def get(self, name: str = DEFAULT) -> Conversation:
        return self._by_name.setdefault(name, Conversation(name))

    def new(self, name: str = DEFAULT) -> Conversation:
        """Start `name` afresh: no exchanges, no system prompt."""
        self._by_name[name] = Conversation(name)
        return self._by_name[name]

    def reset(self, name: str | None = None) -> None:
        """Forget one conversation, or all of them."""
        if name is None:
            self._by_name.clear()
        else:
            self._by_name.pop(name, None)

    def names(self) -> dict[str, int]:
        return {name: len(c.exchanges) for name, c in self._by_name.items()}

    def save(self, name: str, path: str | Path) -> int:
        messages = self.get(name).to_messages()
        Path(path).write_text(json.dumps(messages, indent=1, ensure_ascii=False) + "\n")
        return len(messages)

    def load(self, name: str, path: str | Path) -> Conversation:
        data = json.loads(Path(path).read_text())
        if isinstance(data, dict):
            data = data.get("messages")
        if not isinstance(data, list):
            raise ValueError("expected a JSON list of messages (or an object with 'messages')")
        self._by_name[name] = Conversation.from_messages(name, data)
        return self._by_name[name]


CONVERSATIONS = Conversations()
