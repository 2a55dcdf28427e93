"""From what a cell says to the Chat Completions request it sends.

The cell body is sent verbatim unless `--vars` asks for `{name}` filling;
`-o KEY=VALUE` options (and `ChatMagics.options`) travel in the request body as
given (via `extra_body`, so provider-specific keys work too), except the ones
that would carry a credential, redirect the request or break the stream.
"""

from __future__ import annotations

import itertools
import json
import math
import string
from collections import Counter
from collections.abc import Mapping
from typing import Any

# Settings of the endpoint and its transport: the environment's business, never a cell's.
ENDPOINT_KEYS = frozenset(
    {"base_url", "organization", "project", "extra_headers", "headers", "default_headers",
     "extra_query"}
)  # fmt: skip
# Any one of these words makes a key credential-like.
CREDENTIAL_WORDS = frozenset(
    {"apikey", "secret", "secrets", "password", "passwords", "passwd", "passphrase", "auth",
     "oauth", "authorization", "authentication", "credential", "credentials", "bearer",
     "cookie", "cookies"}
)  # fmt: skip
# These only as the last word (`x-api-key`, `access_token`), so `max_tokens` stays allowed.
CREDENTIAL_LAST_WORDS = frozenset({"key", "keys", "token"})
# Request parameters of real providers that the word rule would otherwise refuse.
NOT_CREDENTIALS = frozenset({"prompt_cache_key"})
# Maps whose keys name fields of a JSON Schema (tools, response_format), not settings.
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
# Set by %%chat itself.
RESERVED_KEYS = frozenset({"model", "messages", "stream", "stream_options", "n"})
MAX_DEPTH = 32
# Prefixes of API keys and tokens as providers issue them (OpenAI, Anthropic, GitHub,
# Slack, AWS, Google, Hugging Face, Groq, Replicate, JWTs) and of HTTP credentials.
SECRET_PREFIXES = (
    "sk-", "sk_", "rk_", "pk_", "ghp_", "gho_", "ghs_", "github_pat_", "glpat-", "xoxb-",
    "xoxp-", "AKIA", "AIza", "hf_", "gsk_", "r8_", "eyJ", "Bearer ", "Basic ",
)  # fmt: skip
REDACTED = "[redacted]"


class RequestError(ValueError):
    """Bad cell input; the message says what to change. No request is sent."""


def key_words(key: str) -> list[str]:
    """`X-Api-Key`, `OPENAI_API_KEY`, `apiKey2` -> lower-case words: separators, case, digits."""
    words: list[str] = []
    current = ""
    for i, char in enumerate(key):
        if not char.isalnum():
            words.append(current)
            current = ""
            continue
        previous = key[i - 1] if i else ""
        following = key[i + 1] if i + 1 < len(key) else ""
        starts_word = current and (
            (char.isupper() and (previous.islower() or following.islower()))
            or char.isdigit() != previous.isdigit()
        )
        if starts_word:
            words.append(current)
            current = ""
        current += char
    words.append(current)
    return [w.lower() for w in words if w]


def looks_like_credential(key: str) -> bool:
    """Whether an option name would carry a credential or redirect the endpoint.

    Judged by the name's words (split on `-`, `_`, other punctuation, case
    changes and digits, any case): any of `CREDENTIAL_WORDS` (secret, password,
    auth, credential, apikey, ...), or a last word `key`/`keys`/`token`
    (`x-api-key`, `access_token`; `max_tokens` and `allowed_token_ids` are not
    credentials), or the pairs api+key, access+token, private+key anywhere.
    Endpoint settings (`ENDPOINT_KEYS`) are refused by name in any case and
    with `-` or `_`; `NOT_CREDENTIALS` lists real request parameters that only
    look like one.
    """
    words = key_words(key)
    joined = "_".join(words)
    if joined in NOT_CREDENTIALS:
        return False
    if joined in ENDPOINT_KEYS or not words:
        return bool(words)
    named = [w for w in words if not w.isdigit()]
    pairs = set(itertools.pairwise(named))
    return (
        any(w in CREDENTIAL_WORDS for w in words)
        or (bool(named) and named[-1] in CREDENTIAL_LAST_WORDS)
        or bool(pairs & {("api", "key"), ("access", "token"), ("private", "key")})
    )


def check_options(options: Mapping[Any, Any], origin: str = "-o") -> None:
    """Refuse options that carry a credential (at any depth) or that %%chat sets itself.

    `origin` names where they came from in the message (`-o`, `ChatMagics.options`).
    The message names the key, never its value.
    """
    for key, value in options.items():
        if not isinstance(key, str) or not key.strip():
            raise RequestError(f"{origin}: option names must be non-empty text, got {key!r}")
        if looks_like_credential(key):
            raise RequestError(_refused(origin, key, ""))
        if key in RESERVED_KEYS:
            raise RequestError(
                f"{origin} {key}=... is set by %%chat itself; use its own option instead"
            )
        nested = _credential_inside(value, 1)
        if nested:
            raise RequestError(_refused(origin, key, nested))


def _refused(origin: str, key: str, inside: str) -> str:
    where = f" (it holds {inside!r})" if inside else ""
    return (
        f"{origin} {key}=...{where} is refused: it looks like a credential or an endpoint "
        "setting, and those never go in a notebook. Set OPENAI_API_KEY / OPENAI_BASE_URL in "
        "the environment before starting Jupyter."
    )


def _credential_inside(value: Any, depth: int) -> str:
    """The dotted path of a credential-like key nested in `value`, or ''."""
    if depth > MAX_DEPTH and isinstance(value, (Mapping, list)):
        raise RequestError(f"option values may nest at most {MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return next(filter(None, (_credential_inside(v, depth + 1) for v in value)), "")
    if not isinstance(value, Mapping):
        return ""
    for key, item in value.items():
        if looks_like_credential(str(key)):
            return str(key)
        if key in SCHEMA_MAPS and isinstance(item, Mapping):
            # Field names of a schema (`"password": {"type": "string"}`): look only inside.
            found = _credential_inside(list(item.values()), depth + 1)
        else:
            found = _credential_inside(item, depth + 1)
        if found:
            return f"{key}.{found}"
    return ""


def parse_option(text: str) -> tuple[str, Any]:
    """`KEY=VALUE`, VALUE read as JSON when it parses (numbers, true, lists), else a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise RequestError(f"-o needs KEY=VALUE, got {text!r} (for example -o top_p=0.9)")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    except RecursionError:
        raise RequestError(f"-o {key}=...: the value nests too deeply") from None
    check_options({key: value})
    return key, value


def looks_secret(value: str) -> bool:
    """Whether a string value looks like an API key or token, so it is never written down.

    A known key prefix (`sk-`, `ghp_`, `AKIA`, `Bearer `, JWTs, ...), or a long
    high-entropy run of token characters (hex or base64 keys), not a UUID, a
    date or a model name.
    """
    text = value.strip()
    if len(text) >= 8 and (
        text.startswith(SECRET_PREFIXES) or text.lower().startswith(("bearer ", "basic "))
    ):
        return True
    if len(text) < 24 or any(c.isspace() for c in text):
        return False
    if not all(c.isalnum() or c in "-_+/=.~" for c in text):
        return False
    longest = max(len(run) for run in "".join(c if c.isalnum() else " " for c in text).split())
    return longest >= 16 and _entropy(text) >= 3.5


def _entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def redacted(value: Any) -> Any:
    """`value` with every secret-looking string (at any depth) replaced by `REDACTED`."""
    if isinstance(value, str):
        return REDACTED if looks_secret(value) else value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if looks_like_credential(str(k)) else redacted(v) for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redacted(v) for v in value]
    return value


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
    options: Mapping[str, Any] | None = None,
    **parameters: Any,
) -> dict[str, Any]:
    """The `create()` arguments; options that `check_options` refuses raise `RequestError`.

    `parameters` are the request parameters with options of their own
    (`options.REQUEST_PARAMETERS`: temperature, max_tokens); None leaves one out.
    """
    request: dict[str, Any] = {"model": model, "messages": messages}
    request.update({k: v for k, v in parameters.items() if v is not None})
    if options:
        check_options(options, "options")
        request["extra_body"] = dict(options)
    return request


def sent_options(request: Mapping[str, Any]) -> dict[str, Any]:
    """The options of a request as sent, secret-looking values redacted.

    This is what provenance metadata and recordings keep: they get saved and
    shared, so no value that looks like a key is ever written to them.
    """
    sent = {k: v for k, v in request.items() if k not in ("model", "messages", "extra_body")}
    options: dict[str, Any] = redacted({**sent, **request.get("extra_body", {})})
    return options
