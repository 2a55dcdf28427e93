// The model's name, the conversation, the source badge, and the notice line under them.

import { element, type Part, show, watch } from "../dom";
import type { ChatModel } from "../model";

export function header(model: ChatModel): Part {
  const el = element("div", "streamchat-header");
  const name = element("span", "streamchat-model");
  const conversation = element("span", "streamchat-conversation");
  const badge = element("span", "streamchat-badge");
  el.append(name, conversation, badge);
  const notice = element("div", "streamchat-notice");

  const update = () => {
    name.textContent = model.get("model_name");
    conversation.textContent = model.get("conversation");
    show(conversation, model.get("conversation") !== "");
    badge.textContent = model.get("badge");
    show(badge, model.get("badge") !== "");
    notice.textContent = model.get("notice");
    show(notice, model.get("notice") !== "");
  };
  const dispose = watch(model, ["model_name", "conversation", "badge", "notice"], update);
  return { nodes: [el, notice], update, dispose };
}
