// A Copy button on each code block of a finished Markdown block.

import { button, copyText, element } from "../dom";

export function addCodeCopyButtons(block: HTMLElement): void {
  for (const pre of block.querySelectorAll("pre")) {
    const wrapper = element("div", "streamchat-code");
    const copy = button("streamchat-code-copy", "Copy", "Copy code");
    copy.addEventListener("click", () => copyText(copy, pre.textContent || ""));
    pre.replaceWith(wrapper);
    wrapper.append(copy, pre);
  }
}
