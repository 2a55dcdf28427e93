"""Cost of `%%chat` over a plain openai loop, in one real kernel, in one run.

A 20 000-token answer is streamed from the loopback test server as fast as it
can send, through a plain `AsyncOpenAI` loop in a cell (the baseline) and
through `%%chat`, in alternating rounds (which arm goes first swaps each
round, so neither always gets the warmer caches). Prints, for each arm, the
median wall time and kernel CPU time with their spread (min-max), the ratio of
the medians with the spread of the per-round ratios, and the iopub traffic
`%%chat` cost against the answer's size. Single rounds vary a lot on a shared
machine: read the medians.

    .venv/bin/python -m benchmarks.stream_overhead [--tokens 20000] [--rounds 7]

Targets: wall ratio <= 1.10 (stretch < 1.0); iopub bytes <= 5x answer bytes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass, field

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
ARMS = {"plain": "_text = await _plain()", "chat": "%%chat -m bench\ngo"}


@dataclass
class Arm:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)


def run_arm(kernel: Kernel, code: str, arm: Arm) -> None:
    """One round of one arm: wall time seen from outside, CPU time of the kernel process."""
    kernel.run("_cpu0 = time.process_time()")
    since = len(kernel.wire)
    started = time.perf_counter()
    execution = kernel.run(code, timeout=600)
    arm.wall.append(time.perf_counter() - started)
    assert execution.status == "ok", execution.outputs
    # All iopub traffic of the run: the widget's comm messages carry no parent header.
    sent = kernel.wire[since:]
    arm.cpu.append(float(kernel.run("print(time.process_time() - _cpu0)").stdout))
    arm.messages.append(len(sent))
    arm.sizes.append(sum(wire_bytes(m) for m in sent))


def wire_bytes(msg: dict) -> int:
    parts = (msg["header"], msg["parent_header"], msg["metadata"], msg["content"])
    return sum(len(json.dumps(p, default=str).encode()) for p in parts)


def spread(values: list[float], unit: str = " s") -> str:
    median = statistics.median(values)
    return f"{median:.3f}{unit} (min-max {min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    tokens = [f"word{i % 1000} " if i % 12 else "\n\n" for i in range(args.tokens)]
    answer_bytes = len("".join(tokens).encode())
    arms = {name: Arm() for name in ARMS}
    with SSEServer() as server:
        server.add_model("bench", Plan(tokens=tokens))
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": server.api_key}
        with Kernel(env) as kernel:
            kernel.run("%load_ext streamchat_widget\n" + PLAIN_LOOP)
            for code in ARMS.values():  # warm-up, not counted
                run_arm(kernel, code, Arm())
            for round_ in range(args.rounds):
                order = list(ARMS) if round_ % 2 == 0 else list(reversed(ARMS))
                for name in order:
                    run_arm(kernel, ARMS[name], arms[name])
            check = kernel.run("print(_chat.text == _text, _chat.status)").stdout.strip()

    plain, chat = arms["plain"], arms["chat"]
    wall_ratios = [c / p for c, p in zip(chat.wall, plain.wall, strict=True)]
    cpu_ratios = [c / p for c, p in zip(chat.cpu, plain.cpu, strict=True)]
    wall_ratio = statistics.median(chat.wall) / statistics.median(plain.wall)
    cpu_ratio = statistics.median(chat.cpu) / statistics.median(plain.cpu)
    size = statistics.median(chat.sizes)
    print(f"answer: {args.tokens} tokens, {answer_bytes} bytes; same text both ways: {check}")
    print(f"{args.rounds} alternating rounds; medians, spread min-max")
    print(f"plain openai loop, wall : {spread(plain.wall)}")
    print(f"%%chat, wall            : {spread(chat.wall)}")
    print(
        f"wall ratio              : {wall_ratio:.2f}"
        f" (per round {min(wall_ratios):.2f}-{max(wall_ratios):.2f}; target <= 1.10)"
    )
    print(f"plain openai loop, CPU  : {spread(plain.cpu)} in the kernel process")
    print(f"%%chat, CPU             : {spread(chat.cpu)} in the kernel process")
    print(
        f"CPU ratio               : {cpu_ratio:.2f}"
        f" (per round {min(cpu_ratios):.2f}-{max(cpu_ratios):.2f})"
    )
    print(
        f"iopub                   : {statistics.median(chat.messages):.0f} messages, "
        f"{size:.0f} bytes = {size / answer_bytes:.2f}x the answer (target <= 5)"
    )


if __name__ == "__main__":
    main()
