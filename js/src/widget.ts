// The chat answer view. It only reads synced traits and never writes one (a
// front-end trait write during an async cell stalls later syncs on ipykernel
// 7.4); the Stop click is the one message it sends: {type: "stop"}.
// Model output is untrusted: it enters the page as text nodes, or as Markdown
// through the sanitizing renderer (see renderer.ts and markdown.ts).

import type { Initialize, Render } from "@anywidget/types";
import { currentRenderer } from "./renderer";
import { dropStore, storeFor, type Delta, type Piece } from "./store";

type Status = "streaming" | "done" | "stopped" | "error";

export interface Model {
  answer_id: string;
  status: Status;
  model_name: string;
  conversation: string;
  max_height: number;
  badge: string;
  notice: string;
  retrying: string;
  error: { title?: string; message?: string; hint?: string };
  finish_reason: string;
  usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  stats: { ttft_s?: number; elapsed_s?: number; tokens_per_s?: number };
}

// Milliseconds of Markdown rendering per animation frame (at least one slice is drawn).
export const FRAME_BUDGET_MS = 12;
// How long a Stop click may go unanswered before we say the kernel cannot hear it.
export const STOP_HINT_DELAY_MS = 1500;
const STOP_HINT =
  "The kernel can't receive the click while this cell runs: use Kernel ▸ Interrupt (■).";
const STATUS_TEXT: Record<Status, string> = {
  streaming: "streaming…",
  done: "done",
  stopped: "stopped",
  error: "error",
};

const nextFrame: (callback: () => void) => void =
  typeof requestAnimationFrame === "function"
    ? (callback) => requestAnimationFrame(() => callback())
    : (callback) => setTimeout(callback, 16);

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text) node.textContent = text;
  return node;
}

async function copyText(button: HTMLButtonElement, text: string): Promise<void> {
  // The clipboard is missing outside secure contexts and may refuse (an iframe
  // without permission): then the button does nothing rather than throw.
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    return;
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => (button.textContent = label), 1500);
}

/** Give each code block of a finished Markdown block its own Copy button. */
function addCodeCopyButtons(block: HTMLElement): void {
  for (const pre of block.querySelectorAll("pre")) {
    const wrapper = element("div", "streamchat-code");
    const button = element("button", "streamchat-code-copy", "Copy");
    button.type = "button";
    button.setAttribute("aria-label", "Copy code");
    button.addEventListener("click", () => copyText(button, pre.textContent || ""));
    pre.replaceWith(wrapper);
    wrapper.append(button, pre);
  }
}

const initialize: Initialize<Model> = ({ model }) => {
  const store = storeFor(model.get("answer_id"));
  const onMessage = (msg: unknown) => {
    const delta = msg as Delta;
    if (delta && delta.type === "delta" && model.get("status") === "streaming") store.receive(delta);
  };
  const onStatus = () => {
    if (model.get("status") !== "streaming") store.close();
  };
  model.on("msg:custom", onMessage);
  model.on("change:status", onStatus);
  onStatus();
  return () => {
    model.off("msg:custom", onMessage);
    model.off("change:status", onStatus);
    dropStore(model.get("answer_id"));
  };
};

const render: Render<Model> = ({ model, el }) => {
  const store = storeFor(model.get("answer_id"));
  const root = element("div", "streamchat");
  const header = element("div", "streamchat-header");
  const name = element("span", "streamchat-model");
  const conversationName = element("span", "streamchat-conversation");
  const badge = element("span", "streamchat-badge");
  header.append(name, conversationName, badge);
  const notice = element("div", "streamchat-notice");

  const reasoning = element("details", "streamchat-reasoning");
  reasoning.append(element("summary", "streamchat-reasoning-summary", "Thinking"));
  const reasoningText = element("div", "streamchat-reasoning-text");
  reasoning.append(reasoningText);

  const scroll = element("div", "streamchat-scroll");
  scroll.setAttribute("aria-live", "polite");
  const jump = element("button", "streamchat-jump", "Jump to latest ↓");
  jump.type = "button";
  const answer = element("div", "streamchat-answer");
  const refusal = element("div", "streamchat-refusal");
  scroll.append(answer, refusal);
  const truncated = element("div", "streamchat-truncated", "truncated (max tokens)");

  const errorCard = element("div", "streamchat-error");
  errorCard.setAttribute("role", "alert");
  const errorTitle = element("strong", "streamchat-error-title");
  const errorMessage = element("div", "streamchat-error-message");
  const errorHint = element("div", "streamchat-error-hint");
  errorCard.append(errorTitle, errorMessage, errorHint);

  const footer = element("div", "streamchat-footer");
  const statusText = element("span", "streamchat-status");
  const metrics = element("span", "streamchat-metrics");
  const stop = element("button", "streamchat-stop", "Stop");
  stop.type = "button";
  stop.setAttribute("aria-label", "Stop");
  const copy = element("button", "streamchat-copy", "Copy");
  copy.type = "button";
  const hint = element("div", "streamchat-hint");
  footer.append(statusText, metrics, stop, copy);
  root.append(header, notice, reasoning, scroll, jump, truncated, errorCard, footer, hint);
  el.append(root);

  const plainTargets = { reasoning: reasoningText, refusal };
  let markdown = currentRenderer(answer, addCodeCopyButtons, () => fillFromStore());
  const opened = performance.now();
  let pending: Piece[] = [];
  let frameQueued = false;
  let backlog = false; // finished blocks the renderer has yet to draw
  let ended = model.get("status") !== "streaming"; // the answer is over: all of it is finished
  let stopClicked = false;
  let following = true; // auto-scroll, until the reader scrolls up
  let hintTimer: ReturnType<typeof setTimeout> | undefined;
  let clockTimer: ReturnType<typeof setInterval> | undefined;

  const show = (node: HTMLElement, visible: boolean) => {
    node.hidden = !visible;
  };
  const atBottom = () => scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 8;
  const follow = () => {
    following = true;
    scroll.scrollTop = scroll.scrollHeight;
    show(jump, false);
  };
  scroll.addEventListener("scroll", () => {
    following = atBottom();
    show(jump, !following && model.get("status") === "streaming");
  });
  jump.addEventListener("click", follow);

  const syncSections = () => {
    const hasReasoning = reasoningText.textContent !== "";
    const hasAnswer = markdown.renderer.text !== "";
    show(reasoning, hasReasoning);
    // Open while only reasoning has arrived; fold it away once the answer starts.
    if (hasReasoning) reasoning.open = !hasAnswer && model.get("status") === "streaming";
    show(refusal, refusal.textContent !== "");
  };

  // One frame's share of rendering: a burst of text is drawn over several frames.
  const flush = () => {
    frameQueued = false;
    if (!pending.length && !backlog) return;
    for (const piece of pending) {
      if (piece.channel === "text") markdown.renderer.append(piece.text);
      else plainTargets[piece.channel].append(document.createTextNode(piece.text));
    }
    pending = [];
    backlog = markdown.renderer.render(ended, FRAME_BUDGET_MS);
    syncSections();
    if (following) scroll.scrollTop = scroll.scrollHeight;
    else show(jump, true);
    if (backlog) queueFlush();
  };
  const queueFlush = () => {
    if (!frameQueued) {
      frameQueued = true;
      nextFrame(flush);
    }
  };

  const unsubscribe = store.subscribe((pieces) => {
    pending.push(...pieces);
    queueFlush();
  });

  const fillFromStore = () => {
    pending = [];
    answer.replaceChildren();
    answer.classList.remove("streamchat-plain");
    markdown.cancel();
    markdown = currentRenderer(answer, addCodeCopyButtons, () => fillFromStore());
    markdown.renderer.append(store.full("text"));
    backlog = markdown.renderer.render(ended, FRAME_BUDGET_MS);
    if (backlog) queueFlush();
    reasoningText.textContent = store.full("reasoning");
    refusal.textContent = store.full("refusal");
    syncSections();
  };

  const describeMetrics = () => {
    const stats = model.get("stats") || {};
    const usage = model.get("usage") || {};
    const parts: string[] = [];
    const elapsed =
      model.get("status") === "streaming" ? (performance.now() - opened) / 1000 : stats.elapsed_s;
    if (typeof elapsed === "number") parts.push(`${elapsed.toFixed(1)} s`);
    const live = model.get("status") === "streaming" && store.firstAt !== null;
    const ttft = live ? (store.firstAt! - opened) / 1000 : stats.ttft_s;
    if (typeof ttft === "number") parts.push(`first token ${ttft.toFixed(2)} s`);
    const span = live ? (store.latestAt! - store.firstAt!) / 1000 : 0;
    const rate = live ? (span > 0.5 ? store.pieces / span : undefined) : stats.tokens_per_s;
    if (typeof rate === "number") parts.push(`${rate.toFixed(0)} tok/s`);
    if (typeof usage.prompt_tokens === "number" && typeof usage.completion_tokens === "number") {
      parts.push(`${usage.prompt_tokens} → ${usage.completion_tokens} tokens`);
    }
    metrics.textContent = parts.join(" · ");
  };

  const update = () => {
    const status = model.get("status");
    const streaming = status === "streaming";
    root.dataset.status = status;
    name.textContent = model.get("model_name");
    conversationName.textContent = model.get("conversation");
    show(conversationName, model.get("conversation") !== "");
    scroll.style.setProperty("--streamchat-max-height", `${model.get("max_height")}px`);
    badge.textContent = model.get("badge");
    show(badge, model.get("badge") !== "");
    notice.textContent = model.get("notice");
    show(notice, model.get("notice") !== "");
    statusText.textContent = (streaming && model.get("retrying")) || STATUS_TEXT[status];
    scroll.setAttribute("aria-busy", String(streaming));
    show(stop, streaming);
    show(copy, !streaming);
    show(truncated, model.get("finish_reason") === "length");

    const error = model.get("error") || {};
    show(errorCard, status === "error");
    errorTitle.textContent = error.title || "Error";
    errorMessage.textContent = error.message || "";
    errorHint.textContent = error.hint || "";

    if (streaming) {
      clockTimer ??= setInterval(describeMetrics, 200);
    } else {
      clearInterval(clockTimer);
      clearTimeout(hintTimer);
      show(hint, false);
      show(jump, false);
      ended = true;
      backlog = true; // the final render is due even with nothing pending
      syncSections();
      queueFlush(); // in a frame of its own, not in the kernel message's task
    }
    describeMetrics();
  };

  stop.addEventListener("click", () => {
    if (stopClicked) return;
    stopClicked = true;
    model.send({ type: "stop" });
    stop.disabled = true;
    stop.textContent = "Stopping…";
    hintTimer = setTimeout(() => {
      if (model.get("status") === "streaming") {
        hint.textContent = STOP_HINT;
        show(hint, true);
      }
    }, STOP_HINT_DELAY_MS);
  });

  copy.addEventListener("click", () => copyText(copy, store.full("text")));

  fillFromStore();
  show(hint, false);
  show(jump, false);
  update();
  const events = [
    "status", "model_name", "conversation", "max_height", "badge", "notice", "retrying", "error",
    "finish_reason", "usage", "stats",
  ];
  for (const trait of events) model.on(`change:${trait}`, update);

  return () => {
    unsubscribe();
    markdown.cancel();
    clearInterval(clockTimer);
    clearTimeout(hintTimer);
    for (const trait of events) model.off(`change:${trait}`, update);
    root.remove();
  };
};

export default { initialize, render };
