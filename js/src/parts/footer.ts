// Status, live metrics (a clock while streaming, the kernel's figures after), the Stop
// control's button, and Copy once the answer has ended.

import { button, copyText, element, type Part, show, watch } from "../dom";
import type { ChatModel } from "../model";
import type { Store } from "../store";
import { STREAMING, type Status } from "../vocabulary";

const STATUS_TEXT: Record<Status, string> = {
  streaming: "streaming…",
  done: "done",
  stopped: "stopped",
  error: "error",
};

export function footer(model: ChatModel, store: Store, stop: HTMLElement): Part {
  const el = element("div", "streamchat-footer");
  const status = element("span", "streamchat-status");
  const metrics = element("span", "streamchat-metrics");
  const copy = button("streamchat-copy", "Copy");
  copy.addEventListener("click", () => copyText(copy, store.full("text")));
  el.append(status, metrics, stop, copy);
  let clock: ReturnType<typeof setInterval> | undefined;

  const describeMetrics = () => {
    metrics.textContent = describe(model, store).join(" · ");
  };
  const update = () => {
    const streaming = model.get("status") === STREAMING;
    status.textContent = (streaming && model.get("retrying")) || STATUS_TEXT[model.get("status")];
    show(copy, !streaming);
    if (streaming) clock ??= setInterval(describeMetrics, 200);
    else clearInterval(clock);
    describeMetrics();
  };
  const unwatch = watch(model, ["status", "retrying", "usage", "stats"], update);
  return {
    nodes: [el],
    update,
    dispose() {
      unwatch();
      clearInterval(clock);
    },
  };
}

/** Elapsed time, first token, tokens/s and token counts: live while streaming. */
function describe(model: ChatModel, store: Store): string[] {
  const stats = model.get("stats") || {};
  const usage = model.get("usage") || {};
  const parts: string[] = [];
  const streaming = model.get("status") === STREAMING;
  const elapsed = streaming ? (performance.now() - store.openedAt) / 1000 : stats.elapsed_s;
  if (typeof elapsed === "number") parts.push(`${elapsed.toFixed(1)} s`);
  const first = streaming ? store.firstAt : null;
  const ttft = first !== null ? (first - store.openedAt) / 1000 : stats.ttft_s;
  if (typeof ttft === "number") parts.push(`first token ${ttft.toFixed(2)} s`);
  const span = first !== null ? ((store.latestAt ?? first) - first) / 1000 : 0;
  const rate = first !== null ? (span > 0.5 ? store.pieces / span : undefined) : stats.tokens_per_s;
  if (typeof rate === "number") parts.push(`${rate.toFixed(0)} tok/s`);
  if (typeof usage.prompt_tokens === "number" && typeof usage.completion_tokens === "number") {
    parts.push(`${usage.prompt_tokens} → ${usage.completion_tokens} tokens`);
  }
  return parts;
}
