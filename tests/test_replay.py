"""Record in one kernel against a model, replay in another with no server and no key."""

from __future__ import annotations

import json

import pytest

from streamchat_widget.recording import Recording
from tests.kernel import Kernel
from tests.sse_server import Plan, SSEServer

CELLS = [
    '%%chat -m story -s "Be brief."\nTell me a story about {braces}',
    "%%chat -m story -t 0.2\nAnd then?",
    "%%chat -m story -c other\nTell me a story about {braces}",
]


def _answers(kernel: Kernel) -> list[tuple[str, str]]:
    return [(w.streamed_text, w.state["status"]) for w in kernel.chat_widgets()]


def test_record_then_replay_offline_gives_byte_identical_answers(tmp_path):
    path = tmp_path / "story.jsonl"
    words = ["Once ", "upon ", "a ", "time, ", "<b>tags</b> ", "and ", "`code`.\n\n", "The end."]
    with SSEServer() as server:
        server.add_model("story", Plan(tokens=words, delay=0.01))
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": server.api_key}
        with Kernel(env) as k:
            k.run("%load_ext streamchat_widget")
            assert "Recording" in k.run(f"%chat record {path}").stdout
            for cell in CELLS:
                assert k.run(cell).status == "ok"
            recorded = _answers(k)
            k.run("%chat record --stop")
        lines = path.read_text().splitlines()
        assert len(lines) == 3
        assert server.api_key not in path.read_text()

    # The server is gone and there is no key: only the recording can answer.
    with Kernel({"STREAMCHAT_DEMO_DELAY": "0"}) as k:
        k.run("%load_ext streamchat_widget")
        assert "3 recorded" in k.run(f"%chat replay {path}").stdout
        for cell in CELLS:
            assert k.run(cell).status == "ok"
        assert _answers(k) == recorded
        assert all(w.state["badge"] == "replay" for w in k.chat_widgets())
        texts = k.run("print(repr(_chat.text), _chat.status)").stdout
        assert texts == f"{words_repr(words)} done\n"

        k.widgets.clear()
        k.run("%%chat -m story -c other\nTell me a stroy about braces")
        (missing,) = k.chat_widgets()
        assert missing.state["status"] == "error"
        assert "Tell me a story about {braces}" in missing.state["error"]["message"]


def words_repr(words: list[str]) -> str:
    return repr("".join(words))


def test_replay_keeps_the_recorded_pace_unless_told_otherwise(tmp_path):
    path = tmp_path / "paced.jsonl"
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "options": {}}
    events = [[0.3 * i, "TextDelta", {"text": f"w{i} "}] for i in range(1, 6)]
    path.write_text(json.dumps({"request": request, "status": "done", "events": events}) + "\n")
    with Kernel({}) as k:
        k.run("%load_ext streamchat_widget")
        for speed, low, high in [(1, 1.3, 3.0), (0, 0.0, 0.5)]:
            k.run(f"%chat replay {path} --speed {speed}")
            timed = k.run(
                "import time\nt = time.perf_counter()\n"
                "await __import__('streamchat_widget').chat('hi', model='m', new=True)\n"
                "print(round(time.perf_counter() - t, 2))"
            )
            assert low <= float(timed.stdout) <= high, (speed, timed.stdout)


def test_a_stopped_answer_replays_as_stopped(tmp_path):
    path = tmp_path / "stopped.jsonl"
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "options": {}}
    line = {"request": request, "status": "stopped", "events": [[0.0, "TextDelta", {"text": "pa"}]]}
    path.write_text(json.dumps(line) + "\n")
    with Kernel({}) as k:
        k.run("%load_ext streamchat_widget")
        k.run(f"%chat replay {path}")
        k.run("%%chat -m m\nhi")
        (widget,) = k.chat_widgets()
        assert (widget.streamed_text, widget.state["status"]) == ("pa", "stopped")


@pytest.mark.parametrize("status", ["done", "stopped", "error"])
def test_recordings_round_trip(status):
    line = json.dumps({
        "request": {"model": "m", "messages": [], "options": {"seed": 1}},
        "status": status,
        "events": [[0.5, "TextDelta", {"text": "x"}], [0.6, "Usage", {
            "prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}]],
    })  # fmt: skip
    assert json.loads(Recording.from_json(line).to_json()) == json.loads(line)
