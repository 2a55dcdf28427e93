"""`%chat save/load/record/replay` and the files they touch: nothing lost, errors in one line.

Through IPython's real shell (and a real kernel where the locale or the answer
path matters), against the loopback server.
"""

from __future__ import annotations

import json

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from streamchat_widget.conversation import CONVERSATIONS, Exchange
from tests.kernel import Kernel


@pytest.fixture
def shell(server, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    ip = InteractiveShell.instance()
    ip.extension_manager.load_extension("streamchat_widget")
    CONVERSATIONS.reset()
    yield ip
    ip.run_line_magic("chat", "record --stop")
    ip.run_line_magic("chat", "replay --stop")
    ip.extension_manager.unload_extension("streamchat_widget")
    CONVERSATIONS.reset()


def usage_error(shell, line: str) -> str:
    """The one-line message `%chat <line>` fails with."""
    with pytest.raises(UsageError) as raised:
        shell.run_line_magic("chat", line)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_save_load_record_replay_expand_the_home_directory(shell, tmp_path):
    home = tmp_path / "home"
    assert shell.run_cell("%%chat -m echo -c notes\nkept at home").success
    shell.run_line_magic("chat", "save ~/notes.json -c notes")
    assert json.loads((home / "notes.json").read_text(encoding="utf-8"))[0]["content"] == (
        "kept at home"
    )
    shell.run_line_magic("chat", "load ~/notes.json -c back")
    assert CONVERSATIONS.names()["back"] == 1

    shell.run_line_magic("chat", "record ~/recordings/session.jsonl")
    shell.run_cell("%%chat -m echo -c rec\nrecorded")
    shell.run_line_magic("chat", "record --stop")
    assert len((home / "recordings" / "session.jsonl").read_text().splitlines()) == 1
    shell.run_line_magic("chat", "replay ~/recordings/session.jsonl --speed 0")
    assert list((tmp_path / "cwd").iterdir()) == []  # no directory literally named "~"


def test_a_failed_save_leaves_the_existing_file_whole(shell, tmp_path):
    target = tmp_path / "conversation.json"
    target.write_text('[{"role": "user", "content": "precious"}]\n', encoding="utf-8")
    before = target.read_bytes()
    CONVERSATIONS.get("broken").record(Exchange("half a pair \ud83d", "answer"))
    message = usage_error(shell, f"save {target} -c broken")
    assert "cannot write" in message
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["conversation.json"]


def test_save_of_an_unknown_conversation_creates_nothing(shell, tmp_path):
    target = tmp_path / "typo.json"
    assert "no conversation 'typo'" in usage_error(shell, f"save {target} -c typo")
    assert not target.exists()
    assert "typo" not in CONVERSATIONS.names()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "No such file"),
        ("directory", "Is a directory"),
        (b"\xff\xfe not utf-8", "not UTF-8"),
        ("{not json", "not JSON"),
        ("[1, 2]", "message 1 is int"),
        ('{"messages": 3}', "expected a JSON list"),
        ('[{"role": "user", "content": 5}]', "content must be text"),
        ('[{"role": "tool", "content": "x"}]', "unknown role"),
        ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ],
    ids=["missing", "directory", "latin", "not-json", "ints", "shape", "content", "role", "deep"],
)
def test_a_bad_file_to_load_is_a_one_line_error(shell, tmp_path, content, expected):
    path = tmp_path / "bad.json"
    if content == "directory":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    assert expected in usage_error(shell, f"load {path} -c loaded")
    assert "loaded" not in CONVERSATIONS.names()


@pytest.mark.parametrize("where", ["missing-dir", "directory", "file-as-dir"])
def test_a_bad_place_to_save_is_a_one_line_error(shell, tmp_path, where):
    shell.run_cell("%%chat -m echo\nsomething")
    (tmp_path / "a-file").write_text("x")
    path = {
        "missing-dir": tmp_path / "no" / "such" / "dir" / "x.json",
        "directory": tmp_path,
        "file-as-dir": tmp_path / "a-file" / "x.json",
    }[where]
    assert "cannot write" in usage_error(shell, f"save {path}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "cwd", "home"]


@pytest.mark.parametrize("where", ["directory", "file-as-dir"])
def test_record_refuses_a_bad_path_up_front(shell, tmp_path, where):
    (tmp_path / "a-file").write_text("x")
    path = tmp_path if where == "directory" else tmp_path / "a-file" / "rec.jsonl"
    assert "cannot record" in usage_error(shell, f"record {path}")
    assert shell.run_cell("%%chat -m echo\nstill answered").success
    assert shell.user_ns["_chat"].status == "done"


def test_save_and_load_are_utf8_under_an_ascii_locale(tmp_path):
    text = "héllo 😀 中文 \u2028 end"
    source = tmp_path / "source.json"
    messages = [{"role": "user", "content": text}, {"role": "assistant", "content": text}]
    source.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
    saved = tmp_path / "saved.json"
    ascii_locale = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    with Kernel(ascii_locale) as k:
        k.run("%load_ext streamchat_widget")
        assert k.run("import locale; print(locale.getpreferredencoding())").stdout != "UTF-8\n"
        loaded = k.run(f"%chat load {source} -c intl")
        assert "Loaded 1 exchange" in loaded.stdout, loaded.outputs
        k.run(f"%chat save {saved} -c intl")
    assert json.loads(saved.read_bytes().decode("utf-8")) == messages
