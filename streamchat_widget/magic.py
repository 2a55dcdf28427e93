"""`%%chat`: the cell body is the prompt; the answer streams into a widget below.

IPython has no async magics, so an input transformer rewrites a cell whose
first line is `%%chat` into `await <chat_cell>(line, body)`: the cell then
awaits the stream as an async cell, and ipykernel can still handle the Stop
click meanwhile. Where the kernel cannot await (autoawait off, a non-asyncio
loop runner) the transformer writes a synchronous call instead, which runs the
same coroutine on a worker thread's event loop; so does the ordinary cell
magic (`%%chat` under another cell magic, `run_cell_magic`). The transformer
runs before IPython's prompt strippers, so the body is sent as written.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import shlex
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from IPython.core.async_helpers import _asyncio_runner
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import (
    MagicArgumentParser,
    argument,
    magic_arguments,
)
from traitlets import TraitError, validate

from . import api, comparison, stop_listener
from .attachments import AttachmentError, from_namespace
from .conversation import CONVERSATIONS, TranscriptError
from .endpoint import EndpointError, default_model, open_endpoint
from .options import CELL_OPTIONS, cell_models, chat_keywords, config_traits
from .recording import SESSION, Recorder, RecordingError, Replayer
from .request import RequestError, check_options, fill_vars, parse_option
from .vocabulary import STOPPED

_CHAT_CELL = re.compile(r"^%%chat(?:[ \t](?P<line>.*))?$")
SUBCOMMANDS = ("history", "reset", "list", "save", "load", "models", "record", "replay", "pick")


def _cell_arguments(magic: Callable[..., Any]) -> Any:
    """`@magic_arguments()` with one `@argument` per cell option, in declaration order."""
    for option in reversed(CELL_OPTIONS):
        flags, extras = option.argument()
        magic = argument(*flags, **extras)(magic)
    return magic_arguments()(magic)


@magics_class
class ChatMagics(Magics):
    """Defaults for `%%chat`, settable with `%config ChatMagics.<name> = ...`.

    Precedence: the cell's option, then `%config` (or ipython_config.py), then
    the environment (`STREAMCHAT_MODEL`), then the built-in default.
    """

    # The traits are declared with the options, in `options.OPTIONS`.
    locals().update(config_traits())

    @validate("options")
    def _check_options(self, proposal: Any) -> dict[str, Any]:
        """`%config` and ipython_config.py get the same refusals as `-o`."""
        try:
            check_options(proposal["value"], "ChatMagics.options")
        except RequestError as exc:
            raise TraitError(str(exc)) from None
        value: dict[str, Any] = proposal["value"]
        return value

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conversations = CONVERSATIONS
        self._cell_id: str | None = None

    def _configured(self, name: str) -> Any:
        """A setting by its trait name (the traits are made from `options.OPTIONS`)."""
        return getattr(self, name)

    @property
    def _shell(self) -> InteractiveShell:
        """The shell the extension registered this with (typed as optional by IPython)."""
        if self.shell is None:
            raise UsageError("load the magic with %load_ext streamchat_widget")
        return self.shell

    def remember_cell(self, info: Any) -> None:
        """`pre_run_cell` hook: the front end's cell id keys the exchange of that cell."""
        self._cell_id = getattr(info, "cell_id", None)

    @no_var_expand
    @_cell_arguments
    @line_cell_magic
    def chat(self, line: str, cell: str | None = None) -> None:
        """Send the cell body as a prompt; the answer streams into a widget below.

        The reply is then `_chat` (`.text`, `.status`, `.usage`, ...). As a line
        magic: `%chat history|reset|list|save PATH|load PATH|models [-c NAME]`,
        `%chat reset --all`, `%chat pick N` (after a comparison: column N enters the
        conversation), `%chat record PATH | --stop`, and
        `%chat replay PATH [--speed X] | --stop` (answers from a recording, offline).
        """
        if cell is None:
            self.command(line)
        else:
            run_blocking(self.chat_cell(line, cell))

    async def chat_cell(self, line: str, cell: str) -> None:
        args = _parse(self.chat.parser, line)
        # CRLF and CR cells send what an LF front end sends; IPython adds one final newline.
        cell = cell.replace("\r\n", "\n").replace("\r", "\n").removesuffix("\n")
        if args.out is not None and not args.out.isidentifier():
            raise UsageError(f"--out needs a Python name, got {args.out!r}")
        if not cell.strip():
            raise UsageError("%%chat needs a prompt: write it in the cell, below %%chat.")
        configured = self.trait_values()
        keywords = chat_keywords(args, configured)
        try:
            prompt = (
                fill_vars(cell, self._shell.user_ns) if args.vars or configured["vars"] else cell
            )
            keywords["options"] = dict(configured["options"])
            keywords["options"].update(parse_option(text) for text in args.option)
            check_options(keywords["options"], "ChatMagics.options")  # also when changed in place
            keywords["with_"] = from_namespace(keywords["with_"], self._shell.user_ns)
        except (RequestError, AttachmentError) as exc:
            raise UsageError(str(exc)) from None

        models = cell_models(args, configured)
        if args.keep is not None and not 1 <= args.keep <= len(models):
            raise UsageError(f"--keep {args.keep}: give a column from 1 to {len(models)}")

        def keep(reply: api.Reply | api.Replies) -> None:
            self._shell.user_ns["_chat"] = reply
            if args.out:
                self._shell.user_ns[args.out] = reply

        try:
            if len(models) > 1:
                del keywords["model"]
                column = (args.keep or 1) - 1
                await api.compare(
                    prompt, models=models, keep=column, cell_id=self._cell_id, on_reply=keep,
                    **keywords,
                )  # fmt: skip
            else:
                await api.chat(prompt, cell_id=self._cell_id, on_reply=keep, **keywords)
        except AttachmentError as exc:  # a value that cannot be described: nothing was sent
            raise UsageError(str(exc)) from None
        except asyncio.CancelledError:
            # The kernel interrupt: the reply is kept (above); Run All halts on one line.
            raise api.ChatInterrupted(
                "the answer was stopped by the interrupt; its partial text is kept"
            ) from None

    def command(self, line: str) -> None:
        """`%chat SUBCOMMAND ...`: look after conversations, list models."""
        words = line.split(maxsplit=1)
        if not words or words[0] not in SUBCOMMANDS:
            raise UsageError(f"%chat takes one of: {', '.join(SUBCOMMANDS)} (%%chat? for help)")
        parser = MagicArgumentParser(prog=f"%chat {words[0]}")
        if words[0] in ("save", "load"):
            parser.add_argument("path")
        if words[0] in ("history", "reset", "save", "load"):
            parser.add_argument("-c", "--conversation", default=self._configured("conversation"))
        if words[0] == "reset":
            parser.add_argument("--all", action="store_true")
        if words[0] in ("record", "replay"):
            parser.add_argument("path", nargs="?")
            parser.add_argument("--stop", action="store_true")
        if words[0] == "replay":
            parser.add_argument("--speed", type=float, default=self._configured("replay_speed"))
        if words[0] == "pick":
            parser.add_argument("column", type=int)
        args = _parse(parser, words[1] if len(words) > 1 else "")
        getattr(self, f"_{words[0]}")(args)

    def _history(self, args: Any) -> None:
        if args.conversation not in self.conversations.names():
            print(f"There is no conversation {args.conversation!r} yet.")
            return
        conversation = self.conversations.get(args.conversation)
        for position in range(len(conversation.exchanges) + 1):
            if position in conversation.systems:
                print(f"[system] {conversation.systems[position]}\n")
            if position < len(conversation.exchanges):
                exchange, number = conversation.exchanges[position], position + 1
                mark = " (stopped)" if exchange.status == STOPPED else ""
                print(f"[{number}] user: {exchange.user}\n[{number}] assistant{mark}: "
                      f"{exchange.assistant}\n")  # fmt: skip
        if not conversation.exchanges:
            print(f"Conversation {args.conversation!r} has no exchanges yet.")

    def _reset(self, args: Any) -> None:
        self.conversations.reset(None if args.all else args.conversation)
        print("All conversations cleared." if args.all else f"{args.conversation!r} cleared.")

    def _list(self, args: Any) -> None:
        names = self.conversations.names()
        for name, count in names.items():
            print(f"{name}: {count} exchange(s)")
        if not names:
            print("No conversations yet.")

    def _save(self, args: Any) -> None:
        try:
            count = self.conversations.save(args.conversation, args.path)
        except TranscriptError as exc:
            raise UsageError(f"%chat save: {exc}") from None
        print(f"Saved {args.conversation!r} ({count} messages) to {args.path}")

    def _load(self, args: Any) -> None:
        try:
            conversation = self.conversations.load(args.conversation, args.path)
        except TranscriptError as exc:
            raise UsageError(f"%chat load: {exc}") from None
        print(f"Loaded {len(conversation.exchanges)} exchange(s) into {args.conversation!r}")

    def _record(self, args: Any) -> None:
        if args.stop or not args.path:
            SESSION.recorder = None
            print("Recording stopped." if args.stop else "Usage: %chat record PATH | --stop")
            return
        try:
            SESSION.recorder = Recorder(args.path)
        except RecordingError as exc:
            raise UsageError(f"%chat record: {exc}") from None
        print(f"Recording every exchange to {args.path} (%chat record --stop to end).")

    def _replay(self, args: Any) -> None:
        if args.stop or not args.path:
            SESSION.replayer = None
            print("Replay off." if args.stop else "Usage: %chat replay PATH [--speed X] | --stop")
            return
        try:
            replayer = Replayer(args.path, speed=args.speed)
        except RecordingError as exc:
            raise UsageError(f"%chat replay: {exc}") from None
        SESSION.replayer = replayer
        for warning in replayer.skipped:
            print(f"{args.path}: {warning}", file=sys.stderr)
        repeats = (
            f"; {replayer.repeats} repeat an earlier request and answer its re-runs in turn"
            if replayer.repeats
            else ""
        )
        print(f"Answering from {args.path} ({len(replayer.recordings)} recorded exchange(s)"
              f"{repeats}); no network is used.")  # fmt: skip

    def _pick(self, args: Any) -> None:
        """The latest comparison's column N enters the conversation instead."""
        try:
            print(comparison.pick(args.column - 1))
        except comparison.PickError as exc:
            raise UsageError(f"%chat pick: {exc}") from None

    def _models(self, args: Any) -> None:
        run_blocking(self._list_models())

    async def _list_models(self) -> None:
        model = self._configured("model") or default_model()
        try:
            endpoint = open_endpoint(model)
        except EndpointError as exc:
            raise UsageError(str(exc)) from None
        try:
            page = await endpoint.client.models.list()
            names = sorted(m.id for m in page.data)
        except Exception as exc:
            print(f"{endpoint.host} does not list its models ({type(exc).__name__}); "
                  "see the server's documentation for the model names it serves.")  # fmt: skip
            return
        finally:
            await endpoint.client.close()
        print(f"Models at {endpoint.host}:")
        for name in names:
            print(f"  {name}")

    def transform(self, lines: list[str]) -> list[str]:
        """Rewrite a `%%chat` cell into a call that gets the body exactly as written.

        Registered first among IPython's cleanup transforms, so the prompt
        strippers (`>>> `, `... `, `In [1]:`) never touch the body; it skips
        leading blank lines itself, as IPython would. Awaited where the kernel
        can await, a blocking call elsewhere.
        """
        cell = "".join(lines)
        content = len(cell) - len(cell.lstrip())  # the first line that is not blank starts
        first, _, body = cell[cell.rfind("\n", 0, content) + 1 :].partition("\n")
        match = _CHAT_CELL.match(first.strip())
        if match is None:
            return lines
        call = "__import__('IPython').get_ipython().magics_manager.registry['ChatMagics']"
        if self._can_await():
            return [f"await {call}.chat_cell({match['line'] or ''!r}, {body!r})\n"]
        return [f"{call}.chat({match['line'] or ''!r}, {body!r})\n"]

    def _can_await(self) -> bool:
        shell = self._shell
        return bool(shell.autoawait) and shell.loop_runner is _asyncio_runner


def _parse(parser: MagicArgumentParser, line: str) -> Any:
    """Parse with shell quoting (`-s "Be brief."`), which IPython's own splitter keeps."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%%chat options: {exc}") from None
    return parser.parse_args(words)


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
        with stop_listener.tapped() as pump:
            while not finished.wait(0.05):
                pump()
    except KeyboardInterrupt:
        started.wait()
        if "task" in state:
            state["loop"].call_soon_threadsafe(state["task"].cancel)
        finished.wait()
    if "error" in state:
        raise state["error"]
