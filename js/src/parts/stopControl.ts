// The Stop button: one custom message, {type: "stop"}, never a trait write. If the
// kernel has not ended the answer after STOP_HINT_DELAY_MS, a hint says what to do
// (in Jupyter's words, unless the kernel gave the words of the front end at hand).

import { button, element, type Part, show, watch } from "../dom";
import type { ChatModel } from "../model";
import { STOP, STREAMING } from "../vocabulary";

// How long a Stop click may go unanswered before we say the kernel cannot hear it.
export const STOP_HINT_DELAY_MS = 1500;
const STOP_HINT =
  "The kernel can't receive the click while this cell runs: use Kernel ▸ Interrupt (■).";

/** `nodes`: the button (for the footer), then the hint (under the footer). */
export function stopControl(model: ChatModel): Part {
  const stop = button("streamchat-stop", "Stop", "Stop");
  const hint = element("div", "streamchat-hint");
  let clicked = false;
  let hintTimer: ReturnType<typeof setTimeout> | undefined;

  stop.addEventListener("click", () => {
    if (clicked) return;
    clicked = true;
    model.send({ type: STOP });
    stop.disabled = true;
    stop.textContent = "Stopping…";
    hintTimer = setTimeout(() => {
      if (model.get("status") === STREAMING) {
        hint.textContent = model.get("stop_hint") || STOP_HINT;
        show(hint, true);
      }
    }, STOP_HINT_DELAY_MS);
  });

  const update = () => {
    const streaming = model.get("status") === STREAMING;
    show(stop, streaming);
    if (!streaming) {
      clearTimeout(hintTimer);
      show(hint, false);
    }
  };
  const unwatch = watch(model, ["status"], update);
  show(hint, false);
  return {
    nodes: [stop, hint],
    update,
    dispose() {
      unwatch();
      clearTimeout(hintTimer);
    },
  };
}
