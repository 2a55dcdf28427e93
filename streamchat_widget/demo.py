"""The offline `demo` model: an OpenAI-compatible SSE endpoint inside the process.

It is an `httpx2` transport handed to the real `AsyncOpenAI` client, so a demo
answer goes through the same request, SSE decoding, chunk parsing, batching
and Stop path as a real one, with no network and no key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator

import httpx2

DEMO_MODEL = "demo"
DEMO_BASE_URL = "http://demo.streamchat.invalid/v1"
# Seconds between tokens: about 60 tokens a second, the pace of a fast hosted model.
DEFAULT_DELAY = 0.016

_TITLES = ["Professor", "Captain", "Doctor", "Sir", "Lady", "Madame", "Count", "Agent"]
_SUFFIXES = ["the Wise", "of the Join", "the Indexed", "Prime", "the Patient", "Deluxe"]
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "and",
        "or",
        "that",
        "this",
        "with",
        "is",
        "are",
        "be",
        "as",
        "by",
        "at",
        "it",
        "its",
        "from",
        "what",
        "how",
        "why",
        "who",
        "which",
        "me",
        "my",
        "you",
        "your",
        "i",
        "we",
        "our",
        "us",
        "please",
        "give",
        "generate",
        "make",
        "list",
        "write",
        "some",
        "great",
        "names",
    ]
)


def delay_per_token() -> float:
    """`STREAMCHAT_DEMO_DELAY` overrides the pace (tests and CI set it low)."""
    try:
        return max(0.0, float(os.environ.get("STREAMCHAT_DEMO_DELAY", DEFAULT_DELAY)))
    except ValueError:
        return DEFAULT_DELAY


def demo_answer(
    prompt: str,
    *,
    turn: int = 1,
    system: str | None = None,
    attached: list[str] | None = None,
    images: list[int] | None = None,
    attached_before: int = 0,
) -> str:
    """A deterministic Markdown answer that visibly responds to `prompt`.

    `turn` (the number of user messages sent) and `system` show that history and
    system prompts reach the model; `attached` (the first line of each attached
    value's part) and `images` (the bytes of each image part) show what was attached,
    `attached_before` that earlier messages still carry their attached values.
    """
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", prompt)
    topics = [w for w in words if w.lower() not in _STOPWORDS] or ["notebooks"]
    rng = random.Random(hashlib.sha256(prompt.encode()).digest())
    count_match = re.search(r"\b(\d{1,2})\b", prompt)
    count = min(int(count_match.group(1)), 30) if count_match else 5
    first_line = prompt.strip().splitlines()[0] if prompt.strip() else "(empty prompt)"

    ideas = []
    for i in range(max(count, 1)):
        topic = topics[i % len(topics)]
        topic = topic[0].upper() + topic[1:]
        ideas.append(f"{i + 1}. **{rng.choice(_TITLES)} {topic}** {rng.choice(_SUFFIXES)}")
    longest = sorted(set(topics), key=lambda w: (-len(w), w))[:4]
    table = "\n".join(f"| {w} | {len(w)} |" for w in longest)
    context = []
    if turn > 1:
        context.append(f"this is turn {turn} of our conversation")
    if system:
        context.append(f"my system prompt says “{system[:80]}”")
    if attached_before:
        context.append(f"earlier messages still carry {attached_before} attached value(s)")
    remark = f"*Context: {'; '.join(context)}.*\n\n" if context else ""
    return (
        "*This is the offline demo model: the answer is made on this machine, "
        "no model was asked.*\n\n"
        + remark
        + f"## You asked\n\n> {first_line[:200]}\n\n"
        + _given(attached or [], images or [])
        + f"## {count} ideas\n\n"
        + "\n".join(ideas)
        + "\n\n"
        "## Your prompt, measured\n\n"
        "| word | letters |\n|---|---|\n" + table + "\n\n"
        "```python\n"
        f"prompt = {first_line[:60]!r}\n"
        "print(len(prompt.split()), 'words')\n"
        "```\n\n"
        "To ask a real model, set `OPENAI_API_KEY` (OpenAI) or `OPENAI_BASE_URL` "
        "(Ollama, vLLM, llama.cpp, LM Studio) before starting Jupyter, then run "
        "`%%chat --model NAME`.\n"
    )


def _read_parts(parts: list) -> tuple[str, list[str], list[int]]:
    """The prompt (the last text part), each earlier text part's first line, image sizes."""
    texts = [p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text"]
    images = []
    for part in parts:
        if isinstance(part, dict) and part.get("type") == "image_url":
            url = str((part.get("image_url") or {}).get("url", ""))
            images.append(len(url.partition(",")[2]) * 3 // 4)  # base64 -> bytes
    prompt = texts[-1] if texts else ""
    labels = [str(t).split("\n", 1)[0].removesuffix(": the image follows.") for t in texts[:-1]]
    return str(prompt), [label.rstrip(":") for label in labels], images


def _given(attached: list[str], images: list[int]) -> str:
    """What the demo was given, so the offline quickstart shows attaching at work."""
    if not attached:
        return ""
    lines = "\n".join(f"- {line}" for line in attached)
    seen = (
        f"\n\nI received {len(images)} image(s), {sum(images):,} bytes in all, "
        "though a demo cannot look at them."
        if images
        else ""
    )
    return f"## What you attached\n\n{lines}{seen}\n\n"


def tokens(text: str) -> list[str]:
    """Split into word-sized pieces that keep all whitespace."""
    return re.findall(r"\s*\S+|\s+", text)


class DemoTransport(httpx2.AsyncBaseTransport):
    """Answers `POST /chat/completions` with a paced SSE stream of `demo_answer`."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not request.url.path.endswith("/chat/completions"):
            if request.url.path.endswith("/models"):
                body = {"object": "list", "data": [{"id": DEMO_MODEL, "object": "model"}]}
                return httpx2.Response(200, json=body)
            return httpx2.Response(404, json={"error": {"message": "Not found"}})
        payload = json.loads(await request.aread())
        messages = payload.get("messages") or []
        prompt = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
        attached: list[str] = []
        images: list[int] = []
        if isinstance(prompt, list):
            prompt, attached, images = _read_parts(prompt)
        elif not isinstance(prompt, str):
            prompt = json.dumps(prompt)
        include_usage = bool((payload.get("stream_options") or {}).get("include_usage"))
        turn = sum(1 for m in messages if m.get("role") == "user")
        earlier = [m.get("content") for m in messages[:-1] if m.get("role") == "user"]
        before = sum(len(_read_parts(c)[1]) for c in earlier if isinstance(c, list))
        system = next((m.get("content") for m in messages if m.get("role") == "system"), None)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        return httpx2.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=_SSEStream(
                _sse(
                    demo_answer(
                        prompt,
                        turn=turn,
                        system=system,
                        attached=attached,
                        images=images,
                        attached_before=before,
                    ),
                    prompt_tokens,
                    include_usage,
                )
            ),
        )


class _SSEStream(httpx2.AsyncByteStream):
    def __init__(self, chunks: AsyncGenerator[bytes, None]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        await self._chunks.aclose()


async def _sse(answer: str, prompt_tokens: int, include_usage: bool) -> AsyncGenerator[bytes, None]:
    created = int(time.time())
    delay = delay_per_token()

    def event(choices: list, **extra: object) -> bytes:
        chunk = {
            "id": "chatcmpl-demo",
            "object": "chat.completion.chunk",
            "created": created,
            "model": DEMO_MODEL,
            "choices": choices,
            **extra,
        }
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    pieces = tokens(answer)
    yield event([{"index": 0, "delta": {"role": "assistant", "content": ""}}])
    for piece in pieces:
        await asyncio.sleep(delay)
        yield event([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
    yield event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    if include_usage:
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": prompt_tokens + len(pieces),
        }
        yield event([], usage=usage)
    yield b"data: [DONE]\n\n"
