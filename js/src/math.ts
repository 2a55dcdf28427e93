// TeX math in answers: `$…$`, `$$…$$`, `\(…\)` and `\[…\]`, typeset by KaTeX.
// The delimiter rules are those of the saved copy (streamchat_widget/math_syntax.py, line for
// line: pandoc's, as mdit-py-plugins' dollarmath with spaces and digits off): an opening `$` is not followed by whitespace nor preceded
// by a digit, a closing `$` is not preceded by whitespace nor followed by a digit, so prices
// (`$5 and $10`) and shell variables (`$HOME`) stay text; code is never math.
// A formula KaTeX cannot parse stays as its source, marked. KaTeX runs with `trust: false`
// (no \href, \url, \html… or \includegraphics) and its HTML still goes through DOMPurify,
// whose `style` attributes are held to the few declarations KaTeX writes.

import katex from "katex";
import type { MarkedExtension, Token, Tokens } from "marked";

export interface MathToken extends Tokens.Generic {
  type: "math" | "mathBlock";
  raw: string;
  tex: string;
  display: boolean;
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const isSpace = (char: string | undefined) => char !== undefined && /\s/.test(char);
const isDigit = (char: string | undefined) => char !== undefined && /[0-9]/.test(char);

/** Whether the character at `at` has an odd number of backslashes before it. */
function escaped(src: string, at: number): boolean {
  let count = 0;
  for (let i = at - 1; i >= 0 && src[i] === "\\"; i--) count += 1;
  return count % 2 === 1;
}

/**
 * An inline formula at the start of `src` (dollarmath's inline rule, no spaces inside the
 * dollars, no digit after the closing one; `$$…$$` inside a paragraph is display math).
 * `before` is the character before it: no digit may stand before an opening `$`. A formula
 * holds no backtick, so a code span after a price (`$5 or \`$HOME\``) stays code.
 */
export function inlineDollar(src: string, before = ""): MathToken | undefined {
  if (src[0] !== "$" || src[1] === undefined || isSpace(src[1]) || isDigit(before)) return;
  const double = src[1] === "$";
  let pos = double ? 2 : 1;
  let end: number;
  for (;;) {
    end = src.indexOf("$", pos);
    if (end === -1) return;
    if (escaped(src, end)) {
      pos = end + 1;
      continue;
    }
    if (double && src[end + 1] !== "$") {
      if (src[end + 1] === undefined) return;
      pos = end + 1;
      continue;
    }
    if (double) end += 1;
    break;
  }
  if (isSpace(src[end - 1]) || isDigit(src[end + 1])) return;
  const tex = double ? src.slice(2, end - 1) : src.slice(1, end);
  if (!tex || tex.includes("`")) return;
  return { type: "math", raw: src.slice(0, end + 1), tex, display: double };
}

/** `\(…\)` (inline) or `\[…\]` (display) at the start of `src`, closed in the same block. */
export function inlineBracket(src: string): MathToken | undefined {
  const open = src.slice(0, 2);
  const close = open === "\\(" ? "\\)" : open === "\\[" ? "\\]" : "";
  if (!close) return;
  let end = src.indexOf(close, 2);
  while (end !== -1 && escaped(src, end)) end = src.indexOf(close, end + 1);
  if (end === -1) return;
  const tex = src.slice(2, end);
  if (!tex.trim() || tex.includes("`")) return;
  return { type: "math", raw: src.slice(0, end + 2), tex, display: open === "\\[" };
}

/**
 * A `$$` block on its own lines (dollarmath's block rule: the opening line starts with `$$`
 * after at most three spaces; the block ends on the first line ending in `$$`; no blank line
 * inside). It does not interrupt a paragraph.
 */
export function blockDollar(src: string): MathToken | undefined {
  const lines = src.split("\n");
  const first = /^( {0,3})\$\$/.exec(lines[0]);
  if (!first) return;
  const opening = lines[0].slice(first[1].length).trimEnd();
  let last = 0;
  let tex: string;
  if (opening.length > 3 && opening.endsWith("$$")) {
    tex = opening.slice(2, -2);
  } else if (opening.length > 3 && opening.slice(2).includes("$$")) {
    return;
  } else {
    for (last = 1; last < lines.length; last++) {
      if (lines[last].trim().endsWith("$$")) break;
      if (!lines[last].trim()) return;
    }
    if (last >= lines.length) return;
    const closing = lines[last].trimEnd().slice(0, -2);
    tex = [opening.slice(2), ...lines.slice(1, last), closing].join("\n");
  }
  let raw = lines.slice(0, last + 1).join("\n");
  if (lines.length > last + 1) raw += "\n";
  return { type: "mathBlock", raw, tex, display: true };
}

/**
 * Where in `src` an inline formula could start, for marked's text tokenizer: not at an escaped
 * delimiter (marked's escape rule takes `\$`), nor at a `$` after a digit.
 */
function inlineStart(src: string): number | undefined {
  const pattern = /\$|\\[([]/g;
  for (let match = pattern.exec(src); match; match = pattern.exec(src)) {
    const at = match.index;
    if (escaped(src, at) || (src[at] === "$" && isDigit(src[at - 1]))) continue;
    return at;
  }
  return undefined;
}

const MAX_SOURCE = 5000; // a longer "formula" is text: typesetting it would stall the page

// The open block is rendered again every frame with all of its formulas: each is typeset once.
const typesetCache = new Map<string, string>();
const CACHE_SIZE = 500;

/** KaTeX's HTML for a formula, or its source marked as not typeset. */
export function typeset(token: MathToken): string {
  const key = `${token.type}\u0000${token.display}\u0000${token.raw}`;
  let html = typesetCache.get(key);
  if (html === undefined) {
    html = typesetAnew(token);
    if (typesetCache.size >= CACHE_SIZE) typesetCache.clear();
    typesetCache.set(key, html);
  }
  return html;
}

function typesetAnew(token: MathToken): string {
  const { tex, display, raw, type } = token;
  let html: string;
  try {
    if (tex.length > MAX_SOURCE) throw new Error("formula too long to typeset");
    html = katex.renderToString(tex, {
      displayMode: display,
      output: "html",
      throwOnError: true,
      trust: false,
      strict: "ignore",
      maxSize: 20,
      maxExpand: 500,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const source = `<code class="streamchat-math-error" title="${escapeHtml(message)}">${escapeHtml(raw.trim())}</code>`;
    return type === "mathBlock" ? `<p>${source}</p>\n` : source;
  }
  const label = escapeHtml(tex.trim());
  const tag = type === "mathBlock" ? "div" : "span";
  const cls = display ? "streamchat-math streamchat-math-display" : "streamchat-math";
  return `<${tag} class="${cls}" role="math" aria-label="${label}">${html}</${tag}>${tag === "div" ? "\n" : ""}`;
}

/** marked extensions for the four delimiters; the renderer typesets each formula once. */
export function mathExtension(): MarkedExtension {
  return {
    extensions: [
      {
        name: "mathBlock",
        level: "block",
        tokenizer: (src: string) => blockDollar(src),
        renderer: (token) => typeset(token as MathToken),
      },
      {
        name: "math",
        level: "inline",
        start: inlineStart,
        tokenizer: (src: string, tokens: Token[]) =>
          inlineDollar(src, tokens[tokens.length - 1]?.raw.slice(-1)) ?? inlineBracket(src),
        renderer: (token) => typeset(token as MathToken),
      },
    ],
  };
}

// What KaTeX writes in `style` attributes: lengths, positions and the colours of \color.
const STYLE_PROPERTIES = new Set([
  "height",
  "width",
  "min-width",
  "vertical-align",
  "top",
  "bottom",
  "left",
  "margin-left",
  "margin-right",
  "padding-left",
  "position",
  "border-width",
  "border-top-width",
  "border-bottom-width",
  "border-right-width",
  "border-style",
  "border-color",
  "color",
  "background-color",
]);
const STYLE_VALUE = /^(-?\d*\.?\d+(em|ex|px|pt|%)?|#[0-9a-f]{3,8}|[a-z]+)$/i;

/** Whether every declaration of a `style` attribute is one KaTeX writes, with a plain value. */
export function allowedStyle(style: string): boolean {
  return style
    .split(";")
    .filter((declaration) => declaration.trim())
    .every((declaration) => {
      const colon = declaration.indexOf(":");
      if (colon === -1) return false;
      const property = declaration.slice(0, colon).trim().toLowerCase();
      const value = declaration.slice(colon + 1).trim();
      return STYLE_PROPERTIES.has(property) && STYLE_VALUE.test(value);
    });
}

/** What a formula costs to draw, counted as this many characters of text. */
export const FORMULA_CHARS = 150;

/** How many formulas a token holds. */
export function formulaCount(token: Token): number {
  let count = token.type === "math" || token.type === "mathBlock" ? 1 : 0;
  for (const child of (token as Tokens.Generic).tokens ?? []) count += formulaCount(child);
  for (const item of (token as Tokens.List).items ?? []) count += formulaCount(item);
  return count;
}

/** The SVG elements KaTeX draws with (surds, stretchy arrows and braces, \cancel). */
export const SVG_TAGS = new Set(["svg", "path", "line"]);

/** How far past an unclosed opening delimiter the live view keeps waiting for its close. */
export const HOLD_CHARS = 3000;

// `$$`, `\(`, `\[`, or a `$` right before a TeX command (`$\bar`): never a price or `${VAR}`.
const OPENER = /\$\$|\\[([]|\$(?=\\)/;

/**
 * Whether a paragraph's first line opens a `$$` or `\[` formula whose close has not arrived
 * (a closed one would be a math token): the paragraph is not finished, as later lines
 * (`+ c`, `- x`) that look like other blocks belong to the formula once it closes.
 */
export function opensFormula(token: Token): boolean {
  return (
    token.type === "paragraph" &&
    /^ {0,3}(\$\$|\\\[)/.test(token.raw) &&
    !(token.tokens ?? []).some((child) => child.type === "math")
  );
}

/**
 * Where the open tail's unfinished formula starts (an opening `$$`, `\(`, `\[` or `$\` in the text
 * of its last paragraph with no close yet), or -1: the live view shows the tail up to there,
 * so a half-written formula never shows as source and then jumps to typeset. A `$` before
 * anything else is not held: prices and shell variables would wait for the block to end.
 */
export function unfinishedFormula(tokens: Token[]): number {
  let offset = 0;
  let last = -1;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].type === "paragraph" || tokens[i].type === "text") last = i;
  }
  if (last === -1) return -1;
  for (let i = 0; i < last; i++) offset += tokens[i].raw.length;
  const paragraph = tokens[last];
  if (paragraph.raw.length > HOLD_CHARS) return -1;
  for (const child of (paragraph as Tokens.Paragraph).tokens ?? []) {
    if (child.type === "text" || child.type === "escape") {
      const at = child.raw.search(OPENER);
      if (at !== -1) return offset + at;
    }
    offset += child.raw.length;
  }
  return -1;
}
