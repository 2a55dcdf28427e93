"""Shared fixtures: one loopback model server for the whole session, and a kernel per
module that each test gets back as a fresh notebook would have it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from tests.kernel import Kernel
from tests.lab import chromium, jupyter_lab
from tests.sse_server import SSEServer

# What a test may leave behind in a kernel, put back before the next one.
FRESH = """\
%chat reset --all
%chat record --stop
%chat replay --stop
%config ChatMagics.timeout = 60.0
import os as _os
_os.environ["OPENAI_BASE_URL"] = {base_url!r}
del _os
_chat = None
"""


@pytest.fixture(scope="session")
def sse_server():
    with SSEServer() as server:
        yield server


@pytest.fixture
def server(sse_server):
    """The session's server with its request records cleared and its default models back."""
    sse_server.reset()
    sse_server.add_default_models()
    return sse_server


@pytest.fixture(scope="module")
def module_kernel(sse_server):
    """A real ipykernel with the extension loaded, talking to the session's server."""
    env = {
        "OPENAI_BASE_URL": sse_server.base_url,
        "OPENAI_API_KEY": sse_server.api_key,
        "STREAMCHAT_DEMO_DELAY": "0",
    }
    with Kernel(env) as k:
        assert k.run("%load_ext streamchat_widget").status == "ok"
        yield k


@pytest.fixture
def kernel(module_kernel, server):
    """The module's kernel, reset: no conversations, no `_chat`, no recording or replay,
    the default timeout and endpoint. Tests pass in any order (pytest-randomly)."""
    module_kernel.widgets.clear()
    reset = module_kernel.run(FRESH.format(base_url=server.base_url))
    assert reset.status == "ok", reset.outputs
    module_kernel.widgets.clear()
    return module_kernel


@pytest.fixture(scope="module")
def lab(sse_server, tmp_path_factory):
    """A JupyterLab server on loopback whose kernels talk to the session's model server."""
    env = {"OPENAI_BASE_URL": sse_server.base_url, "OPENAI_API_KEY": sse_server.api_key}
    with jupyter_lab(tmp_path_factory.mktemp("lab"), env) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    with chromium() as b:
        yield b


@pytest.fixture
def run_notebook(server, tmp_path, monkeypatch):
    """Run `cells` headlessly (nbclient, errors allowed) against the test server; save it.

    Returns the executed notebook and the path it was saved to.
    """

    def run(cells: list[str]) -> tuple[nbformat.NotebookNode, Path]:
        nb = new_notebook(cells=[new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
        path = tmp_path / "run.ipynb"
        nbformat.write(nb, path)
        return nb, path

    return run
