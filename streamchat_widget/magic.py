"""`%%chat`: the cell body is the prompt; the answer streams into a widget below.

IPython has no async magics, so an input transformer rewrites a cell whose
first line is `%%chat` into `await <chat_cell>(line, body)`: the cell then
awaits the stream as an async cell, and ipykernel can still handle the Stop
click meanwhile. Where that rewrite cannot apply (autoawait off, a non-asyncio
loop runner, `%%chat` under another cell magic, `run_cell_magic`), the
ordinary cell magic runs the same coroutine on a worker thread's event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import threading
from collections.abc import Coroutine
from typing import Any

from IPython.core.async_helpers import _asyncio_runner
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Unicode

from .answer import Reply, answer
from .endpoint import default_model

_CHAT_CELL = re.compile(r"^%%chat(?:[ \t](?P<line>.*))?$")


@magics_class
class ChatMagics(Magics):
    """Defaults for `%%chat`, settable with `%config ChatMagics.<name> = ...`."""

    model = Unicode(
        "",
        help="Default model. Empty: $STREAMCHAT_MODEL, else 'demo' offline or 'gpt-4o-mini'.",
    ).tag(config=True)

    @no_var_expand
    @magic_arguments()
    @argument("-m", "--model", help="Model to ask (default: see ChatMagics.model).")
    @cell_magic
    def chat(self, line: str, cell: str) -> None:
        """Send the cell body as a prompt and stream the answer into a widget.

        The reply is kept as `_chat` in the user namespace (`.text`, `.status`, ...).
        """
        run_blocking(self.chat_cell(line, cell))

    async def chat_cell(self, line: str, cell: str) -> None:
        args = parse_argstring(self.chat, line)
        if not cell.strip():
            raise UsageError("%%chat needs a prompt: write it in the cell, below %%chat.")
        model = args.model or self.model or default_model()
        request = {"model": model, "messages": [{"role": "user", "content": cell}]}
        reply: Reply = await answer(request)
        self.shell.user_ns["_chat"] = reply

    def transform(self, lines: list[str]) -> list[str]:
        """Rewrite a `%%chat` cell into an awaited call, when the kernel can await it."""
        match = _CHAT_CELL.match(lines[0].rstrip("\r\n")) if lines else None
        if match is None or not self._can_await():
            return lines
        line = match["line"] or ""
        body = "".join(lines[1:])
        return [
            "await __import__('IPython').get_ipython().magics_manager.registry"
            f"['ChatMagics'].chat_cell({line!r}, {body!r})\n"
        ]

    def _can_await(self) -> bool:
        shell = self.shell
        return bool(shell.autoawait) and shell.loop_runner is _asyncio_runner


def run_blocking(coro: Coroutine[Any, Any, None]) -> None:
    """Run `coro` to the end from synchronous code, on a thread when a loop is running.

    A kernel interrupt (KeyboardInterrupt here) cancels it, exactly like the
    interrupt of an async cell, and waits for it to clean up.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    started, finished = threading.Event(), threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        state["loop"] = asyncio.get_running_loop()
        state["task"] = asyncio.current_task()
        started.set()
        await coro

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            state["error"] = exc
        finally:
            started.set()
            finished.set()

    # Wait on an Event, not Thread.join: a KeyboardInterrupt inside join() can leave
    # the thread looking finished while it still runs (CPython gh-90882).
    threading.Thread(
        target=contextvars.copy_context().run, args=(target,), name="streamchat", daemon=True
    ).start()
    try:
        while not finished.wait(0.05):
            pass
    except KeyboardInterrupt:
        started.wait()
        if "task" in state:
            state["loop"].call_soon_threadsafe(state["task"].cancel)
        finished.wait()
    if "error" in state:
        raise state["error"]
