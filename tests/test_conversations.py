"""Conversations, options, configuration and the reply value, through a real IPython shell.

Each cell runs through IPython's own `run_cell`, so the input transformer, the
async cell path and magic parsing are the real ones; the loopback server
records exactly what each request carried.
"""

from __future__ import annotations

import json

import pytest
from IPython.core.interactiveshell import InteractiveShell

from streamchat_widget.conversation import CONVERSATIONS
from tests.sse_server import Plan


@pytest.fixture
def shell(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    monkeypatch.delenv("STREAMCHAT_MODEL", raising=False)
    ip = InteractiveShell.instance()
    ip.extension_manager.load_extension("streamchat_widget")
    ip.run_line_magic("config", "ChatMagics.model = 'echo'")
    CONVERSATIONS.reset()
    yield ip
    ip.run_line_magic("config", "ChatMagics.model = ''")
    ip.extension_manager.unload_extension("streamchat_widget")
    CONVERSATIONS.reset()


def run(shell, source: str, cell_id: str | None = None):
    result = shell.run_cell(source, store_history=True, cell_id=cell_id)
    return result


def chat_bodies(server) -> list[dict]:
    return [r.body for r in server.requests if r.path.endswith("/chat/completions")]


def test_cells_continue_one_conversation_in_order(shell, server):
    for prompt in ("first question", "second question", "third question"):
        assert run(shell, f"%%chat\n{prompt}").success
    assert chat_bodies(server)[-1]["messages"] == [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first question"},
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": "second question"},
        {"role": "user", "content": "third question"},
    ]


def test_named_conversations_never_see_each_other(shell, server):
    run(shell, "%%chat -c alpha\nonly alpha")
    run(shell, "%%chat -c beta\nonly beta")
    run(shell, "%%chat -c alpha\nagain alpha")
    contents = [m["content"] for m in chat_bodies(server)[-1]["messages"]]
    assert contents == ["only alpha", "only alpha", "again alpha"]
    assert CONVERSATIONS.names() == {"alpha": 2, "beta": 1}


def test_new_starts_the_conversation_afresh(shell, server):
    run(shell, "%%chat\nold topic")
    run(shell, "%%chat --new\nfresh topic")
    assert chat_bodies(server)[-1]["messages"] == [{"role": "user", "content": "fresh topic"}]


def test_an_errored_answer_does_not_enter_history(shell, server):
    run(shell, "%%chat\nkept")
    run(shell, "%%chat -m no-such-model\nlost")
    assert shell.user_ns["_chat"].status == "error"
    run(shell, "%%chat\nnext")
    contents = [m["content"] for m in chat_bodies(server)[-1]["messages"]]
    assert contents == ["kept", "kept", "next"]


def test_rerunning_a_cell_replaces_its_exchange(shell, server):
    run(shell, "%%chat\nfirst draft", cell_id="cell-1")
    run(shell, "%%chat\nlater cell", cell_id="cell-2")
    run(shell, "%%chat\nsecond draft", cell_id="cell-1")
    assert chat_bodies(server)[-1]["messages"] == [{"role": "user", "content": "second draft"}]
    run(shell, "%%chat\nlast", cell_id="cell-3")
    contents = [m["content"] for m in chat_bodies(server)[-1]["messages"]]
    assert contents == ["second draft", "second draft", "later cell", "later cell", "last"]


def test_without_cell_ids_reruns_append(shell, server):
    run(shell, "%%chat\nsame")
    run(shell, "%%chat\nsame")
    assert CONVERSATIONS.names() == {"default": 2}


def test_max_history_caps_what_is_sent_and_keeps_the_transcript(shell, server):
    for i in range(4):
        run(shell, f"%%chat\nq{i}")
    run(shell, "%%chat --max-history 1\nq4")
    contents = [m["content"] for m in chat_bodies(server)[-1]["messages"]]
    assert contents == ["q3", "q3", "q4"]
    assert len(CONVERSATIONS.get().exchanges) == 5


def test_system_prompt_is_sent_first_and_can_change(shell, server):
    run(shell, '%%chat -s "You are terse."\nhello')
    assert chat_bodies(server)[-1]["messages"][0] == {"role": "system", "content": "You are terse."}
    run(shell, "%%chat\nagain")
    assert chat_bodies(server)[-1]["messages"][0]["content"] == "You are terse."
    run(shell, '%%chat -s "You are verbose."\nonce more')
    messages = chat_bodies(server)[-1]["messages"]
    assert messages[0] == {"role": "system", "content": "You are verbose."}
    assert [m["role"] for m in messages].count("system") == 1


def test_every_option_reaches_the_server(shell, server):
    assert run(
        shell,
        "%%chat -m echo -t 0.25 --max-tokens 64 -o top_p=0.9 -o seed=7 "
        "-o reasoning_effort=low -o 'stop=[\"END\"]' -o top_k=40\nhi",
    ).success
    body = chat_bodies(server)[-1]
    assert body["model"] == "echo"
    assert body["temperature"] == 0.25
    assert body["max_tokens"] == 64
    assert body["top_p"] == 0.9
    assert body["seed"] == 7
    assert body["reasoning_effort"] == "low"
    assert body["stop"] == ["END"]
    assert body["top_k"] == 40
    assert body["stream"] is True


def test_out_and_chat_hold_the_reply(shell, server):
    run(shell, "%%chat --out answer\nthe reply text")
    reply = shell.user_ns["answer"]
    assert reply is shell.user_ns["_chat"]
    assert str(reply) == reply.text == "the reply text"
    assert reply.status == "done"
    assert reply.model == "echo"
    assert reply.finish_reason == "stop"
    assert reply.usage == {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
    assert reply.messages == [{"role": "user", "content": "the reply text"}]
    assert reply.error is None
    assert reply.reasoning == ""


def test_body_is_sent_verbatim(shell, server):
    body = 'f"{x}" {} {{y}} $HOME $x \\\\n \\\\ ${z} `code` %s {0}\n    def f(): return {"a": 1}'
    run(shell, "%%chat\n" + body)
    assert chat_bodies(server)[-1]["messages"][-1]["content"] == body


def test_vars_fill_names_once_and_keep_double_braces(shell, server):
    shell.user_ns.update(topic="SQL", n=3)
    run(shell, "%%chat --vars\n{n} facts about {topic}, as {{json}}; not {topic!r}")
    assert chat_bodies(server)[-1]["messages"][-1]["content"] == (
        "3 facts about SQL, as {json}; not 'SQL'"
    )


def test_missing_var_is_a_usage_error_and_sends_nothing(shell, server, capsys):
    result = run(shell, "%%chat --vars\nabout {nowhere_defined}")
    assert not result.success
    assert "nowhere_defined" in str(result.error_in_exec)
    assert chat_bodies(server) == []


def test_magic_line_is_not_expanded_by_ipython(shell, server):
    shell.user_ns["secret_model"] = "should-not-appear"
    run(shell, "%%chat -o 'tag=$secret_model {secret_model}'\nhi")
    assert chat_bodies(server)[-1]["tag"] == "$secret_model {secret_model}"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("--bogus", "unrecognized arguments"),
        ("-t hot", "invalid float value"),
        ("-o top_p", "KEY=VALUE"),
        ("-o api_key=sk-123", "OPENAI_API_KEY"),
        ("-o base_url=http://x", "OPENAI_BASE_URL"),
        ("-o model=x", "set by %%chat"),
        ("--out 1x", "Python name"),
    ],
)
def test_bad_input_is_a_short_usage_error_and_sends_nothing(shell, server, line, message):
    result = run(shell, f"%%chat {line}\nhello")
    assert not result.success
    assert message in str(result.error_in_exec)
    assert "sk-123" not in str(result.error_in_exec)
    assert chat_bodies(server) == []


def test_empty_prompt_is_refused(shell, server):
    result = run(shell, "%%chat\n   \n")
    assert "needs a prompt" in str(result.error_in_exec)
    assert chat_bodies(server) == []


def test_model_precedence_cell_config_environment_default(shell, server, monkeypatch):
    for name in ("cell-model", "config-model", "env-model", "gpt-4o-mini"):
        server.add_model(name, Plan(tokens=["ok"]))
    monkeypatch.setenv("STREAMCHAT_MODEL", "env-model")
    shell.run_line_magic("config", "ChatMagics.model = 'config-model'")
    run(shell, "%%chat -m cell-model\nhi")
    run(shell, "%%chat\nhi")
    shell.run_line_magic("config", "ChatMagics.model = ''")
    run(shell, "%%chat\nhi")
    monkeypatch.delenv("STREAMCHAT_MODEL")
    run(shell, "%%chat\nhi")
    assert [b["model"] for b in chat_bodies(server)] == [
        "cell-model", "config-model", "env-model", "gpt-4o-mini",
    ]  # fmt: skip


def test_config_defaults_apply_and_cell_options_win(shell, server):
    shell.run_line_magic("config", "ChatMagics.temperature = 0.5")
    shell.run_line_magic("config", "ChatMagics.options = {'seed': 1}")
    try:
        run(shell, "%%chat\nhi")
        run(shell, "%%chat -t 0.1 -o seed=2\nhi")
    finally:
        shell.run_line_magic("config", "ChatMagics.temperature = None")
        shell.run_line_magic("config", "ChatMagics.options = {}")
    first, second = chat_bodies(server)[-2:]
    assert (first["temperature"], first["seed"]) == (0.5, 1)
    assert (second["temperature"], second["seed"]) == (0.1, 2)


def test_history_list_reset_commands(shell, server, capsys):
    run(shell, "%%chat -c notes\nremember this")
    capsys.readouterr()
    shell.run_line_magic("chat", "history -c notes")
    assert "[1] user: remember this" in capsys.readouterr().out
    shell.run_line_magic("chat", "list")
    assert "notes: 1 exchange(s)" in capsys.readouterr().out
    shell.run_line_magic("chat", "reset -c notes")
    assert "notes" not in CONVERSATIONS.names()
    run(shell, "%%chat -c a\nx")
    shell.run_line_magic("chat", "reset --all")
    assert CONVERSATIONS.names() == {}


def test_save_and_load_round_trip_in_messages_format(shell, server, tmp_path):
    run(shell, '%%chat -s "Be brief."\nfirst')
    run(shell, "%%chat\nsecond")
    path = tmp_path / "conversation.json"
    shell.run_line_magic("chat", f"save {path}")
    saved = json.loads(path.read_text())
    assert saved == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "first"},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "second"},
    ]
    shell.run_line_magic("chat", f"load {path} -c restored")
    run(shell, "%%chat -c restored\nthird")
    assert chat_bodies(server)[-1]["messages"] == [*saved, {"role": "user", "content": "third"}]


def test_models_lists_what_the_endpoint_offers(shell, server, capsys):
    shell.run_line_magic("chat", "models")
    out = capsys.readouterr().out
    assert "echo" in out and "slow" in out


def test_help_names_every_option(shell):
    doc = shell.find_cell_magic("chat").__doc__
    for option in ("--model", "--conversation", "--new", "--system", "--temperature",
                   "--max-tokens", "--max-history", "--option", "--out", "--vars"):  # fmt: skip
        assert option in doc


def test_python_api_chat_streams_into_a_widget_and_shares_conversations(shell, server):
    import asyncio

    import streamchat_widget

    async def script() -> list:
        first = await streamchat_widget.chat("api one", model="echo", conversation="api")
        second = await streamchat_widget.chat("api two", model="echo", conversation="api")
        return [first, second]

    first, second = asyncio.run(script())
    assert (first.text, second.text, second.status) == ("api one", "api two", "done")
    assert [m["content"] for m in chat_bodies(server)[-1]["messages"]] == [
        "api one", "api one", "api two",
    ]  # fmt: skip


def test_python_api_stream_text_yields_deltas_and_raises_readable_errors(shell, server):
    import asyncio

    import streamchat_widget

    async def collect(model: str) -> list[str]:
        return [piece async for piece in streamchat_widget.stream_text("a b c", model=model)]

    assert asyncio.run(collect("echo")) == ["a ", "b ", "c"]
    with pytest.raises(streamchat_widget.ChatError, match="Model or endpoint not found"):
        asyncio.run(collect("no-such-model"))


def test_history_of_an_unknown_conversation_does_not_create_it(shell, capsys):
    shell.run_line_magic("chat", "history -c nobody")
    assert "no conversation 'nobody'" in capsys.readouterr().out
    assert CONVERSATIONS.names() == {}


def test_a_system_prompt_applies_from_its_cell_on_by_position(shell, server, capsys):
    run(shell, "%%chat\nfirst", cell_id="a")
    run(shell, '%%chat -s "Be terse."\nsecond', cell_id="b")
    run(shell, "%%chat\nthird", cell_id="c")
    assert chat_bodies(server)[-1]["messages"][0] == {"role": "system", "content": "Be terse."}

    run(shell, "%%chat\nfirst again", cell_id="a")  # above the -s cell
    assert chat_bodies(server)[-1]["messages"] == [{"role": "user", "content": "first again"}]
    run(shell, "%%chat\nthird again", cell_id="c")
    contents = [m["content"] for m in chat_bodies(server)[-1]["messages"]]
    assert contents == ["Be terse.", *["first again"] * 2, *["second"] * 2, "third again"]

    run(shell, '%%chat -s "Be kind."\nsecond again', cell_id="b")
    assert shell.user_ns["_chat"].notice == "System prompt changed from here on."
    run(shell, "%%chat\nfirst once more", cell_id="a")
    assert chat_bodies(server)[-1]["messages"] == [{"role": "user", "content": "first once more"}]
    run(shell, "%%chat\nfourth", cell_id="d")
    assert chat_bodies(server)[-1]["messages"][0] == {"role": "system", "content": "Be kind."}

    capsys.readouterr()
    shell.run_line_magic("chat", "history")
    history = capsys.readouterr().out
    assert history.index("[1] assistant") < history.index("[system] Be kind.")
    assert history.index("[system] Be kind.") < history.index("[2] user: second again")


def test_save_and_load_keep_each_system_prompt_at_its_position(shell, server, tmp_path):
    run(shell, "%%chat\nbefore")
    run(shell, '%%chat -s "From here."\nafter')
    path = tmp_path / "positions.json"
    shell.run_line_magic("chat", f"save {path}")
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert [m["role"] for m in saved] == ["user", "assistant", "system", "user", "assistant"]
    shell.run_line_magic("chat", f"load {path} -c restored")
    assert CONVERSATIONS.get("restored").to_messages() == saved
    run(shell, "%%chat -c restored\nnext")
    contents = [m["content"] for m in chat_bodies(server)[-1]["messages"]]
    assert contents == ["From here.", "before", "before", "after", "after", "next"]
