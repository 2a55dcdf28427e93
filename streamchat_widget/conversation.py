"""Named conversations: the full transcript, and what of it each request sends.

Nothing is ever dropped from a transcript: `--max-history` only caps what is
sent, and the caller is told how much was left out. Exchanges are keyed by the
notebook cell that made them, so re-running a cell replaces its exchange in
place, and the re-run sees only what came before it. A system prompt applies
from the position of the cell that set it on, so a re-run of a cell above it
is sent the system prompt that was in force there.

A comparison (several models answering one cell) does not fork a transcript:
the cell records one exchange, the first model's answer or the one `--keep N`
names, and none if that answer failed (`api.compare`).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .vocabulary import DONE, Status

DEFAULT = "default"


class TranscriptError(ValueError):
    """A conversation that cannot be saved or loaded; the message says why, in one line."""


@dataclass
class Exchange:
    user: str
    assistant: str
    status: Status = DONE
    cell_id: str | None = None
    # The user message's content as sent when it was more than `user` (attached values).
    content: str | list[dict[str, Any]] | None = None

    @property
    def sent(self) -> str | list[dict[str, Any]]:
        return self.user if self.content is None else self.content


@dataclass
class Outgoing:
    """The messages one request sends, and how many earlier exchanges were left out."""

    messages: list[dict[str, Any]]
    sent: int
    omitted: int


@dataclass
class Conversation:
    name: str
    exchanges: list[Exchange] = field(default_factory=list)
    # Position of the first exchange a system prompt applies to -> that prompt.
    systems: dict[int, str] = field(default_factory=dict)

    @property
    def system(self) -> str | None:
        """The system prompt in force for the next new exchange."""
        return self.system_at(len(self.exchanges))

    def system_at(self, position: int) -> str | None:
        starts = [start for start in self.systems if start <= position]
        return self.systems[max(starts)] if starts else None

    def _position(self, cell_id: str | None) -> int | None:
        if cell_id is None:
            return None
        return next((i for i, e in enumerate(self.exchanges) if e.cell_id == cell_id), None)

    def position(self, cell_id: str | None) -> int:
        """Where the exchange of this cell is (a re-run) or will be (a new cell)."""
        found = self._position(cell_id)
        return len(self.exchanges) if found is None else found

    def set_system(
        self, system: str | None, *, cell_id: str | None = None, default: str | None = None
    ) -> str:
        """A cell's `-s` applies from its position on; return the notice to show, or ''.

        `default` (`ChatMagics.system`) applies only to a conversation that set none.
        """
        position = self.position(cell_id)
        current = self.system_at(position)
        if system is None:
            if not self.systems and default:
                self.systems[0] = default
            return ""
        if system == current:
            return ""
        self.systems[position] = system
        later = sorted(start for start in self.systems if start > position)
        if later and self.systems[later[0]] == system:
            del self.systems[later[0]]
        return f"System prompt {'changed' if current else 'set'} from here on."

    def outgoing(
        self,
        prompt: str,
        *,
        cell_id: str | None = None,
        max_history: int | None = None,
        content: str | list[dict[str, Any]] | None = None,
    ) -> Outgoing:
        """The messages to send; `content` stands for `prompt` when values are attached."""
        position = self.position(cell_id)
        earlier = self.exchanges[:position]
        kept = earlier if max_history is None else earlier[max(0, len(earlier) - max_history) :]
        system = self.system_at(position)
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
        for exchange in kept:
            messages.append({"role": "user", "content": exchange.sent})
            messages.append({"role": "assistant", "content": exchange.assistant})
        messages.append({"role": "user", "content": prompt if content is None else content})
        return Outgoing(messages, len(kept), len(earlier) - len(kept))

    def record(self, exchange: Exchange) -> None:
        """Add an exchange; one from a cell that already has one replaces it in place."""
        position = self._position(exchange.cell_id)
        if position is None:
            self.exchanges.append(exchange)
        else:
            self.exchanges[position] = exchange

    def to_messages(self) -> list[dict[str, Any]]:
        """The transcript in the Chat Completions `messages` format.

        Each system prompt stands where it took effect, so a load restores it there.
        """
        messages: list[dict[str, Any]] = []
        for position in range(len(self.exchanges) + 1):
            if position in self.systems:
                messages.append({"role": "system", "content": self.systems[position]})
            if position < len(self.exchanges):
                exchange = self.exchanges[position]
                messages.append({"role": "user", "content": exchange.sent})
                messages.append({"role": "assistant", "content": exchange.assistant})
        return messages

    @classmethod
    def from_messages(cls, name: str, messages: list[Any]) -> Conversation:
        conversation = cls(name)
        pending_user: Any = None
        for number, message in enumerate(messages, 1):
            if not isinstance(message, dict):
                raise TranscriptError(
                    f"message {number} is {type(message).__name__}, expected an object "
                    "with 'role' and 'content'"
                )
            role, content = message.get("role"), message.get("content")
            # A prompt with attached values is a list of parts.
            parts = content if role == "user" and _is_parts(content) else None
            if not isinstance(content, str) and parts is None:
                raise TranscriptError(
                    f"message {number}: content must be text, got {type(content).__name__}"
                )
            text = content if isinstance(content, str) else ""
            if role == "system":
                conversation.systems[len(conversation.exchanges)] = text
            elif role == "user":
                if pending_user is not None:
                    raise TranscriptError(
                        f"message {number}: two user messages in a row; "
                        "expected user/assistant pairs"
                    )
                pending_user = text if parts is None else parts
            elif role == "assistant":
                if pending_user is None:
                    raise TranscriptError(
                        f"message {number}: an assistant message without a user message before it"
                    )
                if isinstance(pending_user, str):
                    conversation.exchanges.append(Exchange(pending_user, text))
                else:
                    prompt = str(pending_user[-1].get("text", ""))
                    conversation.exchanges.append(Exchange(prompt, text, content=pending_user))
                pending_user = None
            else:
                raise TranscriptError(f"message {number}: unknown role {str(role)[:40]!r}")
        if pending_user is not None:
            raise TranscriptError("the last user message has no answer")
        return conversation


def _is_parts(content: Any) -> bool:
    """A list of typed message parts ending with the prompt's text, as attaching sends."""
    return (
        isinstance(content, list)
        and bool(content)
        and all(isinstance(p, dict) and isinstance(p.get("type"), str) for p in content)
        and content[-1]["type"] == "text"
    )


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
        """Write one conversation as UTF-8 JSON; the old file stays whole if this fails."""
        if name not in self._by_name:
            raise TranscriptError(f"there is no conversation {name!r} (see %chat list)")
        messages = self._by_name[name].to_messages()
        text = json.dumps(messages, indent=1, ensure_ascii=False) + "\n"
        replace_file(Path(path).expanduser(), text)
        return len(messages)

    def load(self, name: str, path: str | Path) -> Conversation:
        """Read a `messages` list (or an object holding one) into conversation `name`."""
        target = Path(path).expanduser()
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TranscriptError(f"cannot read {target}: {_reason(exc)}") from None
        except UnicodeDecodeError:
            raise TranscriptError(f"{target} is not UTF-8 text") from None
        except ValueError as exc:
            raise TranscriptError(f"{target} is not JSON: {exc}") from None
        except RecursionError:
            raise TranscriptError(f"{target} nests too deeply to be a conversation") from None
        if isinstance(data, dict):
            data = data.get("messages")
        if not isinstance(data, list):
            raise TranscriptError(
                f"{target}: expected a JSON list of messages (or an object with 'messages')"
            )
        self._by_name[name] = Conversation.from_messages(name, data)
        return self._by_name[name]


def replace_file(path: Path, text: str) -> None:
    """Write `text` as UTF-8 to a temporary file beside `path`, then rename it over `path`.

    A failure (bad directory, full disk, encoding) leaves any existing file as it was.
    """
    target = Path(os.path.realpath(path))  # replace what a symlink points to, not the link
    if target.is_dir():
        raise TranscriptError(f"cannot write {path}: it is a directory")
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as exc:
        raise TranscriptError(f"cannot write {path}: {_reason(exc)}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as exc:
        os.unlink(temporary)
        if isinstance(exc, (OSError, UnicodeError)):
            raise TranscriptError(f"cannot write {path}: {_reason(exc)}") from None
        raise


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


CONVERSATIONS = Conversations()
