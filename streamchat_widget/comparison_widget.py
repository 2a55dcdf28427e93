"""The live comparison: one output holding a column per model, and a Stop for all of them.

Each column is an ordinary `ChatWidget` (its own comm, deltas, status, figures and
per-column Stop), so the front end draws it with the single-answer view; this
model only lays the columns out (anywidget's `host.getWidget`) and carries the
Stop that stops them all, as the same `{"type": "stop"}` custom message.
"""

from __future__ import annotations

from typing import Any

import traitlets
from ipywidgets import widget_serialization  # type: ignore[import-untyped]

from .vocabulary import STATUSES
from .widget import STATIC, AnswerWidget, ChatWidget, ensure_runtime


class ComparisonWidget(AnswerWidget):
    """Shares the chat view's bundle: `js/src/widget.ts` draws a model with `columns` as this."""

    _esm = STATIC / "widget.js"

    columns = traitlets.List(traitlets.Instance(ChatWidget)).tag(sync=True, **widget_serialization)
    # Accessible names of the columns' own Stop buttons ("Stop gpt-4o"); the one for all is "Stop".
    stop_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    # Streaming while any column streams; then the Stop for all goes away.
    status = traitlets.Enum(STATUSES, default_value="streaming").tag(sync=True)
    kept = traitlets.Unicode("").tag(sync=True)  # what enters the conversation, in words

    def __init__(self, **kwargs: Any) -> None:
        ensure_runtime()
        super().__init__(**kwargs)
