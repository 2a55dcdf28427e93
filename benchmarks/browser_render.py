"""Front-end cost of a long Markdown answer, in a real Chromium with JupyterLab.

Streams a 20 000-token Markdown answer (headings, lists, code, tables) from the
loopback server as fast as it can send into a `%%chat` widget, and records
main-thread long tasks (> 50 ms, PerformanceObserver `longtask`) while it
streams, whether the final DOM holds the whole answer, and how long after the
last token `data-status="done"` appeared. Then, in the same page, the same text
is fed in the same batches to the incremental renderer and to a naive one that
re-renders the whole message every frame: the baseline ratio.

    .venv/bin/python -m benchmarks.browser_render [--tokens 20000] [--math]

`--math` streams, in the same session, a math-heavy answer of as many tokens (inline and
display TeX in every paragraph, KaTeX typesetting it live) right after the Markdown one,
so the two reports compare in one run.

Targets: no long task over 50 ms while streaming; done within 1 s of the last token.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tests.lab import chromium, jupyter_lab
from tests.sse_server import Plan, SSEServer

FRAME_BUDGET_MS = 12  # js/src/parts/answer.ts
RECORDER = """
window.__longtasks = [];
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__longtasks.push([e.startTime, e.duration]);
}).observe({ type: "longtask", buffered: true });
new MutationObserver(records => {
  const root = document.querySelector(".streamchat");
  if (!root) return;
  if (root.dataset.status === "streaming" && records.some(r => root.contains(r.target))) {
    window.__lastLive = performance.now();
  }
  if (root.dataset.status === "streaming" && !window.__started) {
    window.__started = performance.now();
  }
  if (root.dataset.status === "done" && !window.__doneWall) {
    window.__doneWall = Date.now(); window.__done = performance.now();
  }
}).observe(document, { subtree: true, childList: true, characterData: true, attributes: true,
                       attributeFilter: ["data-status"] });
"""

# Feeds `text` in `batches` pieces, one per animation frame, to a renderer made by
# the page's own factory: `fresh` rebuilds the whole message each frame (the naive way);
# `budget` (ms) bounds each frame's work as the live view does (`FRAME_BUDGET_MS`).
SIMULATE = """async ([text, batches, fresh, budget]) => {
  const factory = globalThis.__streamchat_markdown_renderer__.factory;
  const box = document.createElement("div");
  document.body.append(box);
  const size = Math.ceil(text.length / batches);
  let renderer = factory(box, () => {});
  window.__longtasks = [];
  const start = performance.now();
  for (let i = 0; i < text.length; i += size) {
    await new Promise(r => requestAnimationFrame(r));
    if (fresh) {
      box.replaceChildren();
      renderer = factory(box, () => {});
      renderer.append(text.slice(0, i + size));
    } else {
      renderer.append(text.slice(i, i + size));
    }
    renderer.render(false, budget ?? Infinity);
  }
  // With a frame budget (as the live view has), what is left is drawn in the next frames.
  while (budget && renderer.render(false, budget)) await new Promise(r => requestAnimationFrame(r));
  await new Promise(r => setTimeout(r, 200));
  const tasks = window.__longtasks.filter(([t]) => t >= start);
  box.remove();
  return [start, tasks];
}"""


def answer_tokens(count: int) -> list[str]:
    section = [
        "## Section {n}\n\n", "Some *prose* with `code` and a [link](https://example.org). ",
        "More words follow here to fill the paragraph. ", "\n\n",
        "- item one\n", "- item two with **bold**\n", "- item three\n\n",
        "```python\n", "def f{n}(x):\n", "    return x * {n}\n", "```\n\n",
        "| a | b |\n", "|---|---|\n", "| {n} | {n}0 |\n\n",
    ]  # fmt: skip
    tokens: list[str] = []
    n = 0
    while len(tokens) < count:
        for piece in section:
            piece = piece.format(n=n)  # headings, fences, tables and list items come whole
            tokens.extend(piece.split(" ") if piece[0] not in "#`|-" else [piece])
        n += 1
    return [t if t.endswith(("\n", " ")) else t + " " for t in tokens[:count]]


def math_tokens(count: int) -> list[str]:
    """A statistics answer as a model writes it: formulas split across tokens, in every
    paragraph, display blocks, `\\(…\\)` and `\\[…\\]`, and prices that stay text."""
    section = [
        "## Estimator {n}\n\n", "The ", "sample ", "mean ", "$\\bar", "{{x}}_", "{{{n}}} ", "= ",
        "\\frac{{1}}", "{{n}}\\sum_", "{{i=1}}^", "{{n}} x_i$ ", "and ", "its ", "variance ",
        "$s^2", "_{{{n}}}$ ", "cost ", "$5 ", "and ", "$10 ", "to ", "compute.\n\n",
        "$$\n", "s^2 = \\frac{{1}}{{n-1}}", "\\sum_{{i=1}}^{{n}} ", "(x_i - \\bar{{x}})^2",
        "\n$$\n\n",
        "- ", "the ", "slope ", "\\(\\hat", "\\beta_", "{{{n}}}\\) ", "is ", "unbiased\n",
        "- ", "with ", "\\(\\operatorname", "{{Var}}(\\hat\\beta)", " = \\sigma^2 ",
        "/ S_{{xx}}\\)\n\n", "so ", "\\[", "\\int_0^", "{{{n}}} e^{{-x^2}}", "\\,dx", "\\] ",
        "holds.\n\n",
    ]  # fmt: skip
    tokens: list[str] = []
    n = 0
    while len(tokens) < count:
        tokens.extend(piece.format(n=n) for piece in section)
        n += 1
    return tokens[:count]


def summary(tasks: list, start: float) -> str:
    durations = [d for _, d in tasks]
    at = ", ".join(f"{d:.0f} ms at +{(t - start) / 1000:.2f} s" for t, d in tasks)
    return (
        f"{len(durations)} long tasks, total {sum(durations):.0f} ms, "
        f"max {max(durations, default=0):.0f} ms" + (f" ({at})" if at else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument(
        "--math", action="store_true", help="then a math-heavy answer as long, in the same run"
    )
    parser.add_argument(
        "--trace",
        metavar="PATH",
        help="also save a Chromium performance trace there (open it in DevTools' Performance "
        "panel) and print what the long tasks spent their time on",
    )
    args = parser.parse_args()
    answers = {"long-md": answer_tokens(args.tokens)}
    if args.math:
        answers["long-math"] = math_tokens(args.tokens)
    with SSEServer() as server, tempfile.TemporaryDirectory() as root, chromium() as browser:
        for model, tokens in answers.items():
            server.add_model(model, Plan(tokens=tokens))
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": server.api_key}
        with jupyter_lab(Path(root), env) as lab:
            for model, tokens in answers.items():
                measure(lab, browser, server, model, tokens, args.trace)


def measure(lab, browser, server, model: str, tokens: list[str], trace: str | None) -> None:
    """Stream `tokens` from `model` into a fresh notebook page and print what it cost."""
    text = "".join(tokens)
    name = lab.notebook(f"{model}.ipynb", ["%load_ext streamchat_widget", f"%%chat -m {model}\ngo"])
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.add_init_script(RECORDER)
    if trace:
        browser.start_tracing(page=page, path=trace, categories=TRACE_CATEGORIES)
    lab.open_and_run_all(page, name)
    page.wait_for_selector('.streamchat[data-status="done"]', timeout=300_000)
    time.sleep(2)
    if trace:
        browser.stop_tracing()
    started, done, last_live = page.evaluate(
        "() => [window.__started, window.__done, window.__lastLive]"
    )
    all_tasks = page.evaluate("() => window.__longtasks")
    tasks = [t for t in all_tasks if started <= t[0] <= done]
    after = [t for t in all_tasks if t[0] > done]
    record = [r for r in server.requests if r.path.endswith("/chat/completions")][-1]
    server_lag = page.evaluate("() => window.__doneWall") / 1000 - record.last_chunk_wall
    # textContent: innerText leaves out the parts of a long copy that are off screen.
    shown = page.locator(".streamchat .streamchat-answer").text_content() or ""
    if model == "long-math":
        formulas = page.locator(".streamchat .streamchat-answer .streamchat-math").count()
        whole = f"{formulas} formulas typeset by MathJax" if formulas else "no formulas: False"
    else:
        last_word = text.split()[-1].strip("`*|")
        whole = str(shown.count("Section") == text.count("## Section") and last_word in shown)
    batches = max(1, round((done - started) / 40))
    inc_start, incremental = page.evaluate(SIMULATE, [text, batches, False, None])
    budget_start, budgeted = page.evaluate(SIMULATE, [text, batches, False, FRAME_BUDGET_MS])
    _, naive = page.evaluate(SIMULATE, [text, batches, True, None])
    page.close()
    print(f"answer {model}: {len(tokens)} tokens, {len(text)} characters of Markdown")
    streamed = (done - started) / 1000
    print(f"JupyterLab %%chat   : streamed {streamed:.2f} s; {summary(tasks, started)}")
    print(f"after done (the static copy replaces the widget): {summary(after, done)}")
    print(f"final DOM holds the whole answer: {whole}")
    print(
        f"data-status=done {(done - last_live) / 1000:.2f} s after the last token was drawn, "
        f"{server_lag:.2f} s after the server wrote it (the kernel's openai client parses "
        "chunks more slowly than loopback delivers them)"
    )
    print(f"same text, {batches} frames, incremental renderer: {summary(incremental, inc_start)}")
    print(
        f"same text, {batches} frames, incremental, {FRAME_BUDGET_MS} ms frame budget (as live): "
        f"{summary(budgeted, budget_start)}"
    )
    naive_max = max((d for _, d in naive), default=0)
    print(
        f"same text, {batches} frames, naive re-render   : {len(naive)} long tasks, "
        f"total {sum(d for _, d in naive):.0f} ms, max {naive_max:.0f} ms"
    )
    print(
        f"long-task time, naive vs incremental: {sum(d for _, d in naive):.0f} ms vs "
        f"{sum(d for _, d in incremental):.0f} ms"
    )
    if trace:
        print(f"trace saved to {trace}; what each long task of the page spent its time on:")
        for line in breakdown(Path(trace)):
            print("  " + line)


TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8.execute",
    "disabled-by-default-v8.cpu_profiler",
]
# Rendering work the trace times by itself, and the events that run script (they nest).
RENDERING = ("ParseHTML", "UpdateLayoutTree", "Layout", "PrePaint", "Paint", "Layerize")
SCRIPT = frozenset(
    ("FunctionCall", "FireAnimationFrame", "TimerFire", "EventDispatch", "EvaluateScript")
)


def covered(events: Iterable[dict]) -> float:
    """Microseconds covered by the events' spans, overlaps counted once."""
    total, reach = 0.0, float("-inf")
    for event in sorted(events, key=lambda e: e["ts"]):
        start, end = event["ts"], event["ts"] + event.get("dur", 0)
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


# JupyterLab functions whose names survive its minifier, sampled by the CPU profiler: the
# time spent under each (they nest: the sanitizer runs inside the table of contents).
LANDMARKS = {
    "getHeadings": "table of contents",
    "sanitize": "sanitizer",
    "_insertOutput": "output insertion",
    "removeChild": "DOM removal",
    "updatePromptOverlayIcon": "prompt overlay",
    "typeset": "MathJax",
}


def sampled(events: list[dict], pid: int) -> list[tuple[float, frozenset[str]]]:
    """The renderer's CPU samples: when, and which landmark functions were on the stack."""
    chunks = sorted(
        (e for e in events if e.get("name") == "ProfileChunk" and e.get("pid") == pid),
        key=lambda e: e["ts"],
    )
    clock = {
        e["id"]: e["args"]["data"]["startTime"]
        for e in events
        if e.get("name") == "Profile" and e.get("pid") == pid
    }
    names, parents, out = {}, {}, []
    for chunk in chunks:
        data, profile = chunk["args"]["data"], chunk["id"]
        for node in data.get("cpuProfile", {}).get("nodes", []):
            names[profile, node["id"]] = node["callFrame"].get("functionName", "")
            if "parent" in node:
                parents[profile, node["id"]] = (profile, node["parent"])
        samples = data.get("cpuProfile", {}).get("samples", [])
        for sample, delta in zip(samples, data.get("timeDeltas", []), strict=False):
            clock[profile] = clock.get(profile, chunk["ts"]) + delta
            stack, node = set(), (profile, sample)
            while node in names:
                if names[node] in LANDMARKS:
                    stack.add(LANDMARKS[names[node]])
                node = parents.get(node)
            out.append((clock[profile], frozenset(stack)))
    return sorted(out, key=lambda s: s[0])


def breakdown(path: Path) -> list[str]:
    """Each long task (> 50 ms) of the page's main thread: script (which includes the style
    and layout it forced), then style, layout, paint and GC times, then the JupyterLab
    functions it ran (from CPU samples, so roughly)."""
    events = json.loads(path.read_text())
    events = events["traceEvents"] if isinstance(events, dict) else events
    threads = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    timed = [e for e in events if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in threads]
    busiest = Counter((e["pid"], e["tid"]) for e in timed if e["name"] == "RunTask")
    if not busiest:
        return ["no main-thread tasks in the trace"]
    main_thread = busiest.most_common(1)[0][0]
    timed = sorted((e for e in timed if (e["pid"], e["tid"]) == main_thread), key=lambda e: e["ts"])
    samples = sampled(events, main_thread[0])
    lines = []
    for task in (e for e in timed if e["name"] == "RunTask" and e.get("dur", 0) > 50_000):
        end = task["ts"] + task["dur"]
        inside = [e for e in timed if task["ts"] <= e["ts"] < end and e is not task]
        spent = Counter()
        for event in inside:
            if event["name"] in RENDERING or event["name"].endswith("GC"):
                spent[event["name"]] += event.get("dur", 0) / 1000
        script = covered(e for e in inside if e["name"] in SCRIPT) / 1000
        parts = [f"script {script:.0f}"] + [f"{k} {v:.0f}" for k, v in spent.most_common()]
        within = [s for s in samples if task["ts"] <= s[0] < end]
        if within:  # each sample stands for the time until the next one
            ran = Counter()
            following = [t for t, _ in within[1:]] + [end]
            for (t, stack), then in zip(within, following, strict=True):
                for landmark in stack:
                    ran[landmark] += (then - t) / 1000
            parts += [f"{k} {v:.0f}" for k, v in ran.most_common()]
        lines.append(f"{task['dur'] / 1000:.0f} ms: " + ", ".join(parts) + " (ms)")
    return lines


if __name__ == "__main__":
    main()
