"""Headless runs keep every answer: nbclient execution, then nbconvert exports."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    """The quickstart executed offline, as `jupyter nbconvert --execute` would."""
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "STREAMCHAT_"))}
    env["STREAMCHAT_DEMO_DELAY"] = "0.001"
    old = os.environ.copy()
    os.environ.clear()
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    nbformat.validate(nb)
    return nb


def _chat_outputs(nb) -> list[dict]:
    return [
        output
        for cell in nb.cells
        if cell.cell_type == "code" and cell.source.startswith("%%chat")
        for output in cell.outputs
    ]


def test_every_chat_cell_holds_its_whole_answer_as_markdown(quickstart):
    outputs = _chat_outputs(quickstart)
    assert outputs, "the quickstart has chat cells"
    for output in outputs:
        markdown = output["data"]["text/markdown"]
        assert "## 20 ideas" in markdown
        assert "20. **" in markdown
        assert "OPENAI_BASE_URL" in markdown, "the demo answer streamed to its last line"
        assert "application/vnd.jupyter.widget-view+json" not in output["data"]
        assert '<div class="streamchat" data-status="done"' in output["data"]["text/html"]
        meta = output["metadata"]["text/markdown"]["streamchat"]
        assert meta["status"] == "done"
        assert meta["model"] == "demo"


def test_the_reply_is_usable_in_the_next_cell(quickstart):
    printed = next(c for c in quickstart.cells if c.source.startswith("print(_chat"))
    assert re.match(r"done \d+ characters", printed.outputs[0]["text"])


def test_html_export_shows_the_answers(quickstart):
    html, _ = HTMLExporter().from_notebook_node(quickstart)
    assert "sentient cheesecakes that teach SQL" in html
    assert re.search(r"<h2[^>]*>20 ideas", html), "the answer is rendered as Markdown"
    assert 'class="streamchat" data-status="done"' in html
