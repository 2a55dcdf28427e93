"""The live comparison: one output holding a column per model, and a Stop for all of them.

Each column is an ordinary `ChatWidget` (its own comm, deltas, status, figures and
per-column Stop), so the front end draws it with the single-answer view; this
model only lays the columns out (anywidget's `host.getWidget`) and carries the
Stop that stops them all, as the same `{"type": "stop"}` custom message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import traitlets
from ipywidgets import widget_serialization  # type: ignore[import-untyped]

from .vocabulary import STATUSES, STOP
from .widget import STATIC, ChatWidget, UnparentedWidget, ensure_runtime


class ComparisonWidget(UnparentedWidget):
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
        self._stop_callbacks: list[Callable[[], None]] = []
        self.on_msg(self._on_front_end_message)

    def on_stop(self, callback: Callable[[], None]) -> None:
        """`callback` may run on a kernel subshell thread: it must only be thread-safe."""
        self._stop_callbacks.append(callback)

    def _on_front_end_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == STOP:
            for callback in list(self._stop_callbacks):
                callback()

    def view_bundle(self) -> dict[str, Any]:
        """The widget-view part of a display bundle."""
        data: Any = self._repr_mimebundle_()
        if isinstance(data, tuple):
            data = data[0]
        return {k: v for k, v in (data or {}).items() if k != "text/plain"}
