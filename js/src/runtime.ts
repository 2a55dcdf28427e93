// Loaded once per kernel by the runtime model: provides the Markdown renderer
// and the styles to every chat view on the page. It is also a whole chat view
// with its renderer, for front ends where each model brings its own code and
// each view its own styles (marimo: see SelfContainedChatWidget in widget.py).

import type { Initialize } from "@anywidget/types";
import { IncrementalMarkdown, renderMarkdown } from "./markdown";
import type { Model } from "./model";
import { provideRenderer } from "./rendererSlot";
import "katex/dist/katex.css";
import "./styles.css";
import chat from "./widget";

// The first render compiles marked's and highlight.js's expressions and sets KaTeX up
// (~30 ms): done here, it stays out of the first frame of streaming, which the views draw
// after this task.
const WARM_UP =
  "# a\n\n- *b* `c` [d](https://e.org) $x^2$\n\n> f\n\n| g |\n|---|\n| h |\n\n```python\ni = 1\n```\n";

export function install(): void {
  provideRenderer((container, decorate) => new IncrementalMarkdown(container, decorate));
  renderMarkdown(WARM_UP);
}

/** As the runtime model, only install; as a chat model (it has an answer), also the chat's. */
const initialize: Initialize<Model> = (props) => {
  install();
  return props.model.get("answer_id") ? chat.initialize(props) : undefined;
};

export default { initialize, render: chat.render };
