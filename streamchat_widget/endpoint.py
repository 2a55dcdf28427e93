"""Which server answers, and with which client.

The `openai` client's own environment variables decide: `OPENAI_API_KEY` and
`OPENAI_BASE_URL` reach OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter.
With neither set, the offline demo model answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai

from .demo import DEMO_BASE_URL, DEMO_MODEL, DemoTransport
from .stream import host_of, url_secrets

# Local servers accept any key, but the client refuses to start without one.
PLACEHOLDER_KEY = "sk-no-key-needed"
# Seconds: the client's own default waits 10 minutes for each chunk.
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0
MAX_RETRIES = 2  # the client's own default, stated so the retry notices can count


class EndpointError(Exception):
    """No usable endpoint for this request; the message says what to set."""

    def __init__(self, message: str, title: str = "No endpoint configured") -> None:
        super().__init__(message)
        self.title = title


@dataclass(frozen=True)
class Endpoint:
    client: openai.AsyncOpenAI
    demo: bool
    # Seconds the user waits at most for the response to start, the client's retries included.
    first_byte_timeout: float | None = None

    @property
    def host(self) -> str:
        """Host and port only: never the key, never credentials in the URL."""
        return "offline demo" if self.demo else host_of(str(self.client.base_url))


def configured() -> bool:
    return bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))


def default_model() -> str:
    """`STREAMCHAT_MODEL`, else the demo model offline, else a small OpenAI model."""
    return os.environ.get("STREAMCHAT_MODEL") or ("gpt-4o-mini" if configured() else DEMO_MODEL)


def open_endpoint(
    model: str,
    *,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    on_retry: Callable[[int], None] | None = None,
) -> Endpoint:
    """A fresh client for one answer; the caller closes it.

    `on_retry(n)` is called as soon as the client is going to make its n-th
    retry (after a 429, a 5xx or a failed connection), so the widget can say
    it is retrying while the client waits to.
    """
    if model == DEMO_MODEL:
        return Endpoint(
            openai.AsyncOpenAI(
                api_key="demo",
                base_url=DEMO_BASE_URL,
                max_retries=0,
                http_client=httpx2.AsyncClient(transport=DemoTransport()),
            ),
            demo=True,
        )
    if not configured():
        raise EndpointError(
            f"No endpoint configured for model {model!r}: set OPENAI_API_KEY (OpenAI) or "
            "OPENAI_BASE_URL (a local server) before starting the kernel, "
            "or use --model demo for the offline demo."
        )
    key = os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_KEY
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    if base_url is not None:
        check_base_url(base_url)
    timeout = openai.Timeout(read_timeout, connect=connect_timeout)
    try:
        http_client = openai.DefaultAsyncHttpxClient(
            timeout=timeout, event_hooks=_retry_hooks(on_retry) if on_retry else {}
        )
        client = openai.AsyncOpenAI(
            api_key=key,
            base_url=base_url,
            timeout=timeout,
            max_retries=MAX_RETRIES,
            http_client=http_client,
        )
    except Exception as exc:
        # `from None`, and no message of the client's: frames and texts here hold the key.
        raise _invalid_url(base_url or "", type(exc).__name__) from None
    return Endpoint(client, demo=False, first_byte_timeout=read_timeout)


def _retry_hooks(on_retry: Callable[[int], None]) -> dict[str, list[Any]]:
    """Announce a retry when a response the client will retry arrives, before its
    backoff wait, and when a retry starts (a failed connection has no response)."""

    async def on_request(request: httpx2.Request) -> None:
        retry = _retry_count(request)
        if retry:
            on_retry(retry)

    async def on_response(response: httpx2.Response) -> None:
        if _will_retry(response):
            on_retry(_retry_count(response.request) + 1)

    return {"request": [on_request], "response": [on_response]}


def _retry_count(request: httpx2.Request) -> int:
    value = request.headers.get("x-stainless-retry-count", "0")
    return int(value) if value.isdigit() else 0


def _will_retry(response: httpx2.Response) -> bool:
    """The client's own rule: 408, 409, 429 and 5xx, unless `x-should-retry` says."""
    if _retry_count(response.request) >= MAX_RETRIES:
        return False
    said = response.headers.get("x-should-retry")
    if said in ("true", "false"):
        return said == "true"
    return response.status_code in (408, 409, 429) or response.status_code >= 500


def check_base_url(url: str) -> None:
    """Refuse a base URL the client would fail on later, with a reason a user can act on."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check (abc, 99999)
    except ValueError as exc:
        raise _invalid_url(url, str(exc)) from None
    if any(c.isspace() for c in url):
        reason = "it contains a space or a line break"
    elif parts.scheme not in ("http", "https"):
        reason = "it must start with http:// or https://"
    elif not parts.hostname:
        reason = "it has no host name"
    else:
        return
    raise _invalid_url(url, reason)


def _invalid_url(url: str, reason: str) -> EndpointError:
    shown = url
    for secret in sorted(url_secrets(url), key=len, reverse=True):
        shown = shown.replace(secret, "***")
    key = os.environ.get("OPENAI_API_KEY")
    if key:
        shown, reason = shown.replace(key, "***"), reason.replace(key, "***")
    return EndpointError(
        f"OPENAI_BASE_URL is not a valid URL ({reason}): {shown[:200]!r}. "
        "Set it to the server's address, for example http://localhost:11434/v1.",
        title="Invalid OPENAI_BASE_URL",
    )
