// Incremental, sanitized Markdown for a streaming answer.
// Finished blocks (top-level blocks CommonMark has closed) are rendered once and
// never touched again; only the open tail is re-rendered, and only when the view
// asks (once per animation frame). Re-parsing the whole answer per token is
// O(n^2) and blows the frame budget on long answers; a burst of finished blocks
// (a fast model, a late view) goes into the DOM a slice per frame. The result says what the
// saved text/html copy (static_copy.py, markdown-it) says: tests/markdown_cases.json.
// Model output is untrusted: raw HTML in it is shown as text, everything marked
// produces still passes through DOMPurify before it touches the DOM, and remote
// images wait for a click. TeX math is typeset by KaTeX (math.ts).

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
import { Lexer, Marked, type Token, Tokenizer, type Tokens, type TokensList } from "marked";
import {
  allowedStyle,
  FORMULA_CHARS,
  formulaCount,
  HOLD_CHARS,
  mathExtension,
  opensFormula,
  SVG_TAGS,
  unfinishedFormula,
} from "./math";

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

// The languages notebook answers use most; each costs bundle bytes sent with every widget.
// The saved copy (static_copy.LEXERS) highlights the same set under the same names.
for (const [name, language] of Object.entries({
  bash,
  cpp,
  css,
  javascript,
  json,
  python,
  rust,
  sql,
  typescript,
  xml,
  yaml,
})) {
  hljs.registerLanguage(name, language);
}
hljs.registerAliases(["shell", "zsh"], { languageName: "bash" });
hljs.registerAliases(["python3", "py3", "ipython"], { languageName: "python" });
hljs.registerAliases(["h", "cc", "cxx"], { languageName: "cpp" });
hljs.registerAliases(["rs"], { languageName: "rust" });
hljs.registerAliases(["jsx", "mjs", "cjs"], { languageName: "javascript" });
hljs.registerAliases(["tsx", "mts", "cts"], { languageName: "typescript" });
/** Longer blocks are shown plain: highlighting them would stall the page. */
export const HIGHLIGHT_LIMIT = 20_000;

/** The links markdown-it (the saved copy) refuses, refused here too: shown as their source. */
function refusedLink(href: string): boolean {
  const url = href.trim().toLowerCase();
  return (
    /^(vbscript|javascript|file|data):/.test(url) && !/^data:image\/(gif|png|jpeg|webp);/.test(url)
  );
}

const literal = (raw: string) => escapeHtml(raw);

const marked = new Marked({
  gfm: true,
  tokenizer: {
    // Raw HTML is text, parsed as Markdown around it, as in the saved copy (markdown-it, html off).
    html: () => undefined,
    tag: () => undefined,
    // Bare URLs need a scheme, as in the saved copy: `www.example.com` stays text.
    // A definition markdown-it refuses is a paragraph there: here too.
    def(this: Tokenizer, src: string) {
      const token = Tokenizer.prototype.def.call(this, src);
      return token && refusedLink(token.href) ? undefined : token;
    },
    // Strikethrough takes two tildes, as in the saved copy: `H~2~O` and `~5 min` stay text.
    del(this: Tokenizer, src: string, masked: string, previous?: string) {
      const token = Tokenizer.prototype.del.call(this, src, masked, previous);
      return token && !token.raw.startsWith("~~") ? undefined : token;
    },
    url(this: Tokenizer, src: string) {
      const token = Tokenizer.prototype.url.call(this, src);
      return token?.raw.toLowerCase().startsWith("www.") ? undefined : token;
    },
  },
  renderer: {
    code: (token: Tokens.Code) => {
      const language = (token.lang || "").split(/\s/)[0];
      const body =
        hljs.getLanguage(language) && token.text.length <= HIGHLIGHT_LIMIT
          ? hljs.highlight(token.text, { language, ignoreIllegals: true }).value
          : escapeHtml(token.text);
      const cls = language ? ` class="hljs language-${escapeHtml(language)}"` : ' class="hljs"';
      return `<pre><code${cls}>${body}</code></pre>\n`;
    },
    // Task items as ☑/☐ text: inert everywhere, and the same in the saved copy.
    checkbox: ({ checked }: Tokens.Checkbox) => (checked ? "☑ " : "☐ "),
    listitem(item: Tokens.ListItem) {
      if (!item.task) return false;
      return `<li class="streamchat-task">${this.parser.parse(item.tokens)}</li>\n`;
    },
    link(token: Tokens.Link) {
      if (!refusedLink(token.href)) return false;
      return (
        literal("[") +
        this.parser.parseInline(token.tokens) +
        literal(token.raw.slice(token.raw.lastIndexOf("](")))
      );
    },
    image: (token: Tokens.Image) => (refusedLink(token.href) ? literal(token.raw) : false),
  },
});

marked.use(mathExtension());

const purifier = DOMPurify();
// KaTeX draws with inline styles and a few SVG shapes; nothing else marked makes has either.
purifier.addHook("uponSanitizeAttribute", (_node, data) => {
  if (data.attrName === "style" && !allowedStyle(data.attrValue)) data.keepAttr = false;
});
purifier.addHook("uponSanitizeElement", (node, data) => {
  const element = node as Element;
  if (element.namespaceURI === "http://www.w3.org/2000/svg" && !SVG_TAGS.has(data.tagName)) {
    element.remove();
  }
});
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});
const PURIFY_CONFIG = {
  FORBID_TAGS: [
    "style",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "iframe",
    "object",
    "embed",
    "frame",
    "frameset",
    "base",
    "link",
    "meta",
    "math",
    "template",
  ],
  FORBID_ATTR: ["srcset", "formaction", "xlink:href"],
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true as const,
};

/**
 * Remote images are never fetched by themselves: a fetch can carry answer text to whoever
 * the model names (prompt-injection exfiltration). Each becomes a placeholder showing its
 * text and URL; its button loads it. Inline `data:image/` stays; other schemes keep the alt.
 */
function blockRemoteImages(fragment: DocumentFragment, loaded: Set<string>): void {
  for (const img of fragment.querySelectorAll("img")) {
    const src = img.getAttribute("src") || "";
    const alt = img.getAttribute("alt") || "";
    if (/^data:image\//i.test(src) || loaded.has(src)) continue;
    let scheme = "";
    try {
      scheme = new URL(src, "relative:/").protocol;
    } catch {
      scheme = "invalid:";
    }
    if (scheme !== "http:" && scheme !== "https:" && scheme !== "relative:") {
      img.replaceWith(alt);
      continue;
    }
    img.replaceWith(imagePlaceholder(src, alt, img.getAttribute("title"), loaded));
  }
}

function imagePlaceholder(
  src: string,
  alt: string,
  title: string | null,
  loaded: Set<string>,
): HTMLElement {
  const holder = document.createElement("span");
  holder.className = "streamchat-remote-image";
  holder.dataset.src = src;
  holder.dataset.alt = alt;
  const label = document.createElement("span");
  label.className = "streamchat-remote-image-alt";
  label.textContent = alt ? `Image: ${alt}` : "Image";
  const url = document.createElement("span");
  url.className = "streamchat-remote-image-url";
  url.textContent = src;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "streamchat-remote-image-load";
  button.textContent = "Load image";
  button.setAttribute("aria-label", `Load image from ${src}`);
  button.addEventListener("click", (event) => {
    event.preventDefault();
    event.stopPropagation();
    loaded.add(src);
    const img = document.createElement("img");
    img.alt = alt;
    if (title) img.title = title;
    img.src = src;
    holder.replaceWith(img);
  });
  holder.append(label, " ", url, " ", button);
  return holder;
}

/** HTML as it may enter the page: DOMPurify with our allow-list, remote images held. */
export function sanitize(html: string, loaded: Set<string> = new Set()): DocumentFragment {
  const fragment = purifier.sanitize(html, PURIFY_CONFIG);
  blockRemoteImages(fragment, loaded);
  return fragment;
}

/** Markdown to a sanitized DOM fragment; images in `loaded` were allowed by a click. */
export function renderMarkdown(source: string, loaded: Set<string> = new Set()): DocumentFragment {
  return sanitize(marked.parse(source, { async: false }) as string, loaded);
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

/**
 * Streams Markdown into `container`. The open tail is lexed (by marked, as the final
 * render is); every top-level block before the last one that starts on a complete line is
 * finished: CommonMark closes a block only when a later line cannot continue it, so nothing
 * appended can change it (a blank line alone does not close a list or an indented code block).
 * The final DOM says what a one-shot render says: link definitions are shared by every block,
 * and an answer that uses a definition before giving it is rendered again whole at the end.
 */
export class IncrementalMarkdown {
  private source = "";
  private stable = 0; // source[0:stable] is lexed into finished tokens (rendered, or in the backlog)
  private backlog: Token[] = []; // finished tokens not yet in the DOM
  private renderedTail = "";
  private openTail = ""; // the tail before an unfinished formula was cut off it
  private links: TokensList["links"] = Object.create(null);
  private definedLate = false;
  private readonly loaded = new Set<string>();
  private readonly tail: HTMLElement;

  constructor(
    private readonly container: HTMLElement,
    private readonly decorate: (block: HTMLElement) => void = () => {},
  ) {
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

  /**
   * Bring the DOM up to date: new finished blocks once, the open tail again. With a
   * `budgetMs`, finished blocks go into the DOM a slice at a time until the budget is spent
   * (at least one slice), and the result says whether some are still waiting: a burst of
   * text then costs several short tasks, not one long one. The tail waits for them.
   */
  render(final = false, budgetMs = Infinity): boolean {
    const started = performance.now();
    let open = this.source.slice(this.stable);
    let tokens = this.lex(open);
    if (final && this.stable > 0 && (this.definedLate || this.definitions(tokens).length)) {
      for (const block of this.container.querySelectorAll(
        ":scope > .streamchat-block:not(.streamchat-tail)",
      )) {
        block.remove();
      }
      this.stable = 0;
      this.backlog = [];
      this.links = Object.create(null);
      this.definedLate = false;
      open = this.source;
      tokens = this.lex(open);
    }
    let finished = final ? tokens.length : this.finishedCount(open, tokens);
    // A `$$` or `\[` paragraph waits for its close, and the blocks after it with it.
    const opener = tokens.slice(0, finished).findIndex(opensFormula);
    if (opener !== -1 && rawLength(tokens.slice(opener)) <= HOLD_CHARS) finished = opener;
    if (finished > 0) {
      const done = tokens.slice(0, finished);
      for (const definition of this.definitions(done)) {
        if (this.links[definition.tag]) continue; // the first definition of a label wins
        this.links[definition.tag] = { href: definition.href, title: definition.title };
        if (this.stable > 0) this.definedLate = true; // blocks above may use it
      }
      this.backlog.push(...done);
      this.stable = final ? this.source.length : this.stable + rawLength(done);
    }
    while (this.backlog.length) {
      const slice = budgetMs === Infinity ? this.backlog.length : sliceLength(this.backlog);
      this.appendBlock(this.backlog.splice(0, slice));
      if (performance.now() - started >= budgetMs) break;
    }
    if (this.backlog.length) {
      // The tail would repeat text that the waiting blocks will show.
      if (this.renderedTail) this.tail.replaceChildren();
      this.renderedTail = "";
      this.openTail = "";
      return true;
    }
    let tail = final ? "" : this.source.slice(this.stable);
    if (!final && !tokens.slice(finished).some(isFence)) tail = withoutUnfinishedTable(tail);
    if (tail === this.openTail) return false;
    this.openTail = tail;
    let tailTokens: Token[] = finished === 0 && tail === open ? tokens : this.lex(tail);
    const formula = final ? -1 : unfinishedFormula(tailTokens);
    if (formula !== -1) {
      tail = tail.slice(0, formula);
      tailTokens = this.lex(tail);
    }
    if (tail !== this.renderedTail) {
      this.tail.replaceChildren(sanitize(marked.parser(tailTokens), this.loaded));
      this.renderedTail = tail;
    }
    return false;
  }

  private appendBlock(tokens: Token[]): void {
    const block = document.createElement("div");
    block.className = "streamchat-block";
    block.append(sanitize(marked.parser(tokens), this.loaded));
    this.decorate(block);
    this.container.insertBefore(block, this.tail);
  }

  /** marked's tokens, resolving references against the definitions of finished blocks. */
  private lex(text: string): TokensList {
    const lexer = new Lexer(marked.defaults);
    Object.assign(lexer.tokens.links, this.links);
    return lexer.lex(text);
  }

  private definitions(tokens: Token[]): Tokens.Def[] {
    const found: Tokens.Def[] = [];
    marked.walkTokens(tokens, (token) => {
      if (token.type === "def") found.push(token as Tokens.Def);
    });
    return found;
  }

  /** How many leading tokens no later text can change (0 when offsets cannot be trusted). */
  private finishedCount(open: string, tokens: Token[]): number {
    if (rawLength(tokens) !== open.length) return 0; // e.g. CR line ends, which marked rewrites
    let start = open.length;
    for (let i = tokens.length - 1; i >= 0; i--) {
      start -= tokens[i].raw.length;
      if (closed(tokens[i], tokens[i + 1])) return i + 1;
      if (i > 0 && tokens[i].type !== "space" && open.indexOf("\n", start) !== -1) return i;
    }
    return 0;
  }
}

/** Source characters of finished blocks put into the DOM in one step when work is bounded. */
export const SLICE_CHARS = 1000;

/** How many leading tokens make one slice: at least one, then up to `SLICE_CHARS`, a
 * formula counting as `FORMULA_CHARS` more (typesetting costs more than the text's size). */
function sliceLength(tokens: Token[]): number {
  const cost = (token: Token) => token.raw.length + FORMULA_CHARS * formulaCount(token);
  let size = cost(tokens[0]);
  let count = 1;
  while (count < tokens.length && size + cost(tokens[count]) <= SLICE_CHARS) {
    size += cost(tokens[count]);
    count += 1;
  }
  return count;
}

/**
 * Whether a block is over by its own text: a heading or rule whose line has ended, a
 * closed fence, or a paragraph, table or quote followed by a blank line. (A list or an
 * indented code block can go on after a blank line; a later block at its level ends it.)
 */
function closed(token: Token, next: Token | undefined): boolean {
  switch (token.type) {
    case "heading":
    case "hr":
      return token.raw.endsWith("\n") || next !== undefined;
    case "paragraph":
    case "table":
    case "blockquote":
      return next?.type === "space";
    case "code": {
      const lines = token.raw.trimEnd().split("\n");
      const opener = /^ {0,3}(`{3,}|~{3,})/.exec(lines[0]);
      const closer = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[lines.length - 1]);
      return (
        lines.length > 1 &&
        !!opener &&
        !!closer &&
        closer[1][0] === opener[1][0] &&
        closer[1].length >= opener[1].length &&
        (token.raw.endsWith("\n") || next !== undefined)
      );
    }
    default:
      return false;
  }
}

const rawLength = (tokens: Token[]) =>
  tokens.reduce((length, token) => length + token.raw.length, 0);
const isFence = (token: Token) => token.type === "code" && /^ {0,3}(`{3,}|~{3,})/.test(token.raw);
