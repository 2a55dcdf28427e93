"""Which server answers, and with which client.

The `openai` client's own environment variables decide: `OPENAI_API_KEY` and
`OPENAI_BASE_URL` reach OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter.
With neither set, the offline demo model answers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2
import openai

from .demo import DEMO_BASE_URL, DEMO_MODEL, DemoTransport

# Local servers accept any key, but the client refuses to start without one.
PLACEHOLDER_KEY = "sk-no-key-needed"
# Connect and read timeouts (seconds): the client's own default waits 10 minutes per chunk.
DEFAULT_TIMEOUT = openai.Timeout(120.0, connect=10.0)


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


def open_endpoint(model: str, timeout: openai.Timeout = DEFAULT_TIMEOUT) -> Endpoint:
    """A fresh client for one answer; the caller closes it."""
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
    return Endpoint(openai.AsyncOpenAI(api_key=key, timeout=timeout), demo=False)
