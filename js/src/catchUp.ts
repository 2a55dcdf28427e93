// A model may come to exist after the kernel has sent it deltas: marimo creates
// the front-end model some time after the kernel opened it, and a page reloaded
// mid-answer gets a new one. Those deltas are gone, and the store would wait for
// them forever. So at each gap in the numbering the model asks the kernel, once,
// for what it missed; the kernel answers with one delta covering the whole
// missing range (`first`..`seq`). A model that misses nothing sends nothing.

import type { ChatModel } from "./model";
import type { Store } from "./store";
import { CATCH_UP, STREAMING } from "./vocabulary";

/** Turn `store`'s gaps into catch-up requests while the answer streams. */
export function catchUp(model: ChatModel, store: Store): () => void {
  store.onGap = (after) => {
    if (model.get("status") === STREAMING) model.send({ type: CATCH_UP, after });
  };
  return () => {
    store.onGap = () => {};
  };
}
