"""The words the kernel and the front end share, defined once for Python.

An answer's status, where it came from (the badge), and the types of the custom
messages between kernel and browser. `js/src/vocabulary.ts` is the TypeScript
side; `tests/test_vocabulary.py` reads it with a real parser and checks that
the two agree.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Status = Literal["streaming", "done", "stopped", "error"]
STREAMING: Final = "streaming"
DONE: Final = "done"
STOPPED: Final = "stopped"
ERROR: Final = "error"
STATUSES: tuple[Status, ...] = get_args(Status)
# What an answer that has ended says (a reply, a recording); the first two are kept in history.
ENDED: tuple[Status, ...] = (DONE, STOPPED, ERROR)
KEPT: tuple[Status, ...] = (DONE, STOPPED)

# Where an answer came from, as its badge shows it: a model's endpoint shows none.
SourceLabel = Literal["", "offline demo", "replay"]
MODEL_ENDPOINT: Final = ""
DEMO: Final = "offline demo"
REPLAY: Final = "replay"
SOURCES: tuple[SourceLabel, ...] = get_args(SourceLabel)

# Custom messages: numbered deltas go to the browser; the Stop click comes back, and so
# does a view's request for the deltas sent before its model existed (`catch_up`).
MessageType = Literal["delta", "stop", "catch_up"]
DELTA: Final = "delta"
STOP: Final = "stop"
CATCH_UP: Final = "catch_up"
MESSAGE_TYPES: tuple[MessageType, ...] = get_args(MessageType)
