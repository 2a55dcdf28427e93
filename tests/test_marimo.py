"""The chat widget in marimo: `marimo run --headless` in Debian's Chromium; `marimo export html`.

The notebook is `notebooks/marimo_chat.py` (the Python API awaited in a cell);
`STREAMCHAT_MODEL` points it at a model of the loopback test server.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.sse_server import Plan

pytest.importorskip("marimo")
pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "marimo_chat.py"
MODEL = "marimo-answer"
MARKDOWN = ["# Picnic\n\n", "- bread\n", "- cheese\n\n", "Serves $n^2$ people.\n\n"]
LIVE = ".streamchat[data-status='streaming']"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _marimo_env(server) -> dict[str, str]:
    return {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": server.api_key,
        "STREAMCHAT_MODEL": MODEL,
    }


def _copy_of_notebook(directory: Path) -> Path:
    """The notebook in `directory`: marimo keeps session files beside the notebook it runs."""
    copy = directory / NOTEBOOK.name
    copy.write_text(NOTEBOOK.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


@contextlib.contextmanager
def marimo_server(mode: str, env: dict[str, str], directory: Path) -> Iterator[str]:
    """`marimo run|edit --headless` serving a copy of the notebook; yields its URL."""
    port = _free_port()
    # A user config of its own: the editor runs the notebook on opening, as the app does.
    config = directory / "config" / "marimo" / "marimo.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[runtime]\nauto_instantiate = true\n", encoding="utf-8")
    env = {**env, "XDG_CONFIG_HOME": str(config.parents[1])}
    log_path = directory / "marimo.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "marimo", mode, "--headless", "--no-token",
             "--port", str(port), str(_copy_of_notebook(directory))],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    raise RuntimeError(f"marimo did not start; see {log_path}") from None
                time.sleep(0.2)
        try:
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def marimo_urls(sse_server, tmp_path_factory):
    """The app (`marimo run`: each page is a new session, its kernel a thread of the server)
    and the editor (`marimo edit`: its kernel a process of its own), by mode."""
    with contextlib.ExitStack() as servers:
        yield {
            mode: servers.enter_context(
                marimo_server(mode, _marimo_env(sse_server), tmp_path_factory.mktemp(mode))
            )
            for mode in ("run", "edit")
        }


@pytest.mark.parametrize("mode", ["run", "edit"])
def test_live_widget_is_styled_renders_markdown_live_and_stops(mode, marimo_urls, browser, server):
    url = marimo_urls[mode]
    tokens = [*MARKDOWN, *(f"tok{i} " for i in range(600))]
    server.add_model(MODEL, Plan(tokens=tokens, delay=0.02))
    page = browser.new_page()
    try:
        page.goto(url)
        live = page.locator(LIVE)  # Playwright's CSS engine reaches into marimo's shadow roots
        live.wait_for(timeout=30_000)
        # Live Markdown from the first delta on: marimo made the model after it was sent.
        live.locator("h1", has_text="Picnic").wait_for(timeout=10_000)
        assert live.locator("li").all_inner_texts() == ["bread", "cheese"]
        assert live.get_attribute("data-status") == "streaming"
        styles = live.evaluate(
            "el => { const s = getComputedStyle(el); "
            "return [s.paddingTop, s.borderTopWidth, s.borderTopStyle]; }"
        )
        assert styles == ["8px", "1px", "solid"], "runtime.css reaches the view's shadow root"
        # KaTeX's fonts: declared in the shadow root they would be ignored; they load.
        live.locator(".katex").first.wait_for(timeout=10_000)
        loaded = page.evaluate(
            "async () => { await document.fonts.ready; return [...document.fonts]"
            ".filter(f => f.family.includes('KaTeX_Main')).map(f => f.status); }"
        )
        assert "loaded" in loaded, loaded

        stop = page.get_by_role("button", name="Stop")
        clicked = time.monotonic()
        stop.click()
        record = server.wait_for_disconnect(timeout=5)
        print(f"marimo {mode}: Stop → disconnect in {record.disconnected_at - clicked:.2f} s")
        page.locator(".streamchat[data-status='stopped']").wait_for(timeout=5_000)
        assert record.chunks_sent < len(tokens)
        assert page.locator(LIVE).count() == 0
    finally:
        page.close()


def test_stop_is_heard_in_two_app_sessions_at_once(marimo_urls, browser, server):
    """`marimo run` runs every session's kernel in a thread of one process, each with its
    own queues: each answer listens to its own."""
    url = marimo_urls["run"]
    server.add_model(MODEL, Plan(tokens=[f"tok{i} " for i in range(600)], delay=0.02))
    pages = [browser.new_page(), browser.new_page()]
    try:
        for n, page in enumerate(pages, start=1):
            page.goto(url)
            page.locator(LIVE).wait_for(timeout=30_000)
            server.wait_for_requests(n, timeout=10)
        first, second = server.requests
        for page, record in ((pages[1], second), (pages[0], first)):
            page.get_by_role("button", name="Stop").click()
            assert server.wait_for_disconnect(record.id, timeout=5).chunks_sent < 600
            page.locator(".streamchat[data-status='stopped']").wait_for(timeout=5_000)
    finally:
        for page in pages:
            page.close()


def test_app_sessions_keep_their_conversations_apart(marimo_urls, browser, server):
    """Each viewer's model sees that viewer's exchanges only, though sessions share a process."""
    url = marimo_urls["run"]
    server.add_model(MODEL, Plan(echo=True))
    for _viewer in range(2):
        page = browser.new_page()
        try:
            page.goto(url)
            page.locator(".streamchat[data-status='done']").wait_for(timeout=30_000)
        finally:
            page.close()
    assert [[m["role"] for m in r.body["messages"]] for r in server.requests] == [["user"]] * 2


_VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Elements(HTMLParser):
    """Every start tag's attributes; each answer's status and the text of its answer part."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.answers: list[dict[str, str]] = []
        self._depth = 0  # inside a `.streamchat-answer` element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        classes = (found.get("class") or "").split()
        if "streamchat" in classes:
            self.answers.append({"status": found.get("data-status") or "", "text": ""})
        if self._depth and tag not in _VOID:
            self._depth += 1
        elif "streamchat-answer" in classes and self.answers:
            self._depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.answers[-1]["text"] += data


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def _exported_session(html: str) -> dict:
    """The outputs an exported page carries: the JSON value of `"session"` in its mount script.

    The script is JavaScript (`Object.freeze({"filename": ..., "session": {...}, ...})`),
    one property a line; the session's value is JSON.
    """
    lines = []

    class Scripts(HTMLParser):
        def handle_data(self, data: str) -> None:
            if "__MARIMO_MOUNT_CONFIG__" in data:
                lines.extend(ln.strip() for ln in data.splitlines())

    Scripts().feed(html)
    (line,) = [ln for ln in lines if ln.startswith('"session":')]
    session, _end = json.JSONDecoder().raw_decode(line.removeprefix('"session":').lstrip())
    return session


def _exported_answers(notebook: Path, server) -> tuple[str, list[dict[str, str]], list[dict]]:
    """`marimo export html` of `notebook`: the page, its answers, and every output's bundle."""
    out = notebook.with_suffix(".html")
    subprocess.run(
        [sys.executable, "-m", "marimo", "export", "html", str(notebook), "-o", str(out)],
        env=_marimo_env(server), check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    html = out.read_text(encoding="utf-8")
    outputs = [
        output["data"]["text/html"]
        for cell in _exported_session(html)["cells"]
        for output in cell["outputs"]
        if "text/html" in output.get("data", {})
    ]
    bundles = [
        json.loads(attrs["data-data"] or "{}")
        for output in outputs
        for tag, attrs in _parse(output).tags
        if tag == "marimo-mime-renderer"
    ]
    answers = [a for bundle in bundles for a in _parse(bundle.get("text/html", "")).answers]
    return html, answers, bundles


def test_export_html_holds_the_answer(server, tmp_path):
    server.add_model(MODEL, Plan(tokens=[*MARKDOWN, "All ", "done."]))
    html, answers, bundles = _exported_answers(_copy_of_notebook(tmp_path), server)
    assert server.api_key not in html
    assert [a["status"] for a in answers] == ["done"]
    assert "Picnic" in answers[0]["text"] and "cheese" in answers[0]["text"]
    assert answers[0]["text"].rstrip().endswith("All done.")
    assert not [b for b in bundles if "application/vnd.jupyter.widget-view+json" in b]


TWO_ANSWERS = """\
import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
async def _():
    import streamchat_widget

    first = await streamchat_widget.chat("first question")
    second = await streamchat_widget.chat("second question")
    return


if __name__ == "__main__":
    app.run()
"""


def test_every_answer_of_a_cell_stays_in_its_output(server, tmp_path):
    """Each answer's static copy takes its own widget's place, not the cell's whole output."""
    server.add_model(MODEL, Plan(echo=True))
    notebook = tmp_path / "two_answers.py"
    notebook.write_text(TWO_ANSWERS, encoding="utf-8")
    _html, answers, _bundles = _exported_answers(notebook, server)
    assert [(a["status"], a["text"].strip()) for a in answers] == [
        ("done", "first question"),
        ("done", "second question"),
    ]
