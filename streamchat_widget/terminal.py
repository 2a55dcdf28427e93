"""Where nothing can show a widget (plain `python`, terminal IPython): plain text.

IPython's `display()` outside a kernel prints each MIME bundle as a dict, HTML
and script included. So there the answer's text goes to stdout as it arrives
(flushed, so a pipe or a terminal sees it at once) and everything about the
answer (notices, retries, how it ended, its error card) goes to stderr, so
that stdout holds only the answer and can be piped on. When the pipe's reader
goes (`python script.py | head`), the answer stops, as with Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

from .reply import Reply
from .vocabulary import DONE, ERROR


def can_show_widgets() -> bool:
    """Whether a front end renders widgets: an IPython kernel, or a marimo notebook."""
    from IPython import get_ipython

    if getattr(get_ipython(), "kernel", None) is not None:
        return True
    marimo = sys.modules.get("marimo")
    return bool(marimo is not None and marimo.running_in_notebook())


class TerminalView:
    """One answer on a terminal: its text on stdout, the rest on stderr."""

    def __init__(self, notice: str = "") -> None:
        self._ends_with_newline = True
        self._stop: Callable[[], None] = lambda: None
        if notice:
            _say(notice)

    def push(self, *, text: str = "", reasoning: str = "", refusal: str = "") -> None:
        """Reasoning is not printed: only the answer belongs on stdout."""
        del reasoning
        for piece in (text, refusal):
            if piece:
                self._write(piece)
                self._ends_with_newline = piece.endswith("\n")

    def _write(self, text: str) -> None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            # No one reads on: stop the answer, and (as Python's docs advise) point stdout
            # at devnull, so that later writes and the flush at exit do not fail too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            self._stop()

    def stoppable(self, stop: Callable[[], None]) -> contextlib.AbstractContextManager[None]:
        """Ctrl-C is the Stop here (`asyncio.run` turns it into cancelling the answer); so is
        a closed stdout."""
        self._stop = stop
        return contextlib.nullcontext()

    def retrying(self, attempt: int) -> None:
        _say(f"retrying… (attempt {attempt + 1})")

    def show(self, reply: Reply, host: str, options: dict[str, Any]) -> None:
        """End the answer's line; say how it ended unless it simply finished.

        `host` and `options` are the static copy's provenance: a terminal has none.
        """
        del host, options
        if not self._ends_with_newline:
            self._write("\n")
        if reply.status == ERROR and reply.error:
            card = reply.error
            hint = f" {card['hint']}" if card.get("hint") else ""
            _say(f"{card['title']}: {card['message']}{hint}")
        elif reply.status != DONE:
            _say(f"[{reply.status}]")

    def show_plainly(self, reply: Reply, host: str) -> None:
        self.show(reply, host, {})


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
