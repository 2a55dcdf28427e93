// Loaded once per kernel by the runtime model: provides the Markdown renderer
// and the styles to every chat view on the page. It is also a whole chat view
// with its renderer, for front ends where each model brings its own code and
// each view its own styles (marimo: see SelfContainedChatWidget in widget.py).

import type { Initialize } from "@anywidget/types";
import { IncrementalMarkdown } from "./markdown";
import type { Model } from "./model";
import { provideRenderer } from "./rendererSlot";
import "./styles.css";
import chat from "./widget";

export function install(): void {
  provideRenderer((container, decorate) => new IncrementalMarkdown(container, decorate));
}

/** As the runtime model, only install; as a chat model (it has an answer), also the chat's. */
const initialize: Initialize<Model> = (props) => {
  install();
  return props.model.get("answer_id") ? chat.initialize(props) : undefined;
};

export default { initialize, render: chat.render };
