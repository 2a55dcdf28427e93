// Keeps the answer scrolled to its end while it streams, until the reader scrolls up;
// then a "Jump to latest" button brings them back.

import { button, type Part, show, watch } from "../dom";
import type { ChatModel } from "../model";
import { STREAMING } from "../vocabulary";

export interface ScrollFollower extends Part {
  /** After new content: stay at the end, or offer the jump. */
  grew(): void;
}

export function scrollFollower(model: ChatModel, scroll: HTMLElement): ScrollFollower {
  const jump = button("streamchat-jump", "Jump to latest ↓");
  let following = true;
  const atBottom = () => scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 8;
  const onScroll = () => {
    following = atBottom();
    show(jump, !following && model.get("status") === STREAMING);
  };
  const follow = () => {
    following = true;
    scroll.scrollTop = scroll.scrollHeight;
    show(jump, false);
  };
  scroll.addEventListener("scroll", onScroll);
  jump.addEventListener("click", follow);

  const update = () => {
    if (model.get("status") !== STREAMING) show(jump, false);
  };
  const unwatch = watch(model, ["status"], update);
  show(jump, false);
  return {
    nodes: [jump],
    update,
    grew() {
      if (following) scroll.scrollTop = scroll.scrollHeight;
      else show(jump, true);
    },
    dispose() {
      unwatch();
      scroll.removeEventListener("scroll", onScroll);
    },
  };
}
