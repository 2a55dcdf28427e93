"""streamchat-widget: `%%chat` streams a chat model's answer into a notebook widget.

Load it with `%load_ext streamchat_widget`. Importing the package stays cheap:
the magic, the client and the widget load with the extension.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    from .magic import ChatMagics

    magics = ChatMagics(shell=ipython)
    ipython.register_magics(magics)
    transformers = ipython.input_transformers_cleanup
    transformers[:] = [t for t in transformers if not _is_chat_transform(t)]
    transformers.append(magics.transform)


def unload_ipython_extension(ipython: Any) -> None:
    transformers = ipython.input_transformers_cleanup
    transformers[:] = [t for t in transformers if not _is_chat_transform(t)]


def _is_chat_transform(transform: Any) -> bool:
    return getattr(transform, "__qualname__", "") == "ChatMagics.transform"
