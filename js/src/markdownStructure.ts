// Rendered Markdown reduced to what a reader sees: a canonical tag tree with its text.
// The same rules as tests/markdown_structure.py, so the live view and the saved text/html
// copy are compared on one fixture (tests/markdown_cases.json, whose `_rules` states them).
// Test support only: nothing in the bundle imports it.

export type StructureNode = string | [string, Record<string, string>, ...StructureNode[]];

const BLOCK = new Set(
  "p h1 h2 h3 h4 h5 h6 ul ol li blockquote pre table thead tbody tr th td hr".split(" "),
);
const UNWRAP = new Set(["span", "div"]);
const DROP = new Set(["button", "script", "style"]);

function styleAlign(style: string): string {
  for (const declaration of style.split(";")) {
    const [name, value = ""] = declaration.split(":");
    if (name.trim().toLowerCase() === "text-align") return value.trim().toLowerCase();
  }
  return "";
}

function keptAttributes(node: Element, parent: string): Record<string, string> {
  const tag = node.localName;
  const pick = (names: string[]) =>
    Object.fromEntries(
      names.filter((n) => node.hasAttribute(n)).map((n) => [n, node.getAttribute(n) ?? ""]),
    );
  if (tag === "a") return pick(["href", "title"]);
  if (tag === "img") return pick(["src", "alt", "title"]);
  if (tag === "ol") {
    const start = node.getAttribute("start") ?? "1";
    return start === "1" ? {} : { start };
  }
  if (tag === "th" || tag === "td") {
    const align = node.getAttribute("align") || styleAlign(node.getAttribute("style") || "");
    return align ? { align } : {};
  }
  if (tag === "code" && parent === "pre") {
    const lang = [...node.classList].find((c) => c.startsWith("language-"));
    return lang ? { lang: lang.slice("language-".length) } : {};
  }
  return {};
}

const isBreak = (item: StructureNode) =>
  typeof item !== "string" && (BLOCK.has(item[0]) || item[0] === "br");

/** Whitespace a browser would not show: at block edges and around blocks and <br>. */
function trim(items: StructureNode[], block: boolean): StructureNode[] {
  const result: StructureNode[] = [];
  items.forEach((item, i) => {
    if (typeof item === "string") {
      if ((block && i === 0) || (i > 0 && isBreak(items[i - 1]))) item = item.replace(/^ +/, "");
      if ((block && i === items.length - 1) || (i + 1 < items.length && isBreak(items[i + 1]))) {
        item = item.replace(/ +$/, "");
      }
      if (item === "") return;
    }
    result.push(item);
  });
  return result;
}

function children(node: Node, tag: string, inPre: boolean): StructureNode[] {
  const out: StructureNode[] = [];
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) {
      const text = child.textContent || "";
      out.push(inPre ? text : text.replace(/[ \t\n\r\f]+/g, " "));
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    const element = child as Element;
    const ctag = element.localName;
    if (element.classList.contains("streamchat-remote-image")) {
      out.push([
        "remote-image",
        {
          alt: element.getAttribute("data-alt") || "",
          src: element.getAttribute("data-src") || "",
        },
      ]);
    } else if (element.classList.contains("streamchat-math")) {
      const display = element.classList.contains("streamchat-math-display");
      out.push(["math", display ? { display: "true" } : {}, mathSource(element)]);
    } else if (DROP.has(ctag)) {
    } else if (UNWRAP.has(ctag)) {
      out.push(...children(element, tag, inPre));
    } else {
      const inner = children(element, ctag, inPre || ctag === "pre");
      out.push([ctag, keptAttributes(element, tag), ...inner]);
    }
  }
  const merged: StructureNode[] = [];
  for (const item of out) {
    const last = merged[merged.length - 1];
    if (typeof item === "string" && typeof last === "string")
      merged[merged.length - 1] = last + item;
    else merged.push(item);
  }
  const end = merged[merged.length - 1];
  if (tag === "code" && inPre && typeof end === "string")
    merged[merged.length - 1] = end.replace(/\n$/, "");
  if (inPre) return merged.filter((m) => m !== "");
  return trim(merged, BLOCK.has(tag) || tag === "#root");
}

/** A typeset formula's TeX, from the label KaTeX's HTML carries. */
function mathSource(element: Element): string {
  return (element.getAttribute("aria-label") ?? "").replace(/\s+/g, " ").trim();
}

/** The canonical tree of a rendered fragment or element's content. */
export function structure(root: Node): StructureNode[] {
  return children(root, "#root", false);
}
