"""Stop latency, click to upstream disconnect, in real kernels, in one run.

For each kernel environment and each way a `%%chat` cell runs (the async cell,
and the synchronous fallback under `%autoawait False`), an answer streams at
50 tokens/s from the loopback test server; the Stop click is sent as the
browser sends it, and the server notes when the connection drops. Prints the
median and the spread over the rounds. The baseline is what the answer would
have cost without a Stop heard: the rest of its streaming time.

    .venv/bin/python -m benchmarks.stop_latency [--rounds 5] [--kernel NAME=JUPYTER_PATH ...]

`--kernel ipykernel6=.venv-ipykernel6/spec/share/jupyter` adds the environment
that tests/run builds. Target: every median under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from tests.kernel import Kernel
from tests.sse_server import Plan, SSEServer

TOKENS = [f"tok{i} " for i in range(500)]
DELAY = 0.02
MODES = {"async cell": "", "synchronous fallback": "%autoawait False"}


def _one(server: SSEServer, env: dict[str, str], prologue: str, rounds: int) -> list[float]:
    latencies = []
    with Kernel(env) as k:
        k.run(f"%load_ext streamchat_widget\n{prologue}")
        for _ in range(rounds):
            server.reset()
            k.widgets.clear()
            execution = k.start("%%chat -m slow\nCount slowly.")
            k.pump(execution, until=lambda _e: bool(k.chat_widgets())
                   and len(k.chat_widgets()[-1].streamed_text) > 30, timeout=30)  # fmt: skip
            clicked = time.monotonic()
            k.stop_widget(k.chat_widgets()[-1])
            record = server.wait_for_disconnect(timeout=30)
            latencies.append(record.disconnected_at - clicked)
            k.pump(execution, timeout=30)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kernel", action="append", default=[], metavar="NAME=JUPYTER_PATH")
    args = parser.parse_args()
    kernels = {"default": None} | dict(k.split("=", 1) for k in args.kernel)
    rest_of_answer = len(TOKENS) * DELAY
    print(f"answer: {len(TOKENS)} tokens at {1 / DELAY:.0f}/s; unheard Stop costs up to "
          f"{rest_of_answer:.1f} s")  # fmt: skip
    with SSEServer() as server:
        server.add_model("slow", Plan(tokens=TOKENS, delay=DELAY))
        for name, jupyter_path in kernels.items():
            env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": server.api_key}
            if jupyter_path:
                os.environ["JUPYTER_PATH"] = os.path.abspath(jupyter_path)
            else:
                os.environ.pop("JUPYTER_PATH", None)
            for mode, prologue in MODES.items():
                runs = _one(server, env, prologue, args.rounds)
                print(f"{name:>12} {mode:<22} click→disconnect median "
                      f"{statistics.median(runs) * 1000:6.0f} ms  (min {min(runs) * 1000:.0f}, "
                      f"max {max(runs) * 1000:.0f}; {statistics.median(runs) / rest_of_answer:.3f}"
                      " of the unheard cost)")  # fmt: skip


if __name__ == "__main__":
    main()
