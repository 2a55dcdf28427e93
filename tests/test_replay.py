"""Record in one kernel against a model, replay in another with no server and no key."""

from __future__ import annotations

import json
import random
import time

import pytest

from streamchat_widget.recording import Recording, Replayer, ReplayMissing
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


def _line(prompt: str, answer: str, conversation: str | None = "c", model: str = "m") -> str:
    record = {
        "request": {"model": model, "messages": [{"role": "user", "content": prompt}],
                    "options": {}},
        "status": "done",
        "events": [[0.0, "TextDelta", {"text": answer}]],
    }  # fmt: skip
    if conversation is not None:
        record["conversation"] = conversation
    return json.dumps(record)


def _replayed(kernel: Kernel, cell: str) -> tuple[str, str]:
    kernel.widgets.clear()
    assert kernel.run(cell).status == "ok"
    (widget,) = kernel.chat_widgets()
    return widget.streamed_text, widget.state["status"]


@pytest.fixture
def replaying(kernel):
    """The shared kernel, with recording and replay switched off again afterwards."""
    yield kernel
    kernel.run("%chat record --stop\n%chat replay --stop")


def test_answers_with_unicode_line_breaks_record_and_replay(replaying, server, tmp_path):
    path = tmp_path / "separators.jsonl"
    tokens = ["Line one\u2028line two ", "and NEL\x85 end", " para\u2029graph"]
    server.add_model("separators", Plan(tokens=tokens))
    cell = "%%chat -m separators -c seps --new\nseparators"
    replaying.run(f"%chat record {path}")
    recorded = _replayed(replaying, cell)
    replaying.run("%chat record --stop")
    assert recorded == ("".join(tokens), "done")
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1

    server.reset()
    assert "1 recorded" in replaying.run(f"%chat replay {path} --speed 0").stdout
    assert _replayed(replaying, cell) == recorded
    assert server.requests == []


def test_a_bad_line_is_skipped_with_a_warning_naming_it(replaying, tmp_path):
    path = tmp_path / "damaged.jsonl"
    lines = [
        _line("hi", "the good one"),
        "{not json",
        json.dumps({"request": "a string", "status": "done", "events": []}),
        "[" * 100_000 + "]" * 100_000,
        json.dumps({"request": {"model": "m", "messages": []}, "status": "done",
                    "events": [[0.0, "TextDelta", {"text": 42}]]}),
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = replaying.run(f"%chat replay {path} --speed 0")
    assert "1 recorded exchange(s)" in loaded.stdout
    warnings = "".join(o["text"] for o in loaded.outputs if o.get("name") == "stderr")
    for number in (2, 3, 4, 5):
        assert f"line {number} skipped" in warnings
    assert _replayed(replaying, "%%chat -m m -c c --new\nhi") == ("the good one", "done")


def test_replay_matches_the_conversation_name(replaying, server, tmp_path):
    path = tmp_path / "named.jsonl"
    replaying.run(f"%chat record {path}")
    replaying.run("%%chat -m echo -c first --new\nshared prompt")
    replaying.run("%chat record --stop")
    replaying.run(f"%chat replay {path} --speed 0")

    text, status = _replayed(replaying, "%%chat -m echo -c fresh --new\nshared prompt")
    assert (text, status) == ("", "error")
    (widget,) = replaying.chat_widgets()
    assert "recorded in conversation 'first'" in widget.state["error"]["message"]
    assert _replayed(replaying, "%%chat -m echo -c first --new\nshared prompt") == (
        "shared prompt",
        "done",
    )


def test_recordings_without_a_conversation_name_answer_in_any(replaying, tmp_path):
    path = tmp_path / "older.jsonl"
    path.write_text(_line("hi", "from an older file", conversation=None) + "\n")
    replaying.run(f"%chat replay {path} --speed 0")
    assert _replayed(replaying, "%%chat -m m -c anything --new\nhi") == (
        "from an older file",
        "done",
    )


def test_repeated_requests_are_kept_and_answered_in_recorded_order(replaying, server, tmp_path):
    path = tmp_path / "repeats.jsonl"
    cell = "%%chat -m varying -c dup --new\nsame question"
    replaying.run(f"%chat record {path}")
    for answer in ("answer one", "answer two", "answer three"):
        server.add_model("varying", Plan(tokens=[answer]))
        assert _replayed(replaying, cell) == (answer, "done")
    replaying.run("%chat record --stop")

    loaded = replaying.run(f"%chat replay {path} --speed 0").stdout
    assert "3 recorded exchange(s); 2 repeat an earlier request" in loaded
    answers = [_replayed(replaying, cell)[0] for _ in range(4)]
    assert answers == ["answer one", "answer two", "answer three", "answer three"]


def test_a_replay_miss_among_many_long_recordings_is_quick(tmp_path):
    # 150 symbols, none common enough for difflib's autojunk: the old full scan took 7-8 s.
    rng = random.Random(7)
    prompts = ["".join(chr(0x100 + rng.randrange(150)) for _ in range(4500)) for _ in range(200)]
    path = tmp_path / "many.jsonl"
    path.write_text("".join(_line(p, "x") + "\n" for p in prompts), encoding="utf-8")
    replayer = Replayer(path)
    near = prompts[137][:4000] + " a changed ending"
    request = {"model": "m", "messages": [{"role": "user", "content": near}]}
    started = time.perf_counter()
    with pytest.raises(ReplayMissing) as missed:
        replayer.find(request, conversation="c")
    assert time.perf_counter() - started < 1.0
    assert repr(prompts[137][:100])[:-1] in str(missed.value)
