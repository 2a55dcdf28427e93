"""Headless runs (nbclient, `jupyter nbconvert --execute`) save answers, not widget state."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from tests.lab import chromium, jupyter_lab
from tests.sse_server import Plan

PROMPTS = ["Say hello.", "Name three rivers.", "Write a haiku."]
# What a notebook holds beside its outputs: cell sources, kernel and language metadata.
ALLOWANCE = 4096
VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"
LIVE_TEXT = "(document.querySelector('.streamchat-answer')?.textContent || '')"


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


@pytest.fixture(scope="module")
def lab(sse_server, tmp_path_factory):
    env = {"OPENAI_BASE_URL": sse_server.base_url, "OPENAI_API_KEY": sse_server.api_key}
    with jupyter_lab(tmp_path_factory.mktemp("lab"), env) as server:
        yield server


@pytest.mark.browser
def test_a_page_reloaded_while_an_answer_streams_shows_it_live_again(lab, server):
    """The state JupyterLab requests on reconnecting comes back with its parent header,
    which is how the front end matches it: unparenting stops at what a cell causes."""
    server.add_model("long", Plan(tokens=[f"tok{i} " for i in range(1500)], delay=0.02))
    name = lab.notebook("reload.ipynb", ["%load_ext streamchat_widget", "%%chat -m long\nCount."])
    with chromium() as browser:
        page = browser.new_page()
        lab.open_and_run_all(page, name)
        page.wait_for_function(f"() => {LIVE_TEXT}.length > 20", timeout=30_000)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !document.title.startsWith('●')", timeout=10_000)
        page.reload()
        page.wait_for_function(f"() => {LIVE_TEXT}.length > 20", timeout=30_000)
        shown = page.evaluate(f"() => {LIVE_TEXT}.length")
        page.wait_for_function(f"n => {LIVE_TEXT}.length > n", arg=shown, timeout=10_000)
        page.get_by_role("button", name="Stop").click()
        server.wait_for_disconnect(timeout=10)
        page.wait_for_selector('.streamchat[data-status="stopped"]', timeout=10_000)
