"""The widget in a real Chromium, in a real JupyterLab, against the loopback model server.

Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright's Python API.
Screenshots go to `test-artifacts/` (printed by the test), for CI to keep.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sse_server import Plan

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _answer_text(page) -> str:
    return page.locator(".streamchat .streamchat-answer").last.inner_text()


def test_answer_streams_incrementally_and_stop_closes_the_connection(lab, browser, server):
    server.add_model("slow", Plan(tokens=[f"tok{i} " for i in range(600)], delay=0.02))
    name = lab.notebook("stop.ipynb", ["%load_ext streamchat_widget", "%%chat -m slow\nCount."])
    page = browser.new_page()
    try:
        lab.open_and_run_all(page, name)
        root = page.locator(".streamchat").last
        root.wait_for(timeout=30_000)
        stop = page.get_by_role("button", name="Stop")
        stop.wait_for(timeout=10_000)
        assert root.get_attribute("data-status") == "streaming"

        page.wait_for_function(
            "() => (document.querySelector('.streamchat-answer')?.textContent || '').length > 20"
        )
        length = "(document.querySelector('.streamchat-answer')?.textContent || '').length"
        first = page.evaluate(f"() => {length}")
        # Tokens appear incrementally: more text while the answer still streams.
        page.wait_for_function(f"n => {length} > n", arg=first)
        assert root.get_attribute("data-status") == "streaming"

        stop.click()
        page.wait_for_selector('.streamchat[data-status="stopped"]', timeout=5_000)
        record = server.wait_for_disconnect(timeout=3)
        assert record.disconnected
        frozen = _answer_text(page)
        page.wait_for_timeout(500)
        assert _answer_text(page) == frozen, "the text stops growing"
        assert frozen.startswith("tok0 tok1")
        assert record.chunks_sent < 600

        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "jupyterlab-stopped.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
    finally:
        page.close()


def test_model_output_is_never_inserted_as_html(lab, browser, server):
    hostile = ['<img src=x onerror="window.__xss=1">', " <svg onload=window.__xss=2>", " after"]
    server.add_model("hostile", Plan(tokens=hostile))
    name = lab.notebook("xss.ipynb", ["%load_ext streamchat_widget", "%%chat -m hostile\nhi"])
    page = browser.new_page()
    try:
        lab.open_and_run_all(page, name)
        page.wait_for_selector('.streamchat[data-status="done"]', timeout=30_000)
        page.wait_for_timeout(500)
        assert page.evaluate("() => window.__xss") is None
        answer = page.locator(".streamchat .streamchat-answer").last
        assert answer.locator("img, svg").count() == 0
        assert "<img src=x" in answer.inner_text()
        saved = json.loads((lab.root / name).read_text())
        assert saved["cells"], "notebook still readable"
    finally:
        page.close()


def test_markdown_renders_while_streaming(lab, browser, server):
    head = ["# Heading\n\n", "- one\n", "- two\n\n", "```python\n", "print('hi')\n", "```\n\n"]
    server.add_model("md", Plan(tokens=head + [f"word{i} " for i in range(400)], delay=0.02))
    name = lab.notebook("md.ipynb", ["%load_ext streamchat_widget", "%%chat -m md\nformat"])
    page = browser.new_page()
    try:
        lab.open_and_run_all(page, name)
        live = page.locator('.streamchat[data-status="streaming"]')
        code = live.locator(".streamchat-answer pre code.language-python")
        page.wait_for_function(
            "() => document.querySelector('.streamchat-answer')?.textContent.includes('word1 ')",
            timeout=30_000,
        )
        assert live.locator(".streamchat-answer h1").inner_text() == "Heading"
        assert live.locator(".streamchat-answer li").count() == 2
        assert code.inner_text().strip() == "print('hi')"
        assert code.locator("span").count() > 0, "highlighted"
        assert live.get_by_role("button", name="Copy code").count() == 1
        page.get_by_role("button", name="Stop").click()
        page.wait_for_selector('.streamchat[data-status="stopped"] .streamchat-answer h1')
    finally:
        page.close()


CORPUS = json.loads((Path(__file__).parent / "xss_corpus.json").read_text())


def _visible_text(page) -> str:
    return page.evaluate(
        """() => [...document.querySelectorAll('.streamchat .streamchat-answer')]
            .map(a => a.innerText + ' ' + [...a.querySelectorAll('img')].map(i => i.alt).join(' '))
            .join(' ')"""
    )


def test_xss_corpus_executes_nothing_live_or_in_the_static_copy(lab, browser, server):
    text = "\n\n".join(entry["payload"] for entry in CORPUS)
    tokens = [text[i : i + 3] for i in range(0, len(text), 3)]
    server.add_model("hostile-corpus", Plan(tokens=tokens, delay=0.002))
    name = lab.notebook(
        "corpus.ipynb", ["%load_ext streamchat_widget", "%%chat -m hostile-corpus\nx"]
    )
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        lab.open_and_run_all(page, name)
        page.wait_for_selector('.streamchat[data-status="streaming"]', timeout=30_000)
        page.wait_for_selector('.streamchat[data-status="done"]', timeout=60_000)
        page.wait_for_timeout(500)
        assert page.evaluate("() => window.__xss") is None
        assert dialogs == []
        visible = _visible_text(page)
        for entry in CORPUS:
            assert entry["visible"] in visible, entry["payload"]
        assert (
            page.locator(".streamchat iframe, .streamchat object, .streamchat embed").count() == 0
        )
    finally:
        page.close()


def test_copy_puts_the_raw_markdown_on_the_clipboard(lab, browser, server):
    answer = "# Title\n\nSome *emphasis* and code:\n\n```python\nprint('hi')\n```\n"
    server.add_model("copyable", Plan(tokens=[answer[i : i + 5] for i in range(0, len(answer), 5)]))
    name = lab.notebook("copy.ipynb", ["%load_ext streamchat_widget", "%%chat -m copyable\nx"])
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        lab.open_and_run_all(page, name)
        page.wait_for_selector('.streamchat[data-status="done"]', timeout=30_000)
        page.get_by_role("button", name="Copy", exact=True).click()
        page.wait_for_function("() => navigator.clipboard.readText().then(t => t.length > 0)")
        assert page.evaluate("() => navigator.clipboard.readText()") == answer
        page.get_by_role("button", name="Copy code").click()
        page.wait_for_function(
            "() => navigator.clipboard.readText().then(t => t === \"print('hi')\")"
        )
    finally:
        context.close()


SHOWCASE = (
    "## Joins, briefly\n\n"
    "| join | keeps |\n|---|---|\n| inner | matches |\n| left | all left rows |\n\n"
    "> A join is a filtered cartesian product.\n\n"
    "```sql\nSELECT c.name, o.total\nFROM customers c\n"
    "LEFT JOIN orders o ON o.customer_id = c.id;\n```\n\n"
    "1. **Inner** joins drop rows without a match.\n2. *Left* joins keep them, with `NULL`s.\n\n"
)


def test_light_and_dark_screenshots(lab, browser, server):
    tokens = [SHOWCASE[i : i + 4] for i in range(0, len(SHOWCASE), 4)]
    server.add_model(
        "showcase", Plan(tokens=tokens + [f"more{i} " for i in range(300)], delay=0.01)
    )
    name = lab.notebook("themes.ipynb", ["%load_ext streamchat_widget", "%%chat -m showcase\nx"])
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        lab.open_and_run_all(page, name)
        page.wait_for_function(
            "() => document.querySelector('.streamchat-answer')?.textContent.includes('more3')",
            timeout=30_000,
        )
        page.screenshot(path=str(ARTIFACTS / "light-streaming.png"))
        page.evaluate(
            "() => window.jupyterapp.commands.execute("
            "'apputils:change-theme', {theme: 'JupyterLab Dark'})"
        )
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "dark-streaming.png"))
        page.get_by_role("button", name="Stop").click()
        page.wait_for_selector('.streamchat[data-status="stopped"]')
        page.screenshot(path=str(ARTIFACTS / "dark-stopped.png"))
        page.evaluate(
            "() => window.jupyterapp.commands.execute("
            "'apputils:change-theme', {theme: 'JupyterLab Light'})"
        )
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "light-stopped.png"))
        answer_shot = ARTIFACTS / "light-stopped-answer.png"
        page.locator(".streamchat").last.screenshot(path=str(answer_shot))
        print(f"screenshots: {ARTIFACTS}")
    finally:
        page.close()


def test_notebook7_streams_and_stops(lab, browser, server):
    server.add_model("slow7", Plan(tokens=[f"tok{i} " for i in range(600)], delay=0.02))
    name = lab.notebook("nb7.ipynb", ["%load_ext streamchat_widget", "%%chat -m slow7\nCount."])
    page = browser.new_page()
    try:
        page.goto(lab.page_url(name, "notebook7"))
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        page.wait_for_function(
            "() => document.querySelector('.jp-Notebook-ExecutionIndicator, #jp-main-statusbar')"
            " !== null",
            timeout=60_000,
        )
        page.wait_for_timeout(2000)
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        page.wait_for_function(
            "() => (document.querySelector('.streamchat-answer')?.textContent || '').length > 20",
            timeout=60_000,
        )
        page.get_by_role("button", name="Stop").click()
        page.wait_for_selector('.streamchat[data-status="stopped"]', timeout=5_000)
        assert server.wait_for_disconnect(timeout=3).disconnected
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "notebook7-stopped.png"))
    finally:
        page.close()


NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
DEMO_NOTEBOOKS = [
    "quickstart", "conversations", "local-models", "stopping-and-errors", "python-api",
]  # fmt: skip


def _kernels_shut_down(lab) -> None:
    import urllib.request

    headers = {"Authorization": f"token {lab.token}"}
    with urllib.request.urlopen(
        urllib.request.Request(f"{lab.url}/api/kernels", headers=headers)
    ) as r:
        kernels = json.load(r)
    for kernel in kernels:
        request = urllib.request.Request(
            f"{lab.url}/api/kernels/{kernel['id']}", method="DELETE", headers=headers
        )
        urllib.request.urlopen(request).close()


def _open(page, lab, app: str, file: str) -> None:
    page.goto(lab.page_url(file, app))
    page.wait_for_selector(".jp-Notebook .streamchat", timeout=60_000)
    page.wait_for_timeout(500)


def test_a_notebook_saved_in_jupyterlab_reopens_with_its_answers(lab, browser, server):
    server.add_model("saved", Plan(tokens=["# Kept\n\n", "answer ", "text"]))
    name = lab.notebook("saved.ipynb", ["%load_ext streamchat_widget", "%%chat -m saved\nx"])
    page = browser.new_page()
    try:
        lab.open_and_run_all(page, name)
        page.wait_for_selector('.streamchat[data-status="done"]', timeout=30_000)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.close()
        _kernels_shut_down(lab)
        saved = json.loads((lab.root / name).read_text())
        assert "widgets" not in saved["metadata"], "no widget state needed"
        for app in ("lab", "notebook7"):
            page = browser.new_page()
            _open(page, lab, app, name)
            root = page.locator(".jp-Notebook .streamchat")
            assert root.count() == 1
            assert root.get_attribute("data-status") == "done", app
            assert root.locator("h1").inner_text() == "Kept"
            assert "Error displaying widget" not in page.content()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"reopened-saved-{app}.png"))
            page.close()
    finally:
        if not page.is_closed():
            page.close()


@pytest.mark.parametrize("app", ["lab", "notebook7"])
def test_committed_notebooks_reopen_showing_every_answer_without_widget_errors(lab, browser, app):
    """Notebooks from elsewhere are untrusted: JupyterLab sanitizes their HTML, keeping
    the `streamchat` class and the status class but not `data-status`."""
    import shutil

    import nbformat

    shutil.copytree(NOTEBOOK_DIR / "images", lab.root / "images", dirs_exist_ok=True)
    page = browser.new_page()
    try:
        for name in DEMO_NOTEBOOKS:
            file = f"reopen-{app}-{name}.ipynb"
            shutil.copy(NOTEBOOK_DIR / f"{name}.ipynb", lab.root / file)
            nb = nbformat.read(lab.root / file, as_version=4)
            outputs = [o for c in nb.cells for o in c.get("outputs", [])]
            expected = [
                o["metadata"]["text/markdown"]["streamchat"]["status"]
                for o in outputs
                if "text/html" in o.get("data", {})
            ]
            _open(page, lab, app, file)
            statuses = page.eval_on_selector_all(
                ".jp-Notebook .streamchat",
                "els => els.map(e => [...e.classList]"
                ".find(c => c.startsWith('streamchat-status-')))",
            )
            assert statuses == [f"streamchat-status-{s}" for s in expected], name
            assert "Error displaying widget" not in page.content()
            first = page.locator(".jp-Notebook .streamchat .streamchat-answer").first.inner_text()
            assert "offline demo model" in first or "No endpoint" in page.content(), name
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"reopened-{app}.png"), full_page=True)
    finally:
        page.close()


# A 1x1 transparent PNG.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture
def image_server():
    """A loopback HTTP server that answers every GET with a pixel and records the paths."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    paths: list[str] = []
    arrived = threading.Condition()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with arrived:
                paths.append(self.path)
                arrived.notify_all()
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PIXEL)))
            self.end_headers()
            self.wfile.write(PIXEL)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def wait_for(path: str, timeout: float = 10) -> None:
        with arrived:
            assert arrived.wait_for(lambda: path in paths, timeout), f"{path} never requested"

    httpd.paths, httpd.wait_for = paths, wait_for
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _round_trip(page, image_server, name: str) -> None:
    """Load a sentinel image from the same server: any earlier image request has arrived."""
    page.evaluate(
        "url => new Promise(done => { const i = new Image(); i.onload = i.onerror = done;"
        " i.src = url; })",
        f"{image_server.url}/{name}",
    )
    image_server.wait_for(f"/{name}")


def _image_requests(image_server, requested: list[str], path: str) -> list[str]:
    """Requests for `path`, as the image server and as the browser itself saw them."""
    seen = [p for p in image_server.paths if p.startswith(path)]
    assert len([u for u in requested if path in u]) == len(seen)
    return seen


def test_remote_images_are_never_fetched_by_the_live_view_or_the_saved_copy(
    lab, browser, server, image_server
):
    url = f"{image_server.url}/probe.png?d=SECRET_FROM_CONTEXT"
    tokens = ["Status:\n\n", f"![status]({url})", "\n\nMore text ", "follows.\n\n"]
    tokens += [f"word{i} " for i in range(60)]
    server.add_model("exfiltrating", Plan(tokens=tokens, delay=0.02))
    name = lab.notebook(
        "images.ipynb", ["%load_ext streamchat_widget", "%%chat -m exfiltrating\nx"]
    )
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        lab.open_and_run_all(page, name)
        page.wait_for_function(
            '() => document.querySelector(\'.streamchat[data-status="streaming"]'
            " .streamchat-answer')?.textContent.includes('follows.')",
            timeout=30_000,
        )
        _round_trip(page, image_server, "while-streaming.png")
        assert _image_requests(image_server, requested, "/probe.png") == []
        live = page.locator('.streamchat[data-status="streaming"] .streamchat-remote-image')
        assert live.locator(".streamchat-remote-image-url").inner_text() == url
        assert live.get_by_role("button", name=f"Load image from {url}").count() == 1

        page.wait_for_selector('.streamchat[data-status="done"]', timeout=30_000)
        saved = page.locator(".jp-RenderedHTMLCommon .streamchat a.streamchat-remote-image")
        saved.wait_for()
        assert saved.get_attribute("href") == url
        assert page.locator(f'img[src*="{image_server.url}"]').count() == 0
        _round_trip(page, image_server, "after-the-end.png")
        assert _image_requests(image_server, requested, "/probe.png") == []
    finally:
        page.close()


def test_a_click_loads_a_remote_image_once(lab, browser, server, image_server):
    url = f"{image_server.url}/clicked.png"
    tokens = ["Chart:\n\n", f"![chart]({url})", "\n\nThen ", "words.\n\n"]
    tokens += [f"word{i} " for i in range(600)]
    server.add_model("clickable-image", Plan(tokens=tokens, delay=0.02))
    name = lab.notebook(
        "click.ipynb", ["%load_ext streamchat_widget", "%%chat -m clickable-image\nx"]
    )
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        lab.open_and_run_all(page, name)
        live = page.locator('.streamchat[data-status="streaming"]')
        # Once its paragraph has finished: in the open tail it is drawn anew each frame.
        held = live.locator(".streamchat-block:not(.streamchat-tail) .streamchat-remote-image")
        button = held.get_by_role("button", name=f"Load image from {url}")
        button.wait_for(timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        held.screenshot(path=str(ARTIFACTS / "image-held.png"))
        _round_trip(page, image_server, "before-click.png")
        assert _image_requests(image_server, requested, "/clicked.png") == []

        button.click()
        image_server.wait_for("/clicked.png")
        page.wait_for_function(
            "url => [...document.images].some(i => i.src === url && i.complete"
            " && i.naturalWidth === 1)",
            arg=url,
        )
        page.wait_for_function(
            "() => document.querySelector('.streamchat-answer')?.textContent.includes('word40 ')"
        )
        page.get_by_role("button", name="Stop").click()
        page.wait_for_selector('.streamchat[data-status="stopped"]', timeout=10_000)
        _round_trip(page, image_server, "after-stop.png")
        assert _image_requests(image_server, requested, "/clicked.png") == ["/clicked.png"]
    finally:
        page.close()


# Composites the backgrounds under `el` (canvas does the colour parsing and alpha blending)
# and returns the WCAG contrast ratio of each element's text against that surface.
CONTRAST = """(elements) => {
  const ctx = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  const pixel = () => [...ctx.getImageData(0, 0, 1, 1).data];
  const alpha = (color) => {
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = color; ctx.fillRect(0, 0, 1, 1);
    return pixel()[3];
  };
  const luminance = ([r, g, b]) => {
    const c = [r, g, b].map(v => v / 255).map(v => v <= 0.04045 ? v / 12.92
      : Math.pow((v + 0.055) / 1.055, 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  return elements.map((el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const background = getComputedStyle(n).backgroundColor;
      layers.unshift(background);
      if (alpha(background) === 255) break;
    }
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 1, 1);
    for (const layer of layers) { ctx.fillStyle = layer; ctx.fillRect(0, 0, 1, 1); }
    const surface = luminance(pixel());
    ctx.fillStyle = getComputedStyle(el).color; ctx.fillRect(0, 0, 1, 1);
    const text = luminance(pixel());
    const [hi, lo] = [Math.max(surface, text), Math.min(surface, text)];
    return {text: el.textContent.trim().slice(0, 40), ratio: (hi + 0.05) / (lo + 0.05)};
  });
}"""

LIVE_ERROR_CELL = (
    "from streamchat_widget.widget import ChatWidget\n"
    "ChatWidget(status='error', model_name='m', badge='replay', error={'title': 'Bad request', "
    "'message': 'The server refused the request.', "
    "'hint': 'Check the options sent with this cell.'})"
)


def _set_theme(page, theme: str) -> None:
    page.evaluate(
        "theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    light = "true" if theme == "JupyterLab Light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    page.wait_for_function(
        "() => getComputedStyle(document.body).getPropertyValue('--jp-layout-color1').trim()"
        f" {'===' if light == 'true' else '!=='} 'white'"
    )
    # A theme change shows JupyterLab's splash over the page while it fades out.
    page.wait_for_function("() => !document.querySelector('#jupyterlab-splash')")


def test_error_cards_and_badges_are_readable_in_light_and_dark(lab, browser, server):
    server.add_model(
        "refusing", Plan(status=400, error_body={"error": {"message": "bad option 'tempurature'"}})
    )
    name = lab.notebook(
        "error-themes.ipynb",
        ["%load_ext streamchat_widget", "%%chat -m refusing\nx", LIVE_ERROR_CELL],
    )
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        lab.open_and_run_all(page, name)
        saved = page.locator(".jp-RenderedHTMLCommon .streamchat .streamchat-error")
        live = page.locator(".streamchat-error:not(.jp-RenderedHTMLCommon *)")
        saved.wait_for(timeout=30_000)
        live.wait_for(timeout=30_000)
        assert saved.locator("div").last.inner_text().strip(), "the saved card has a hint"
        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            _set_theme(page, theme)
            slug = theme.split()[-1].lower()
            saved.screenshot(path=str(ARTIFACTS / f"static-error-{slug}.png"))
            live.screenshot(path=str(ARTIFACTS / f"live-error-{slug}.png"))
            for card, where in ((saved, "saved copy"), (live, "live widget")):
                # The card's own colour is its message's; its last div is the hint.
                handles = [
                    card.element_handle(),
                    card.locator(":scope > div").last.element_handle(),
                ]
                for measured in page.evaluate(CONTRAST, handles):
                    assert measured["ratio"] >= 4.5, (theme, where, measured)
            badge = page.locator(".streamchat-badge:not(.jp-RenderedHTMLCommon *)")
            [measured] = page.evaluate(CONTRAST, [badge.element_handle()])
            assert measured["ratio"] >= 4.5, (theme, "badge", measured)
    finally:
        _set_theme(page, "JupyterLab Light")
        page.close()
