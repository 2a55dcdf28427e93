"""`chat()` in a plain `python` script: the answer streams to stdout as text, never as MIME."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sse_server import Plan

# Runs `chat()` as a user's script would; the reply (also when Ctrl-C ends the answer)
# goes to the JSON file named by the second argument, for the test to read.
SCRIPT = """\
import asyncio, dataclasses, json, sys
import streamchat_widget

kept = []
try:
    asyncio.run(streamchat_widget.chat("Tell me.", model=sys.argv[1], on_reply=kept.append))
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
with open(sys.argv[2], "w") as out:
    json.dump(dataclasses.asdict(kept[0]), out)
"""
MIME_MARKERS = ("text/html", "application/vnd", "<script", "{'text/")


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    return path


def _start(script: Path, model: str, server, shell: str = "python") -> subprocess.Popen[bytes]:
    """`shell`: plain `python`, or terminal IPython (`ipython script.py`), which shows no widget."""
    env = {
        **os.environ,
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": server.api_key,
        "STREAMCHAT_DEMO_DELAY": "0",
    }
    reply = script.with_suffix(".json")
    interpreter = [sys.executable] if shell == "python" else [sys.executable, "-m", "IPython"]
    return subprocess.Popen(
        [*interpreter, str(script), model, str(reply)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=script.parent,
    )


def _finish(process: subprocess.Popen[bytes], script: Path) -> tuple[str, str, dict]:
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    reply = json.loads(script.with_suffix(".json").read_text())
    return stdout.decode(), stderr.decode(), reply


def _read_until(process: subprocess.Popen[bytes], needle: bytes, timeout: float = 20) -> bytes:
    """What the script has written to stdout, once `needle` is in it."""
    assert process.stdout is not None
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while needle not in seen:
            assert time.monotonic() < deadline, f"stdout so far: {seen!r}"
            if selector.select(timeout=0.1):
                piece = os.read(process.stdout.fileno(), 65536)
                assert piece, f"stdout closed; so far: {seen!r}"
                seen += piece
    return seen


@pytest.mark.parametrize("shell", ["python", "ipython"])
def test_demo_answer_streams_as_text_and_returns_the_reply(script, server, shell):
    stdout, stderr, reply = _finish(_start(script, "demo", server, shell), script)
    assert reply["status"] == "done"
    assert reply["text"].strip()
    assert stdout == reply["text"].rstrip("\n") + "\n"
    for marker in MIME_MARKERS:
        assert marker not in stdout and marker not in stderr, marker
    assert "demo" in stderr.lower(), "the demo notice is said, beside the answer"


def test_text_is_on_stdout_before_the_answer_ends(script, server):
    server.add_model("paced", Plan(tokens=[f"word{i} " for i in range(60)], delay=0.05))
    process = _start(script, "paced", server)
    early = _read_until(process, b"word1 ")
    assert server.last_request().finished is None, "text arrived only after the stream ended"
    stdout, _, reply = _finish(process, script)
    assert reply["status"] == "done"
    assert (early + stdout.encode()).decode() == "".join(f"word{i} " for i in range(60)) + "\n"
    assert reply["usage"] and reply["finish_reason"] == "stop"


def test_a_failed_answer_prints_its_card_and_never_the_key(script, server):
    stdout, stderr, reply = _finish(_start(script, "no-such-model", server), script)
    assert reply["status"] == "error"
    assert reply["error"]["title"] == "Model or endpoint not found (404)"
    assert "Model or endpoint not found (404)" in stderr
    assert reply["error"]["message"] in stderr
    assert server.api_key not in stdout + stderr
    assert stdout == ""


def test_ctrl_c_stops_the_stream_and_keeps_the_partial_text(script, server):
    process = _start(script, "slow", server)
    early = _read_until(process, b"tok3 ")
    process.send_signal(signal.SIGINT)
    stdout, stderr, reply = _finish(process, script)
    server.wait_for_disconnect()
    assert reply["status"] == "stopped"
    assert "interrupted" in stderr and "[stopped]" in stderr
    shown = (early + stdout.encode()).decode()
    assert shown == reply["text"] + "\n"
    assert reply["text"].startswith("tok0 tok1 tok2 tok3 ") and "tok199" not in reply["text"]


def test_a_closed_pipe_stops_the_answer_quietly(script, server):
    """`python script.py | head -c 20`: the reader goes, the answer stops, no traceback."""
    process = _start(script, "slow", server)
    _read_until(process, b"tok3 ")
    assert process.stdout is not None
    process.stdout.close()
    record = server.wait_for_disconnect(timeout=10)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode() and "BrokenPipe" not in stderr.decode()
    assert "[stopped]" in stderr.decode()
    assert record.chunks_sent < 200
    reply = json.loads(script.with_suffix(".json").read_text())
    assert reply["status"] == "stopped" and reply["text"].startswith("tok0 tok1 tok2 tok3 ")
