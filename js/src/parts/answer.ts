// The answer itself: reasoning (folded once the answer starts), the Markdown answer,
// a refusal, and the "truncated" note. Streamed pieces are drawn once per frame, at most
// FRAME_BUDGET_MS of Markdown rendering each: a burst of text is drawn over several frames.
// The renderer is given at most FRAME_TEXT_CHARS of new text per frame, because marked
// lexes what it is given in one go: a burst (a fast model, a renderer that arrives after
// much of the answer) lexed at once would be one long task.

import { element, nextFrame, type Part, show, watch } from "../dom";
import type { ChatModel } from "../model";
import { currentRenderer } from "../rendererSlot";
import type { Piece, Store } from "../store";
import { STREAMING } from "../vocabulary";
import { addCodeCopyButtons } from "./codeCopy";
import { scrollFollower } from "./scrollFollower";

// Milliseconds of Markdown rendering per animation frame (at least one slice is drawn).
export const FRAME_BUDGET_MS = 12;
// Characters of new Markdown handed to the renderer per frame (marked lexes ~1 kB in < 1 ms).
export const FRAME_TEXT_CHARS = 8_000;

/** Where to cut `text` to hand the renderer at most `limit` characters: after a line end
 * when there is one, never inside a surrogate pair. */
export function feedLength(text: string, limit = FRAME_TEXT_CHARS): number {
  if (text.length <= limit) return text.length;
  const lineEnd = text.lastIndexOf("\n", limit - 1);
  if (lineEnd >= 0) return lineEnd + 1;
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/** The answer's elements: a folding Thinking section, then the scrolling text and refusal. */
function skeleton() {
  const reasoning = element("details", "streamchat-reasoning");
  reasoning.append(element("summary", "streamchat-reasoning-summary", "Thinking"));
  const reasoningText = element("div", "streamchat-reasoning-text");
  reasoning.append(reasoningText);
  const scroll = element("div", "streamchat-scroll");
  scroll.setAttribute("aria-live", "polite");
  const text = element("div", "streamchat-answer");
  const refusal = element("div", "streamchat-refusal");
  scroll.append(text, refusal);
  const truncated = element("div", "streamchat-truncated", "truncated (max tokens)");
  return { reasoning, reasoningText, scroll, text, refusal, truncated };
}

export function answer(model: ChatModel, store: Store): Part {
  const { reasoning, reasoningText, scroll, text, refusal, truncated } = skeleton();
  const follower = scrollFollower(model, scroll);

  const plainTargets = { reasoning: reasoningText, refusal };
  const streaming = () => model.get("status") === STREAMING;
  // The renderer arriving redraws in a frame of its own, not in the task that loaded it.
  const refill = () => nextFrame(() => disposed || fillFromStore());
  let markdown = currentRenderer(text, addCodeCopyButtons, refill);
  let pending: Piece[] = [];
  let unread = ""; // answer text the renderer has yet to be given
  let frameQueued = false;
  let backlog = false; // text or finished blocks the renderer has yet to draw
  let ended = !streaming(); // the answer is over: all of it is finished
  let disposed = false;

  const syncSections = () => {
    const hasReasoning = reasoningText.textContent !== "";
    show(reasoning, hasReasoning);
    // Open while only reasoning has arrived; fold it away once the answer starts.
    if (hasReasoning) reasoning.open = markdown.renderer.text === "" && streaming();
    show(refusal, refusal.textContent !== "");
  };
  // Hand the renderer its share of the unread text and draw within the frame's budget.
  const draw = () => {
    const cut = feedLength(unread);
    markdown.renderer.append(unread.slice(0, cut));
    unread = unread.slice(cut);
    backlog = markdown.renderer.render(ended && unread === "", FRAME_BUDGET_MS) || unread !== "";
  };
  // One frame's share of rendering.
  const flush = () => {
    frameQueued = false;
    if (!pending.length && !backlog) return;
    for (const piece of pending) {
      if (piece.channel === "text") unread += piece.text;
      else plainTargets[piece.channel].append(document.createTextNode(piece.text));
    }
    pending = [];
    draw();
    syncSections();
    follower.grew();
    if (backlog) queueFlush();
  };
  const queueFlush = () => {
    if (!frameQueued) {
      frameQueued = true;
      nextFrame(flush);
    }
  };
  // From the store's whole text: on first draw, and when the Markdown renderer arrives.
  const fillFromStore = () => {
    pending = [];
    text.replaceChildren();
    text.classList.remove("streamchat-plain");
    markdown.cancel();
    markdown = currentRenderer(text, addCodeCopyButtons, refill);
    unread = store.full("text");
    draw();
    if (backlog) queueFlush();
    reasoningText.textContent = store.full("reasoning");
    refusal.textContent = store.full("refusal");
    syncSections();
  };
  const unsubscribe = store.subscribe((pieces) => {
    pending.push(...pieces);
    queueFlush();
  });

  const update = () => {
    scroll.style.setProperty("--streamchat-max-height", `${model.get("max_height")}px`);
    scroll.setAttribute("aria-busy", String(streaming()));
    show(truncated, model.get("finish_reason") === "length");
    if (!streaming() && !ended) {
      ended = true;
      backlog = true; // the final render is due even with nothing pending
      syncSections();
      queueFlush(); // in a frame of its own, not in the kernel message's task
    }
  };
  const unwatch = watch(model, ["status", "max_height", "finish_reason"], update);
  fillFromStore();
  return {
    nodes: [reasoning, scroll, ...follower.nodes, truncated],
    update,
    dispose() {
      disposed = true;
      unwatch();
      unsubscribe();
      markdown.cancel();
      follower.dispose();
    },
  };
}
