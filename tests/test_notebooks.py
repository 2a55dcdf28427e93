"""The demo notebooks: they run headlessly, keep their answers, and export safely."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter, MarkdownExporter
from nbformat.v4 import new_code_cell, new_notebook

from tests.sse_server import Plan

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("execute", ROOT / "notebooks" / "execute.py")
execute_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(execute_module)
NOTEBOOKS = execute_module.NOTEBOOKS
CORPUS = json.loads((Path(__file__).parent / "xss_corpus.json").read_text())


@pytest.fixture(scope="module")
def executed() -> dict[str, nbformat.NotebookNode]:
    """Every demo notebook re-run offline, as CI and `notebooks/execute.py --check` do."""
    return {
        name: execute_module.execute(ROOT / "notebooks" / f"{name}.ipynb") for name in NOTEBOOKS
    }


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_reruns_with_the_committed_answers(executed, name):
    committed = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    fresh = executed[name]
    assert execute_module.answers(fresh), "the notebook has answers"
    assert execute_module.answers(fresh) == execute_module.answers(committed)
    assert "widgets" not in fresh.metadata
    for cell in fresh.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", cell.source
            assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {})


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_exports_show_every_answer(executed, name):
    html, _ = HTMLExporter().from_notebook_node(executed[name])
    markdown, _ = MarkdownExporter().from_notebook_node(executed[name])
    statuses = re.findall(r'class="streamchat streamchat-status-\w+" data-status="(\w+)"', html)
    assert len(statuses) == len(execute_module.answers(executed[name]))
    for cell in executed[name].cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("text/markdown", {}).get("streamchat")
            if meta:
                for answer in meta.get("comparison", [meta]):
                    assert answer["status"] in statuses
                assert "key" not in json.dumps(meta).lower()
    assert markdown.count('class="streamchat streamchat-status-') == len(statuses)


def test_quickstart_answer_is_whole_and_rendered(executed):
    (answer,) = execute_module.answers(executed["quickstart"])
    assert "## 20 ideas" in answer and "20. **" in answer
    html, _ = HTMLExporter().from_notebook_node(executed["quickstart"])
    assert re.search(r"<h2[^>]*>20 ideas", html)


def test_the_reply_is_usable_in_the_next_cell(executed):
    printed = next(c for c in executed["quickstart"].cells if c.source.startswith("print(_chat"))
    assert re.match(r"done \d+ characters", printed.outputs[0]["text"])


def test_ask_about_your_data_sends_the_frame_and_the_plot_and_keeps_them(executed):
    notebook = executed["ask-about-your-data"]
    first, follow_up, budgeted = execute_module.answers(notebook)
    by = "\N{MULTIPLICATION SIGN}"
    assert first.startswith(f"*Attached: weather: pandas DataFrame · 4 rows {by} 3 columns")
    assert f"; fig: matplotlib Figure · 400 {by} 250 px · " in first.split("\n", 1)[0]
    assert "## What you attached" in first and "I received 1 image\\(s\\)" in first
    assert "earlier messages still carry 2 attached value\\(s\\)" in follow_up
    assert "· cut to 200 of " in budgeted.split("\n", 1)[0]
    sent = next(c for c in notebook.cells if c.source.startswith('[part["type"]'))
    assert sent.outputs[0]["data"]["text/plain"] == "['text', 'text', 'image_url', 'text']"


@pytest.fixture(scope="module")
def hostile_notebook(sse_server, tmp_path_factory) -> Path:
    """A notebook whose answer is the XSS corpus, executed and exported to HTML."""
    text = "\n\n".join(entry["payload"] for entry in CORPUS)
    sse_server.add_model("corpus", Plan(tokens=[text[i : i + 7] for i in range(0, len(text), 7)]))
    nb = new_notebook(cells=[new_code_cell("%load_ext streamchat_widget"),
                             new_code_cell("%%chat -m corpus\nx")])  # fmt: skip
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    env = {"OPENAI_BASE_URL": sse_server.base_url, "OPENAI_API_KEY": sse_server.api_key}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "hostile.html").write_text(HTMLExporter().from_notebook_node(nb)[0])
    (folder / "hostile.md").write_text(MarkdownExporter().from_notebook_node(nb)[0])
    nbformat.write(nb, folder / "hostile.ipynb")
    return folder


@pytest.mark.browser
def test_exported_html_runs_none_of_the_corpus(hostile_notebook):
    from tests.lab import chromium

    with chromium() as browser:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto((hostile_notebook / "hostile.html").as_uri())
        page.wait_for_selector('.streamchat[data-status="done"]')
        page.wait_for_timeout(500)
        assert page.evaluate("() => window.__xss") is None
        assert dialogs == []
        shown = page.locator(".streamchat .streamchat-answer").inner_text()
        alts = " ".join(page.eval_on_selector_all(".streamchat img", "els => els.map(e => e.alt)"))
        for entry in CORPUS:
            assert entry["visible"] in f"{shown} {alts}", entry["payload"]


def test_exported_markdown_holds_no_live_markup(hostile_notebook):
    """The saved text/markdown, rendered by marked (JupyterLab) and markdown-it (html on)."""
    from tests.renderers import MARKDOWN_IT_HTML, marked, violations

    nb = nbformat.read(hostile_notebook / "hostile.ipynb", as_version=4)
    (output,) = nb.cells[1].outputs
    markdown = output["data"]["text/markdown"]
    for html in (marked().render(markdown), MARKDOWN_IT_HTML.render(markdown)):
        assert violations(html) == []
        assert "<a href=" in html, "the corpus's safe link stays a link"
