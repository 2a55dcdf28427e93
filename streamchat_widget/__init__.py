"""streamchat-widget: `%%chat` streams a chat model's answer into a notebook widget.

Load it with `%load_ext streamchat_widget`. Importing the package stays cheap:
the magic, the client and the widget load with the extension.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = [
    "ChatError",
    "Replies",
    "Reply",
    "chat",
    "compare",
    "load_ipython_extension",
    "stream_text",
]


def __getattr__(name: str) -> Any:
    """`chat`, `compare`, `stream_text`, `Reply`, `Replies`, `ChatError` load on first use."""
    if name in ("ChatError", "Replies", "Reply", "chat", "compare", "stream_text"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'streamchat_widget' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    from IPython.core.error import UsageError
    from traitlets import TraitError

    from .magic import ChatMagics
    from .widget import ensure_runtime

    unload_ipython_extension(ipython)
    try:
        magics = ChatMagics(shell=ipython, parent=ipython)
    except TraitError as exc:  # a refused ChatMagics.options in the configuration
        raise UsageError(str(exc)) from None
    ipython.register_magics(magics)
    ipython.configurables.append(magics)
    # First, before IPython's prompt strippers rewrite the body of a `%%chat` cell.
    ipython.input_transformers_cleanup.insert(0, magics.transform)
    ipython.events.register("pre_run_cell", magics.remember_cell)
    # The page loads the Markdown renderer now, not while the first answer streams.
    ensure_runtime()


def unload_ipython_extension(ipython: Any) -> None:
    ipython.configurables[:] = [
        c for c in ipython.configurables if type(c).__name__ != "ChatMagics"
    ]
    transformers = ipython.input_transformers_cleanup
    transformers[:] = [t for t in transformers if not _is_ours(t, "transform")]
    for callback in list(ipython.events.callbacks["pre_run_cell"]):
        if _is_ours(callback, "remember_cell"):
            ipython.events.unregister("pre_run_cell", callback)


def _is_ours(callback: Any, name: str) -> bool:
    return getattr(callback, "__qualname__", "") == f"ChatMagics.{name}"
