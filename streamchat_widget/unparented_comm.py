"""Widget comms whose messages belong to no cell, so headless runs do not save them.

nbclient (and so nbconvert and papermill) records the state of every widget
whose `comm_open`/`comm_msg` carries the executing cell's `parent_header`, keeps
it after `comm_close`, and writes it into `metadata.widgets`: measured, three
demo answers saved 212 KB of it (the runtime's renderer bundle, then a chat
model and a Layout model per finished answer) beside 18 KB of outputs that
already hold every answer as its static copy. JupyterLab and Notebook 7 create
a model from any `comm_open`, whatever its parent, and route comm messages by
comm id. So our models' comm messages carry an empty parent header: live views,
streaming and Stop are unchanged, and a headless run never sees the models.

Why not the alternatives: a front end cannot be detected from the kernel before
the first answer streams (the runtime is made at `%load_ext`); creating models
lazily or closing them sooner does not help, since nbclient never forgets a
state; stripping `metadata.widgets` afterwards is not ours to do in the user's
run. Only what a cell causes goes out unparented: a reply to the front end (the
state it requests when a page reloads) keeps its parent, which the front end
matches it by. Messages are sent as ipykernel's `publish_msg` sends them, through
the kernel's public `session.send`, `iopub_socket` and `get_parent()` (the same
in ipykernel 6.x and 7.x). Where no kernel runs (marimo, plain Python) the usual
comm is used.
"""

from __future__ import annotations

from typing import Any

import comm
from comm.base_comm import BaseComm


class UnparentedComm(BaseComm):
    """A widget's comm in an IPython kernel; see the module docstring for why."""

    def __init__(self, kernel: Any, **kwargs: Any) -> None:
        self.kernel = kernel  # ipywidgets sends nothing through a comm without one
        super().__init__(**kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: Any = None,
        metadata: Any = None,
        buffers: Any = None,
        **keys: Any,
    ) -> None:
        parent = self.kernel.get_parent()
        if parent.get("header", {}).get("msg_type") == "execute_request":
            parent = {}
        self.kernel.session.send(
            self.kernel.iopub_socket,
            msg_type,
            {"data": data or {}, "comm_id": self.comm_id, **keys},
            metadata=metadata or {},
            parent=parent,
            ident=self.topic,
            buffers=buffers,
        )


def create_comm(**kwargs: Any) -> BaseComm:
    """A comm for a widget model: unparented in an IPython kernel, the usual one elsewhere."""
    from IPython import get_ipython

    kernel = getattr(get_ipython(), "kernel", None)
    return comm.create_comm(**kwargs) if kernel is None else UnparentedComm(kernel, **kwargs)
