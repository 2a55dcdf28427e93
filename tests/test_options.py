"""Request options: credentials refused by what they are, secrets never written down.

The kernel test runs a whole notebook in a real kernel against the loopback
server, with a recording on, and then reads what a user would share: the saved
notebook and the recording file. The pure rules are checked on many names too.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from streamchat_widget.request import (
    REDACTED,
    RequestError,
    looks_like_credential,
    looks_secret,
    parse_option,
    sent_options,
)

CREDENTIAL_KEYS = [
    "api_key", "api-key", "API_KEY", "apiKey", "APIKEY", "OPENAI_API_KEY", "x-api-key",
    "X-Api-Key", "access_token", "accessToken", "Authorization", "AUTHORIZATION",
    "client_secret", "password", "Password", "token", "Token", "X-Auth-Token", "refresh_token",
    "private_key", "session_key", "credentials", "bearer", "Cookie", "passwd", "key",
    "base_url", "base-url", "Extra_Headers", "extra_query", "organization",
]  # fmt: skip
ORDINARY_KEYS = [
    "top_p", "seed", "max_tokens", "max_completion_tokens", "reasoning_effort", "stop",
    "top_k", "logit_bias", "user", "metadata", "prompt_cache_key", "allowed_token_ids",
    "skip_special_tokens", "keep_alive", "response_format", "tools", "timeout",
]  # fmt: skip


@pytest.mark.parametrize("key", CREDENTIAL_KEYS)
def test_credential_like_keys_are_refused_whatever_their_spelling(key):
    assert looks_like_credential(key)
    with pytest.raises(RequestError, match="OPENAI_API_KEY") as refused:
        parse_option(f"{key}=sk-a-value-that-must-not-show")
    assert "sk-a-value" not in str(refused.value)


@pytest.mark.parametrize("key", ORDINARY_KEYS)
def test_ordinary_request_parameters_are_allowed(key):
    assert not looks_like_credential(key)
    assert parse_option(f"{key}=1") == (key, 1)


@pytest.mark.parametrize(
    "value",
    [
        '{"x-api-key": "abc"}',
        '{"headers": {"Authorization": "Bearer abc"}}',
        '[{"provider": {"auth": {"token": "abc"}}}]',
        '{"order": ["a"], "credentials": {"user": "u"}}',
    ],
)
def test_credentials_nested_in_a_json_value_are_refused(value):
    with pytest.raises(RequestError, match="is refused"):
        parse_option(f"extra={value}")


def test_schema_field_names_are_not_credentials():
    schema = {"type": "json_schema", "json_schema": {"name": "login", "schema": {
        "type": "object", "properties": {"password": {"type": "string"},
                                         "token_count": {"type": "integer"}}}}}  # fmt: skip
    assert parse_option(f"response_format={json.dumps(schema)}")[1] == schema


def test_a_deeply_nested_value_is_a_readable_refusal():
    with pytest.raises(RequestError, match="nest"):
        parse_option("extra=" + "[" * 100_000 + "]" * 100_000)
    with pytest.raises(RequestError, match="nest"):
        parse_option("extra=" + "[" * 100 + "]" * 100)


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ("sk-typed-in-config", True),
        ("sk-proj-AbCdEf0123456789", True),
        ("ghp_0123456789abcdefghij", True),
        ("Bearer abcdefgh", True),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", True),
        ("3f2a9c4b7d1e0f8a6b5c4d3e2f1a0b9c", True),
        ("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", True),
        ("low", False),
        ("gpt-4o-mini-2024-07-18", False),
        ("claude-3-5-sonnet-20241022", False),
        ("123e4567-e89b-12d3-a456-426614174000", False),
        ("Answer in a long sentence with spaces and numbers 12345", False),
        ("https://example.com/a/long/path/to/somewhere", False),
    ],
)
def test_secret_looking_values(value, secret):
    assert looks_secret(value) is secret


def test_sent_options_redact_secret_values_at_any_depth():
    request = {"model": "m", "messages": [], "temperature": 0.5, "extra_body": {
        "user": "sk-live-0123456789", "metadata": {"note": "3f2a9c4b7d1e0f8a6b5c4d3e2f1a0b9c",
                                                   "run": "nightly"}, "stop": ["END"]}}  # fmt: skip
    assert sent_options(request) == {
        "temperature": 0.5,
        "user": REDACTED,
        "metadata": {"note": REDACTED, "run": "nightly"},
        "stop": ["END"],
    }


SECRETS = {
    "config": "sk-typed-in-config-0001",
    "config-nested": "sk-nested-in-config-0002",
    "option-value": "sk-live-passed-as-a-value-0003",
    "high-entropy": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
}
REFUSED_CELLS = [
    "%%chat -m echo -o api-key=sk-refused-1111\nhello",
    "%%chat -m echo -o OPENAI_API_KEY=sk-refused-2222\nhello",
    "%%chat -m echo -o x-api-key=sk-refused-3333\nhello",
    "%%chat -m echo -o access_token=sk-refused-4444\nhello",
    "%%chat -m echo -o Authorization='Bearer sk-refused-5555'\nhello",
    "%%chat -m echo -o client_secret=sk-refused-6666\nhello",
    '%%chat -m echo -o \'extra={"headers": {"X-Api-Key": "sk-refused-7777"}}\'\nhello',
]


def test_no_credential_or_secret_reaches_request_notebook_or_recording(
    server, tmp_path, run_notebook
):
    recording = tmp_path / "session.jsonl"
    cells = [
        "%load_ext streamchat_widget",
        f"%chat record {recording}",
        f"%config ChatMagics.options = {{'api_key': '{SECRETS['config']}', 'stream': False}}",
        "%config ChatMagics.options = "
        f"{{'extra_body': {{'X-API-KEY': '{SECRETS['config-nested']}'}}, 'seed': 1}}",
        "%%chat -m echo\nhello",
        *REFUSED_CELLS,
        f"%%chat -m echo -o user={SECRETS['option-value']} "
        f'-o \'metadata={{"trace": "{SECRETS["high-entropy"]}", "run": "nightly"}}\'\nhi',
        "%chat record --stop",
    ]
    nb, path = run_notebook(cells)

    for cell in nb.cells[2:4]:
        (output,) = cell.outputs
        assert output["name"] == "stderr" and "ChatMagics.options" in output["text"]
        assert "is refused" in output["text"] and "sk-" not in output["text"]
    for cell in nb.cells[5 : 5 + len(REFUSED_CELLS)]:
        (output,) = cell.outputs
        assert output["text"].startswith("UsageError: -o ") and "is refused" in output["text"]
        assert "sk-refused" not in output["text"]

    bodies = [r.body for r in server.requests if r.path.endswith("/chat/completions")]
    assert len(bodies) == 2
    for body in bodies:
        assert body["stream"] is True
        assert not any(looks_like_credential(k) for k in body)
    assert bodies[-1]["user"] == SECRETS["option-value"]  # sent as asked, never written down

    metadata = [
        output["metadata"]["text/markdown"]["streamchat"]
        for cell in nb.cells
        for output in cell.outputs
        if "streamchat" in output.get("metadata", {}).get("text/markdown", {})
    ]
    assert [m["options"] for m in metadata] == [
        {},
        {"user": REDACTED, "metadata": {"trace": REDACTED, "run": "nightly"}},
    ]
    recorded = [json.loads(line) for line in recording.read_text().splitlines()]
    assert [r["request"]["options"] for r in recorded] == [m["options"] for m in metadata]
    saved = nbformat.read(path, as_version=4)
    outputs = json.dumps([cell.outputs for cell in saved.cells]) + json.dumps(saved.metadata)
    for name, text in {"outputs": outputs, "recording": recording.read_text()}.items():
        assert "sk-refused" not in text, name
        for secret in SECRETS.values():
            assert secret not in text, (name, secret)


def test_config_options_changed_in_place_are_still_refused(server, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    ip = InteractiveShell.instance()
    ip.extension_manager.load_extension("streamchat_widget")
    magics = ip.magics_manager.registry["ChatMagics"]
    try:
        magics.options["Access-Token"] = "sk-mutated-in-place"
        result = ip.run_cell("%%chat -m echo\nhello")
    finally:
        magics.options.clear()
        ip.extension_manager.unload_extension("streamchat_widget")
    assert "is refused" in str(result.error_in_exec)
    assert server.requests == []


def test_a_refused_key_in_the_configuration_stops_loading_with_one_line(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.extension_manager.unload_extension("streamchat_widget")
    ip.run_line_magic("config", "ChatMagics.options = {'client_secret': 'sk-in-config-file'}")
    try:
        result = ip.run_cell("%load_ext streamchat_widget")
    finally:
        ip.run_line_magic("config", "ChatMagics.options = {}")
    assert type(result.error_in_exec).__name__ == "UsageError"
    assert "client_secret" in str(result.error_in_exec)
    assert "sk-in-config-file" not in str(result.error_in_exec)
