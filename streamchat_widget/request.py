"""From what a cell says to the Chat Completions request it sends.

The cell body is sent verbatim unless `--vars` asks for `{name}` filling;
`-o KEY=VALUE` options travel in the request body as given (via `extra_body`,
so provider-specific keys work too), except the ones that would carry a
credential or break the stream.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from typing import Any

# Credentials belong in the environment, never in a cell that gets shared.
CREDENTIAL_KEYS = frozenset(
    {"api_key", "apikey", "key", "authorization", "organization", "project", "base_url",
     "extra_headers", "headers", "default_headers", "extra_query"}
)  # fmt: skip
# Set by %%chat itself.
RESERVED_KEYS = frozenset({"model", "messages", "stream", "stream_options", "n"})


class RequestError(ValueError):
    """Bad cell input; the message says what to change. No request is sent."""


def parse_option(text: str) -> tuple[str, Any]:
    """`KEY=VALUE`, VALUE read as JSON when it parses (numbers, true, lists), else a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise RequestError(f"-o needs KEY=VALUE, got {text!r} (for example -o top_p=0.9)")
    if key.lower() in CREDENTIAL_KEYS:
        raise RequestError(
            f"-o {key}=... is refused: keys and endpoints never go in a cell. "
            "Set OPENAI_API_KEY / OPENAI_BASE_URL in the environment before starting Jupyter."
        )
    if key in RESERVED_KEYS:
        raise RequestError(f"-o {key}=... is set by %%chat itself; use its own option instead")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def fill_vars(body: str, namespace: Mapping[str, Any]) -> str:
    """Fill `{name}` fields from `namespace` once; `{{` and `}}` stay literal braces."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(body) if f is not None]
    except ValueError as exc:
        raise RequestError(f"--vars: {exc} (write {{{{ and }}}} for literal braces)") from None
    names = {f.split(".")[0].split("[")[0] for f in fields}
    if "" in names:
        raise RequestError("--vars: empty {} in the prompt (write {{}} for literal braces)")
    missing = sorted(n for n in names if n not in namespace)
    if missing:
        raise RequestError(f"--vars: not defined: {', '.join(missing)}")
    try:
        return body.format_map(namespace)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise RequestError(f"--vars: {type(exc).__name__}: {exc}") from None


def build_request(
    model: str,
    messages: list[dict[str, str]],
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {"model": model, "messages": messages}
    if temperature is not None:
        request["temperature"] = temperature
    if max_tokens is not None:
        request["max_tokens"] = max_tokens
    if options:
        request["extra_body"] = dict(options)
    return request


def sent_options(request: Mapping[str, Any]) -> dict[str, Any]:
    """The options of a request as they went over the wire (for provenance)."""
    sent = {k: v for k, v in request.items() if k not in ("model", "messages", "extra_body")}
    return {**sent, **request.get("extra_body", {})}
