"""Headless runs (nbclient, `jupyter nbconvert --execute`) save answers, not widget state."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

PROMPTS = ["Say hello.", "Name three rivers.", "Write a haiku."]
# What a notebook holds beside its outputs: cell sources, kernel and language metadata.
ALLOWANCE = 4096
VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"


def _notebook() -> nbformat.NotebookNode:
    cells = [new_code_cell("%load_ext streamchat_widget")]
    cells += [new_code_cell(f"%%chat -m demo\n{prompt}") for prompt in PROMPTS]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


def _run_nbclient(path: Path) -> None:
    nb = _notebook()
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    nbformat.write(nb, path)


def _run_nbconvert(path: Path) -> None:
    nbformat.write(_notebook(), path)
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute"]
    subprocess.run([*command, "--inplace", str(path)], check=True, capture_output=True, timeout=180)


@pytest.fixture(scope="module", params=["nbclient", "nbconvert"])
def saved(request, tmp_path_factory) -> Path:
    """The notebook as a headless run saves it, with the demo model streaming at full speed."""
    path = tmp_path_factory.mktemp(request.param) / "three_answers.ipynb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STREAMCHAT_DEMO_DELAY", "0")
        {"nbclient": _run_nbclient, "nbconvert": _run_nbconvert}[request.param](path)
    return path


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [output for cell in nb.cells for output in cell.get("outputs", [])]


def test_saved_notebook_is_its_outputs_and_a_few_kilobytes(saved):
    """Everything but the outputs, written as nbformat writes it, fits in `ALLOWANCE`."""
    nb = nbformat.read(saved, as_version=4)
    assert len(_outputs(nb)) == len(PROMPTS)
    for cell in nb.cells:
        cell.outputs = []
    rest = len(nbformat.writes(nb).encode())
    assert rest <= ALLOWANCE, f"{saved.stat().st_size} bytes saved, {rest} of them not outputs"


def test_no_model_of_ours_is_in_the_widget_state(saved):
    nb = nbformat.read(saved, as_version=4)
    widgets = nb.metadata.get("widgets")
    if widgets is not None:
        state = widgets[STATE]["state"]  # renderers that validate widget metadata need `state`
        names = {model["model_name"] for model in state.values()}
        assert not names & {"AnyModel", "LayoutModel"}, names
        assert "streamchat" not in json.dumps(state)


def test_every_answer_is_kept_as_its_static_copy(saved):
    nb = nbformat.read(saved, as_version=4)
    for cell, prompt in zip(nb.cells[1:], PROMPTS, strict=True):
        (output,) = cell.outputs
        assert output["output_type"] == "display_data", prompt
        assert VIEW not in output["data"]
        meta = output["metadata"]["text/markdown"]["streamchat"]
        assert meta["status"] == "done", prompt
        assert output["data"]["text/markdown"].strip()
        assert 'class="streamchat streamchat-status-done"' in output["data"]["text/html"]


def test_saved_notebook_is_valid(saved):
    nbformat.validate(nbformat.read(saved, as_version=4))


def test_cell_messages_go_unparented_and_replies_to_the_front_end_keep_their_parent(module_kernel):
    """What a cell causes is invisible to headless runners; the state JupyterLab requests
    when a page reloads comes back with its parent header, which it matches replies by."""
    k = module_kernel
    k.widgets.clear()
    execution = k.run("import streamchat_widget.widget as w; w._runtime = None; w.ensure_runtime()")
    assert execution.status == "ok", execution.outputs
    (runtime,) = k.widgets.values()
    assert not [m for m in execution.iopub if m["msg_type"].startswith("comm")]
    request = k.client.session.msg(
        "comm_msg", {"comm_id": runtime.comm_id, "data": {"method": "request_state"}}
    )
    k.client.shell_channel.send(request)
    deadline = time.monotonic() + 10
    while True:
        assert time.monotonic() < deadline, "no state came back"
        msg = k.client.get_iopub_msg(timeout=10)
        content = msg["content"]
        if msg["msg_type"] == "comm_msg" and content["comm_id"] == runtime.comm_id:
            break
    assert content["data"]["method"] == "update"
    assert msg["parent_header"].get("msg_id") == request["header"]["msg_id"]
