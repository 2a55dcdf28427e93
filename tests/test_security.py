"""The API key never appears in any artifact of a full run, errors included."""

from __future__ import annotations

import nbformat
from nbconvert import HTMLExporter, MarkdownExporter

from tests.sse_server import Plan


def test_the_key_is_in_no_output_state_export_or_saved_file(server, tmp_path, run_notebook):
    server.add_model("mid-error", Plan(tokens=["partial "], error_after=1))
    server.add_model("limited", Plan(status=429))
    saved = tmp_path / "conversation.json"
    cells = [
        "%load_ext streamchat_widget",
        "%%chat -m echo\nhello there",
        "%%chat -m no-such-model\nhello",
        "%%chat -m mid-error\nhello",
        "%%chat -m limited\nhello",
        "print(_chat); print(repr(_chat)); print(_chat.error)",
        f"%chat history\n%chat save {saved}\n%chat models",
        "%%chat -m echo -o api_key=sk-typed-into-a-cell\nhello",
        "import streamchat_widget\ntry:\n"
        "    [p async for p in streamchat_widget.stream_text('x', model='no-such-model')]\n"
        "except streamchat_widget.ChatError as exc:\n    print(exc)",
    ]
    nb, path = run_notebook(cells)

    refused = nbformat.writes(nb.cells[7])
    assert "UsageError" in refused and "OPENAI_API_KEY" in refused
    artifacts = {
        "notebook": path.read_text(),
        "html": HTMLExporter().from_notebook_node(nb)[0],
        "markdown": MarkdownExporter().from_notebook_node(nb)[0],
        "saved conversation": saved.read_text(),
    }
    assert "Rate limited (429)" in artifacts["notebook"]
    assert "does not exist" in artifacts["html"]
    for name, text in artifacts.items():
        assert server.api_key not in text, f"the key leaked into the {name}"
