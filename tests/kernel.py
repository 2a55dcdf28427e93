"""Drive a real ipykernel over ZMQ with jupyter_client, playing the front end.

`Kernel.run()` executes a cell and collects what a notebook front end would
see on iopub: display outputs and the chat widgets' comm traffic (state
updates and the numbered delta messages). `Kernel.stop_widget()` sends the
Stop click exactly as the browser does: a custom comm message on the shell
channel.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import KernelManager


@dataclass
class Widget:
    """One widget model as the front end would hold it."""

    comm_id: str
    state: dict[str, Any]
    deltas: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def streamed_text(self) -> str:
        return "".join(d.get("text", "") for d in self.deltas)


@dataclass
class Execution:
    msg_id: str
    reply: dict[str, Any] | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    displays: dict[str, dict[str, Any]] = field(default_factory=dict)
    iopub: list[dict[str, Any]] = field(default_factory=list)
    idle: bool = False

    @property
    def status(self) -> str | None:
        return self.reply["content"]["status"] if self.reply else None

    @property
    def stdout(self) -> str:
        return "".join(o["text"] for o in self.outputs if o.get("name") == "stdout")

    @property
    def error(self) -> dict[str, Any] | None:
        return next((o for o in self.outputs if o["output_type"] == "error"), None)


class Kernel:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.manager = KernelManager(kernel_name="python3")
        full_env = {**os.environ, **(env or {})}
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "STREAMCHAT_MODEL"):
            if env is not None and name not in env:
                full_env.pop(name, None)
        self.manager.start_kernel(env=full_env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.widgets: dict[str, Widget] = {}
        # Every iopub message, with a parent or without (our widgets' comm traffic has none).
        self.wire: list[dict[str, Any]] = []
        # Every started execution, so messages are routed to theirs whichever is being pumped.
        self.executions: dict[str, Execution] = {}

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int:
        return self.manager.provisioner.pid  # type: ignore[union-attr]

    def start(self, code: str, cell_id: str | None = None) -> Execution:
        """Send an execute request; `cell_id` as JupyterLab and Notebook 7 send it."""
        if cell_id is None:
            return self._track(Execution(self.client.execute(code)))
        content = {"code": code, "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}  # fmt: skip
        msg = self.client.session.msg("execute_request", content, metadata={"cellId": cell_id})
        self.client.shell_channel.send(msg)
        return self._track(Execution(msg["header"]["msg_id"]))

    def _track(self, execution: Execution) -> Execution:
        self.executions[execution.msg_id] = execution
        return execution

    def pump(
        self,
        execution: Execution,
        until: Callable[[Execution], bool] | None = None,
        timeout: float = 30,
    ) -> Execution:
        """Read iopub and shell until `until(execution)` holds (default: the cell finished)."""
        done = until or (lambda e: e.idle and e.reply is not None)
        deadline = time.monotonic() + timeout
        while not done(execution):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s; outputs: {execution.outputs}")
            self._read_shell()
            try:
                msg = self.client.get_iopub_msg(timeout=0.02)
            except queue.Empty:
                continue
            self._apply(msg)
        return execution

    def run(self, code: str, timeout: float = 30, cell_id: str | None = None) -> Execution:
        return self.pump(self.start(code, cell_id), timeout=timeout)

    def _read_shell(self) -> None:
        while True:
            try:
                msg = self.client.get_shell_msg(timeout=0)
            except queue.Empty:
                return
            execution = self.executions.get(msg["parent_header"].get("msg_id"))
            if execution is not None:
                execution.reply = msg

    def written(self, since: int = 0) -> list[dict[str, Any]]:
        """What the kernel wrote on iopub from `wire[since]` on, less the echo of typed code."""
        return [m for m in self.wire[since:] if m["msg_type"] != "execute_input"]

    def _apply(self, msg: dict[str, Any]) -> None:
        self.wire.append(msg)
        kind = msg["msg_type"]
        content = msg["content"]
        if kind == "comm_open" and content.get("target_name") == "jupyter.widget":
            state = content["data"]["state"]
            self.widgets[content["comm_id"]] = Widget(content["comm_id"], dict(state))
        elif kind == "comm_msg" and content["comm_id"] in self.widgets:
            widget = self.widgets[content["comm_id"]]
            data = content["data"]
            if data.get("method") == "update":
                widget.state.update(data["state"])
                widget.updates.append(data["state"])
            elif data.get("method") == "custom" and data["content"].get("type") == "delta":
                widget.deltas.append(data["content"])
        execution = self.executions.get(msg["parent_header"].get("msg_id"))
        if execution is None:
            return
        execution.iopub.append(msg)
        if kind == "status" and content["execution_state"] == "idle":
            execution.idle = True
        elif kind in ("display_data", "execute_result", "stream", "error"):
            output = {"output_type": kind, **content}
            execution.outputs.append(output)
            display_id = content.get("transient", {}).get("display_id")
            if display_id:
                execution.displays[display_id] = output
        elif kind == "update_display_data":
            execution.displays[content["transient"]["display_id"]] = {
                "output_type": "display_data",
                **content,
            }

    def chat_widgets(self) -> list[Widget]:
        return [w for w in self.widgets.values() if "model_name" in w.state]

    def stop_widget(self, widget: Widget) -> None:
        """Send the Stop click as the browser does: a custom comm message."""
        self.send_custom(widget.comm_id, {"type": "stop"})

    def send_custom(self, comm_id: str, content: dict[str, Any]) -> dict[str, Any]:
        """Send what a widget's front end sends (`model.send`); returns the message."""
        msg = self.client.session.msg(
            "comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": content}}
        )
        self.client.shell_channel.send(msg)
        return msg
