// The answer itself: reasoning (folded once the answer starts), the Markdown answer,
// a refusal, and the "truncated" note. Streamed pieces are drawn once per frame, at most
// FRAME_BUDGET_MS of Markdown rendering each: a burst of text is drawn over several frames.

import { element, nextFrame, type Part, show, watch } from "../dom";
import type { ChatModel } from "../model";
import { currentRenderer } from "../rendererSlot";
import type { Piece, Store } from "../store";
import { STREAMING } from "../vocabulary";
import { addCodeCopyButtons } from "./codeCopy";
import { scrollFollower } from "./scrollFollower";

// Milliseconds of Markdown rendering per animation frame (at least one slice is drawn).
export const FRAME_BUDGET_MS = 12;

export function answer(model: ChatModel, store: Store): Part {
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
  const follower = scrollFollower(model, scroll);

  const plainTargets = { reasoning: reasoningText, refusal };
  const streaming = () => model.get("status") === STREAMING;
  let markdown = currentRenderer(text, addCodeCopyButtons, () => fillFromStore());
  let pending: Piece[] = [];
  let frameQueued = false;
  let backlog = false; // finished blocks the renderer has yet to draw
  let ended = !streaming(); // the answer is over: all of it is finished

  const syncSections = () => {
    const hasReasoning = reasoningText.textContent !== "";
    show(reasoning, hasReasoning);
    // Open while only reasoning has arrived; fold it away once the answer starts.
    if (hasReasoning) reasoning.open = markdown.renderer.text === "" && streaming();
    show(refusal, refusal.textContent !== "");
  };
  // One frame's share of rendering.
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
    markdown = currentRenderer(text, addCodeCopyButtons, () => fillFromStore());
    markdown.renderer.append(store.full("text"));
    backlog = markdown.renderer.render(ended, FRAME_BUDGET_MS);
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
      unwatch();
      unsubscribe();
      markdown.cancel();
      follower.dispose();
    },
  };
}
