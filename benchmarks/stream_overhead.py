"""Cost of `%%chat` over a plain openai loop, in one real kernel, in one run.

A 20 000-token answer is streamed from the loopback test server as fast as it
can send, alternately through a plain `AsyncOpenAI` loop in a cell (the
baseline) and through `%%chat`. Prints wall times and their ratio, and the
iopub messages and bytes the `%%chat` run cost against the answer's size.

    .venv/bin/python -m benchmarks.stream_overhead [--tokens 20000] [--rounds 5]

Targets: wall ratio <= 1.2; iopub bytes <= 5x answer bytes; <= 40 iopub
messages per second of streaming.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from tests.kernel import Kernel
from tests.sse_server import Plan, SSEServer

PLAIN_LOOP = """
import openai, time
async def _plain():
    client = openai.AsyncOpenAI()
    stream = await client.chat.completions.create(
        model="bench", messages=[{"role": "user", "content": "go"}], stream=True,
        stream_options={"include_usage": True})
    parts = []
    async for chunk in stream:
        for choice in chunk.choices or []:
            if choice.delta and choice.delta.content:
                parts.append(choice.delta.content)
    await client.close()
    return "".join(parts)
"""


def timed(kernel: Kernel, code: str) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    execution = kernel.run(code, timeout=600)
    elapsed = time.perf_counter() - started
    assert execution.status == "ok", execution.outputs
    return elapsed, execution.iopub


def wire_bytes(msg: dict) -> int:
    parts = (msg["header"], msg["parent_header"], msg["metadata"], msg["content"])
    return sum(len(json.dumps(p, default=str).encode()) for p in parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    tokens = [f"word{i % 1000} " if i % 12 else "\n\n" for i in range(args.tokens)]
    answer_bytes = len("".join(tokens).encode())
    with SSEServer() as server:
        server.add_model("bench", Plan(tokens=tokens))
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": server.api_key}
        with Kernel(env) as kernel:
            kernel.run("%load_ext streamchat_widget\n" + PLAIN_LOOP)
            plain, chat, messages, sizes = [], [], [], []
            for _ in range(args.rounds):
                elapsed, _ = timed(kernel, "_text = await _plain()")
                plain.append(elapsed)
                elapsed, iopub = timed(kernel, "%%chat -m bench\ngo")
                chat.append(elapsed)
                messages.append(len(iopub))
                sizes.append(sum(wire_bytes(m) for m in iopub))
            check = kernel.run("print(_chat.text == _text, _chat.status)").stdout.strip()

    plain_s, chat_s = statistics.median(plain), statistics.median(chat)
    msgs, size = statistics.median(messages), statistics.median(sizes)
    print(f"answer: {args.tokens} tokens, {answer_bytes} bytes; same text both ways: {check}")
    print(f"plain openai loop : {plain_s:.3f} s (median of {args.rounds}: {plain})")
    print(f"%%chat            : {chat_s:.3f} s (median of {args.rounds}: {chat})")
    print(f"wall ratio        : {chat_s / plain_s:.2f}  (target <= 1.2)")
    print(f"iopub messages    : {msgs:.0f}, {msgs / chat_s:.1f} per second (target <= 40)")
    print(f"iopub bytes       : {size:.0f}, {size / answer_bytes:.2f}x the answer (target <= 5)")


if __name__ == "__main__":
    main()
