// Incremental, sanitized Markdown for a streaming answer.
// Finished blocks (text before a blank line outside a code fence) are rendered
// once and never touched again; only the open tail block is re-rendered, and
// only when the view asks (once per animation frame). Re-parsing the whole
// answer per token is O(n^2) and blows the frame budget on long answers.
// Model output is untrusted: raw HTML in it is shown as text, and everything
// marked produces still passes through DOMPurify before it touches the DOM.

import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { Marked, type Tokens } from "marked";

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

// The languages notebook answers use most; each costs bundle bytes sent with every widget.
for (const [name, language] of Object.entries({
  bash, cpp, css, javascript, json, python, rust, sql, typescript, xml, yaml,
})) {
  hljs.registerLanguage(name, language);
}

const marked = new Marked({
  gfm: true,
  renderer: {
    html: (token: Tokens.HTML | Tokens.Tag) => escapeHtml(token.text),
    code: (token: Tokens.Code) => {
      const language = (token.lang || "").split(/\s/)[0];
      const body = hljs.getLanguage(language)
        ? hljs.highlight(token.text, { language, ignoreIllegals: true }).value
        : escapeHtml(token.text);
      const cls = language ? ` class="hljs language-${escapeHtml(language)}"` : ' class="hljs"';
      return `<pre><code${cls}>${body}</code></pre>\n`;
    },
  },
});

const purifier = DOMPurify();
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});
const PURIFY_CONFIG = {
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object",
    "embed", "frame", "frameset", "base", "link", "meta", "svg", "math", "template"],
  FORBID_ATTR: ["style", "srcset", "formaction", "xlink:href"],
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true as const,
};

/** Markdown to a sanitized DOM fragment. */
export function renderMarkdown(source: string): DocumentFragment {
  const html = marked.parse(source, { async: false }) as string;
  return purifier.sanitize(html, PURIFY_CONFIG);
}

/** Table rows whose table is not yet known to be one would flash as raw pipes: hold them. */
export function withoutUnfinishedTable(tail: string): string {
  const isRow = (line: string) => /^\s*\|/.test(line);
  const lines = tail.split("\n");
  const n = lines.length;
  if (isRow(lines[n - 1])) lines[n - 1] = ""; // a row still being written
  if (lines[n - 1] === "" && n >= 2 && isRow(lines[n - 2]) && (n < 3 || !isRow(lines[n - 3]))) {
    lines.splice(n - 2, 1); // a header row whose separator has not arrived
  }
  return lines.join("\n");
}

export class IncrementalMarkdown {
  private source = "";
  private stable = 0; // source[0:stable] is rendered in finished block nodes
  private scanned = 0; // lines before this offset have been scanned for fences
  private boundary = 0; // end of the last blank line outside a code fence
  private fence: string | null = null;
  private renderedTail = "";
  private readonly tail: HTMLElement;

  constructor(private readonly container: HTMLElement, private readonly decorate: (block: HTMLElement) => void = () => {}) {
    this.tail = document.createElement("div");
    this.tail.className = "streamchat-block streamchat-tail";
    container.append(this.tail);
  }

  get text(): string {
    return this.source;
  }

  append(text: string): void {
    this.source += text;
  }

  /** Bring the DOM up to date: new finished blocks once, the open tail again. */
  render(final = false): void {
    this.scan();
    const end = final ? this.source.length : this.boundary;
    if (end > this.stable) {
      const block = document.createElement("div");
      block.className = "streamchat-block";
      block.append(renderMarkdown(this.source.slice(this.stable, end)));
      this.decorate(block);
      this.container.insertBefore(block, this.tail);
      this.stable = end;
    }
    const open = this.source.slice(this.stable);
    const tail = final ? "" : this.fence === null ? withoutUnfinishedTable(open) : open;
    if (tail !== this.renderedTail) {
      this.tail.replaceChildren(renderMarkdown(tail));
      this.renderedTail = tail;
    }
  }

  private scan(): void {
    let start = this.scanned;
    for (let newline = this.source.indexOf("\n", start); newline !== -1; newline = this.source.indexOf("\n", start)) {
      const line = this.source.slice(start, newline);
      const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line);
      if (this.fence === null && marker) {
        this.fence = marker[1];
      } else if (this.fence !== null && marker && marker[1][0] === this.fence[0] && marker[1].length >= this.fence.length && line.trim() === marker[1]) {
        this.fence = null;
      } else if (this.fence === null && line.trim() === "") {
        this.boundary = newline + 1;
      }
      start = newline + 1;
    }
    this.scanned = start;
  }
}
