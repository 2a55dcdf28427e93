// What went wrong, in the words the kernel chose (never raw provider JSON).

import { element, type Part, show, watch } from "../dom";
import type { ChatModel } from "../model";

export function errorCard(model: ChatModel): Part {
  const el = element("div", "streamchat-error");
  el.setAttribute("role", "alert");
  const title = element("strong", "streamchat-error-title");
  const message = element("div", "streamchat-error-message");
  const hint = element("div", "streamchat-error-hint");
  el.append(title, message, hint);

  const update = () => {
    const error = model.get("error") || {};
    show(el, model.get("status") === "error");
    title.textContent = error.title || "Error";
    message.textContent = error.message || "";
    hint.textContent = error.hint || "";
  };
  return { nodes: [el], update, dispose: watch(model, ["status", "error"], update) };
}
