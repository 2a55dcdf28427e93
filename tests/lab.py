"""A real JupyterLab server on loopback and Debian's Chromium, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@dataclass
class Lab:
    url: str
    token: str
    root: Path

    def notebook(self, name: str, cells: list[str]) -> str:
        nb = new_notebook(cells=[new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, self.root / name)
        return name

    def page_url(self, name: str, app: str = "lab") -> str:
        """`name` in JupyterLab (a fresh workspace of its own) or in Notebook 7."""
        if app == "notebook7":
            return f"{self.url}/notebooks/{name}?token={self.token}"
        workspace = name.removesuffix(".ipynb")
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={self.token}"

    def open_and_run_all(self, page, name: str) -> None:
        """Open `name` in a workspace of its own and start Run All (without waiting for it)."""
        page.goto(self.page_url(name))
        page.wait_for_function(
            "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
            "?.status === 'idle'",
            timeout=60_000,
        )
        # Not awaited: the command's promise settles only when every cell has run.
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter_lab(root: Path, env: dict[str, str]) -> Iterator[Lab]:
    """JupyterLab (and Notebook 7, same server) serving `root`, kernels seeing `env`."""
    port, token = _free_port(), secrets.token_hex(16)
    log_path = root / "jupyter.log"
    full_env = {**os.environ, **env, "JUPYTER_CONFIG_DIR": str(root / ".jupyter")}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                f"--port={port}", f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--ServerApp.allow_root=True",
            ],
            env=full_env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    process.kill()
                    raise RuntimeError(f"JupyterLab did not start; see {log_path}") from None
                time.sleep(0.3)
        try:
            yield Lab(url, token, root)
        finally:
            process.terminate()
            process.wait(timeout=20)


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium (tests/run does)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
