"""Several models answer the same messages at once, in one output with a column each.

Each column is an ordinary answer (`answer.answer`, with its error boundary,
recording and replay), run as a task of its own and shown by a `ColumnView`
into its column's widget; so the requests go out together, each column streams,
stops and fails on its own, and a failure in one is that column's error card
while the others go on. The Stop for all, a kernel interrupt, and a re-run of
the cell stop every column. When the last one has ended, the output is replaced
by the columns' static copies together (`comparison_copy`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from IPython.display import DisplayHandle

from . import comparison_copy
from .answer import INTERRUPT_POLL, View, _live_in_cell, answer
from .comparison_copy import ColumnCopy
from .comparison_widget import ComparisonWidget
from .conversation import CONVERSATIONS, DEFAULT, Exchange
from .reply import Replies, Reply
from .source import Source
from .static_copy import to_plain
from .stop_listener import heard_at_once
from .stream import clean_text
from .terminal import can_show_widgets
from .vocabulary import DONE, ERROR, KEPT, STOPPED, Status
from .widget import ChatWidget


def column_labels(models: Sequence[str]) -> list[str]:
    """Each column's heading: its number (as `--keep N` counts) and its model."""
    return [f"{number} · {model}" for number, model in enumerate(models, 1)]


def stop_names(models: Sequence[str]) -> list[str]:
    """Accessible names of the columns' Stop buttons, distinct when a model comes twice."""
    return [
        f"Stop {model}" if models.count(model) == 1 else f"Stop {model} ({number})"
        for number, model in enumerate(models, 1)
    ]


@dataclass
class Compared:
    """The replies in the order given, and the caller's cancellation to re-raise, if any."""

    replies: list[Reply]
    kept: int | None  # the column whose answer enters the conversation, if any
    reshow: Callable[[int], None]  # the saved copy again, saying another column was kept
    cancelled: asyncio.CancelledError | None = None


class ColumnView:
    """One answer shown in its column of the comparison; it never replaces the output."""

    def __init__(self, column: Column, source: Source, notice: str) -> None:
        self.column = column
        if column.widget is not None:
            with column.widget.hold_sync():
                column.widget.badge = source.label
                column.widget.notice = notice

    def push(self, *, text: str = "", reasoning: str = "", refusal: str = "") -> None:
        if self.column.widget is not None:
            self.column.widget.push(text=text, reasoning=reasoning, refusal=refusal)

    def retrying(self, attempt: int) -> None:
        if self.column.widget is not None:
            self.column.widget.retrying = f"retrying… (attempt {attempt + 1})"

    @contextlib.contextmanager
    def stoppable(self, stop: Callable[[], None]) -> Iterator[None]:
        """The column's own Stop, and the comparison's Stop for all, call `stop`."""
        self.column.stop = stop
        if self.column.stopping.is_set():  # the Stop for all came before this column started
            stop()
        widget = self.column.widget
        if widget is None:
            yield
            return
        widget.on_stop(stop)
        with heard_at_once(widget):
            yield

    def show(self, reply: Reply, host: str, options: dict[str, Any]) -> None:
        """The column's last state, and its static copy (made now: a failure is its card)."""
        self.column.copy = ColumnCopy.of(self.column.label, reply, host, options)
        if self.column.widget is not None:
            self.column.widget.finish_with(reply)

    def show_plainly(self, reply: Reply, host: str) -> None:
        """After a failed `show`: the card, and whatever copy can still be made."""
        if self.column.widget is not None:
            with contextlib.suppress(Exception):
                self.column.widget.finish(ERROR, retrying="", error=reply.error or {})
        try:
            self.column.copy = ColumnCopy.of(self.column.label, reply, host, {})
        except Exception:
            plain = clean_text(to_plain(reply))
            self.column.copy = ColumnCopy(self.column.label, "", plain, plain, {})


@dataclass
class Column:
    """One model's place in the comparison."""

    label: str
    widget: ChatWidget | None
    stopping: threading.Event
    stop: Callable[[], None] | None = None
    copy: ColumnCopy | None = None


@dataclass
class Comparison:
    """The columns, the widget holding them, and the Stop for all."""

    columns: list[Column]
    widget: ComparisonWidget | None
    stopping: threading.Event = field(default_factory=threading.Event)

    def stop_all(self) -> None:
        """Safe from any thread: each column's stop is."""
        self.stopping.set()
        for column in self.columns:
            if column.stop is not None:
                column.stop()


async def compare_answers(
    requests: Sequence[Mapping[str, Any]],
    *,
    keep: int = 0,
    notice: str = "",
    conversation: str = DEFAULT,
    read_timeout: float,
    max_height: int = 480,
    cell_id: str | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> Compared:
    """Stream every request at once into one output; return when all of them have ended.

    The answer of column `keep` (0, 1, ...) is the one to enter the conversation,
    unless it failed: then none does (`Compared.kept` is None).
    """
    models = [str(r["model"]) for r in requests]
    comparison = _start(models, conversation, max_height, keep, attachments or [])
    handle = DisplayHandle()
    if comparison.widget is not None:
        plain = f"[comparing {', '.join(models)}]"
        handle.display({**comparison.widget.view_bundle(), "text/plain": plain}, raw=True)
    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(
            answer(
                request,
                notice=notice,
                conversation=conversation,
                read_timeout=read_timeout,
                max_height=max_height,
                attachments=attachments,
                make_view=_view_maker(column),
            )
        )
        for request, column in zip(requests, comparison.columns, strict=True)
    ]
    for task in tasks:
        task.add_done_callback(lambda _task: _ended(comparison, tasks))
    with _live_in_cell(cell_id, comparison.stop_all), _stop_all_heard(comparison):
        cancelled = await _wait_all(tasks)
    replies = []
    for task, request, column in zip(tasks, requests, comparison.columns, strict=True):
        if task.cancelled():  # cancelled before it could start: nothing was asked
            reply = Reply("", STOPPED, str(request["model"]), list(request["messages"]))
            column.copy = ColumnCopy.of(column.label, reply, "", {})
        else:
            answered = task.result()
            reply = answered.reply
            cancelled = cancelled or answered.cancelled
        replies.append(reply)
    kept, reshow = _finish(comparison, handle, replies, keep, conversation)
    return Compared(replies, kept, reshow, cancelled)


def _start(
    models: list[str],
    conversation: str,
    max_height: int,
    keep: int,
    attachments: list[dict[str, str]],
) -> Comparison:
    labels = column_labels(models)
    stopping = threading.Event()
    if not can_show_widgets():
        return Comparison([Column(label, None, stopping) for label in labels], None, stopping)
    columns = [
        Column(
            label,
            ChatWidget(
                model_name=label,
                conversation=conversation,
                max_height=max_height,
                attachments=attachments,
            ),
            stopping,
        )
        for label in labels
    ]
    widget = ComparisonWidget(
        columns=[c.widget for c in columns],
        stop_names=stop_names(models),
        kept=kept_note(labels[keep], conversation),
    )
    comparison = Comparison(columns, widget, stopping)
    widget.on_stop(comparison.stop_all)
    return comparison


def _view_maker(column: Column) -> Callable[[Source, str], View]:
    def make(source: Source, notice: str) -> View:
        return ColumnView(column, source, notice)

    return make


def _ended(comparison: Comparison, tasks: list[asyncio.Task[Any]]) -> None:
    """Once every column has ended, the Stop for all goes away."""
    if comparison.widget is not None and all(task.done() for task in tasks):
        with contextlib.suppress(Exception):
            comparison.widget.status = DONE


@contextlib.contextmanager
def _stop_all_heard(comparison: Comparison) -> Iterator[None]:
    """The Stop for all is heard on every kernel, as a column's Stop is (`stop_listener`)."""
    if comparison.widget is None:
        yield
        return
    with heard_at_once(comparison.widget):
        yield


async def _wait_all(tasks: list[asyncio.Task[Any]]) -> asyncio.CancelledError | None:
    """Wait for every column; a cancellation of ours stops them all and is returned."""
    try:
        # Wake now and then, as `answer._wait` does, so ipykernel 7.4 delivers an interrupt.
        while not all(task.done() for task in tasks):
            await asyncio.wait(tasks, timeout=INTERRUPT_POLL)
    except asyncio.CancelledError as cancelled:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait(tasks)
        return cancelled
    return None


def _finish(
    comparison: Comparison,
    handle: DisplayHandle,
    replies: list[Reply],
    keep: int,
    conversation: str,
) -> tuple[int | None, Callable[[int], None]]:
    """Replace the live output by the static copies together; close the widgets.

    Returns the kept column, and how to show the copy again with another one kept.
    """
    columns = [c.copy or ColumnCopy(c.label, "", "", "", {}) for c in comparison.columns]
    shown = comparison.widget is not None

    def show(keep: int) -> None:
        _show_copy(handle, columns, replies, keep, conversation, on_terminal=not shown)

    show(keep)
    for widget in (comparison.widget, *(c.widget for c in comparison.columns)):
        if widget is not None:
            with contextlib.suppress(Exception):
                widget.close()
    kept = keep if replies[keep].status in KEPT else None
    return kept, (show if shown else _nothing)


def _nothing(_keep: int) -> None:
    return None


def _show_copy(
    handle: DisplayHandle,
    columns: list[ColumnCopy],
    replies: list[Reply],
    keep: int,
    conversation: str,
    *,
    on_terminal: bool,
) -> None:
    """Show the copies with column `keep` as the kept one; never raises.

    Where the copies cannot be joined, the answers' plain text stays.
    """
    kept = keep if replies[keep].status in KEPT else None
    note = kept_note(columns[keep].label, conversation, replies[keep].status)
    plain = comparison_copy.to_plain(columns, kept, note)
    try:
        if on_terminal:  # the answers one after another
            print(clean_text(plain), flush=True)
            return
        data, metadata = comparison_copy.bundle(columns, kept, note)
        handle.update(data, metadata=metadata, raw=True)
    except Exception:
        with contextlib.suppress(Exception):
            handle.update({"text/plain": clean_text(plain)}, raw=True)


def kept_note(label: str, conversation: str, status: Status | None = None) -> str:
    """What enters the conversation: said while streaming (status None), then as it ended."""
    if status is None:
        return (
            f"Conversation {conversation!r} continues with the answer of column {label} "
            "(--keep N or %chat pick N chooses another)."
        )
    if status in KEPT:
        return f"The answer of column {label} entered conversation {conversation!r}."
    return f"Nothing entered conversation {conversation!r}: column {label} ended with an error."


class PickError(ValueError):
    """`%chat pick N` that cannot be done; the message says why, in one line."""


@dataclass
class Pickable:
    """The latest comparison, so `%chat pick N` can record another of its answers."""

    conversation: str
    prompt: str
    content: str | list[dict[str, Any]] | None  # the user message as sent (attachments)
    cell_id: str | None
    replies: Replies
    labels: list[str]
    exchange: Exchange | None  # what the comparison recorded, if anything
    reshow: Callable[[int], None]


_latest: list[Pickable] = []


def remember(pickable: Pickable) -> None:
    _latest[:] = [pickable]


def pick(index: int) -> str:
    """Record column `index` (0, 1, ...) of the latest comparison instead of the one it did."""
    if not _latest:
        raise PickError("there is no comparison to pick from yet (%%chat with several -m)")
    latest = _latest[0]
    count = len(latest.replies)
    if not 0 <= index < count:
        raise PickError(f"column {index + 1}: the latest comparison has columns 1 to {count}")
    reply, label = latest.replies[index], latest.labels[index]
    if reply.status not in KEPT:
        raise PickError(f"column {label} ended with an error: it cannot enter the conversation")
    thread = CONVERSATIONS.get(latest.conversation)
    exchange = Exchange(latest.prompt, reply.text, reply.status, latest.cell_id, latest.content)
    position = next((i for i, e in enumerate(thread.exchanges) if e is latest.exchange), None)
    if position is None:
        thread.record(exchange)
    else:
        thread.exchanges[position] = exchange
    latest.exchange = exchange
    latest.replies.kept = index
    latest.reshow(index)
    return (
        f"The answer of column {label} is now the exchange in conversation {latest.conversation!r}."
    )
