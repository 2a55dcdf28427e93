"""Which server answers, and with which client.

The `openai` client's own environment variables decide: `OPENAI_API_KEY` and
`OPENAI_BASE_URL` reach OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter.
With neither set, the offline demo model answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
import openai

from .demo import DEMO_BASE_URL, DEMO_MODEL, DemoTransport

# Local servers accept any key, but the client refuses to start without one.
PLACEHOLDER_KEY = "sk-no-key-needed"
# Seconds: the client's own default waits 10 minutes for each chunk.
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0


class EndpointError(Exception):
    """No usable endpoint for this request; the message says what to set."""


@dataclass(frozen=True)
class Endpoint:
    client: openai.AsyncOpenAI
    demo: bool

    @property
    def host(self) -> str:
        """Host and port only: never the key, never credentials in the URL."""
        if self.demo:
            return "offline demo"
        parts = urlsplit(str(self.client.base_url))
        return (parts.hostname or "") + (f":{parts.port}" if parts.port else "")


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

    `on_retry(n)` is called as the client starts its n-th retry (after a 429,
    a 5xx or a failed connection), so the widget can say it is retrying.
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
    timeout = openai.Timeout(read_timeout, connect=connect_timeout)

    async def announce_retry(request: httpx2.Request) -> None:
        retry = int(request.headers.get("x-stainless-retry-count", "0"))
        if retry and on_retry is not None:
            on_retry(retry)

    http_client = openai.DefaultAsyncHttpxClient(
        timeout=timeout, event_hooks={"request": [announce_retry]}
    )
    return Endpoint(
        openai.AsyncOpenAI(api_key=key, timeout=timeout, http_client=http_client), demo=False
    )
