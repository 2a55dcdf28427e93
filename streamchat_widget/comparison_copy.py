"""A finished comparison as it stays in the notebook: each answer's own static copy, together.

Every column is rendered by `static_copy` exactly as a single answer is (so it is
just as inert, and keeps its model, status and figures); this module only puts
them side by side in `text/html` (a grid that stacks them when the output is
narrow, every column the same width, in the order given) and one after another
in `text/markdown` and `text/plain`, under the line saying what entered the
conversation.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from . import static_copy
from .markdown_copy import inert_text
from .reply import Reply

_GRID = (
    "display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,280px),1fr));"
    "gap:8px;align-items:start"
)
_NOTE = "font-size:var(--jp-ui-font-size1,12px);color:var(--jp-ui-font-color2,#616161);margin:2px 0"


@dataclass
class ColumnCopy:
    """One column's static copy, made when that column ended (so its failure is its card)."""

    label: str
    html: str
    markdown: str
    plain: str
    provenance: dict[str, Any]

    @classmethod
    def of(cls, label: str, reply: Reply, host: str, options: dict[str, Any]) -> ColumnCopy:
        data, metadata = static_copy.bundle(reply, host, options)
        provenance = metadata["text/markdown"]["streamchat"]
        return cls(label, data["text/html"], data["text/markdown"], data["text/plain"], provenance)


def bundle(
    columns: list[ColumnCopy], kept: int | None, note: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """Display data and metadata of a finished comparison; `kept` is the recorded column."""
    data = {
        "text/html": to_html(columns, kept, note),
        "text/markdown": to_markdown(columns, kept, note),
        "text/plain": to_plain(columns, kept, note),
    }
    provenance = {"comparison": [c.provenance for c in columns], "kept": kept}
    return data, {"text/markdown": {"streamchat": provenance}}


def _heading(column: ColumnCopy, number: int, kept: int | None) -> str:
    return f"{column.label} (in the conversation)" if number == kept else column.label


def to_html(columns: list[ColumnCopy], kept: int | None, note: str) -> str:
    esc = html.escape
    parts = ['<div class="streamchat-compare">']
    if note:
        parts.append(f'<div class="streamchat-compare-kept" style="{_NOTE}">{esc(note)}</div>')
    parts.append(f'<div class="streamchat-compare-columns" style="{_GRID}">')
    for number, column in enumerate(columns):
        parts.append(
            f'<div class="streamchat-compare-column" data-column="{number + 1}" '
            'style="min-width:0">'
            f'<div class="streamchat-compare-label" style="{_NOTE}">'
            f"{esc(_heading(column, number, kept))}</div>{column.html}</div>"
        )
    parts.append("</div></div>")
    return "".join(parts)


def to_markdown(columns: list[ColumnCopy], kept: int | None, note: str) -> str:
    """Each answer under a heading of its column; labels and the note are text, not syntax."""
    parts = [f"*{inert_text(note)}*"] if note else []
    for number, column in enumerate(columns):
        parts.append(f"#### {inert_text(_heading(column, number, kept))}\n\n{column.markdown}")
    return "\n\n---\n\n".join(parts)


def to_plain(columns: list[ColumnCopy], kept: int | None, note: str) -> str:
    parts = [note] if note else []
    for number, column in enumerate(columns):
        parts.append(f"== {_heading(column, number, kept)} ==\n{column.plain}")
    return "\n\n".join(parts)
