import { describe, expect, it } from "vitest";
import corpus from "../../tests/xss_corpus.json";
import {
  HIGHLIGHT_LIMIT,
  IncrementalMarkdown,
  renderMarkdown,
  SLICE_CHARS,
  withoutUnfinishedTable,
} from "./markdown";
import { structure } from "./markdownStructure";

function view() {
  const container = document.createElement("div");
  return { container, md: new IncrementalMarkdown(container) };
}

describe("incremental rendering", () => {
  it("renders a finished block once and never replaces its node", () => {
    const { container, md } = view();
    md.append("# First\n\nsecond para");
    md.render();
    const first = container.querySelector("h1")!;
    md.append("graph grows\n\nthird");
    md.render();
    md.append(" and more");
    md.render();
    expect(container.contains(first)).toBe(true);
    expect(container.querySelector("h1")).toBe(first);
    expect(container.querySelectorAll(".streamchat-block:not(.streamchat-tail)").length).toBe(2);
    expect(container.textContent).toContain("second paragraph grows");
    expect(container.querySelector(".streamchat-tail")!.textContent!.trim()).toBe("third and more");
  });

  it("keeps a code fence with blank lines in one open block", () => {
    const { container, md } = view();
    md.append("```python\ndef f():\n\n    return 1\n");
    md.render();
    expect(container.querySelectorAll("pre").length).toBe(1);
    expect(container.querySelectorAll(".streamchat-block:not(.streamchat-tail)").length).toBe(0);
    md.append("```\n\nafter");
    md.render();
    expect(container.querySelectorAll("pre").length).toBe(1);
    expect(container.querySelector("pre")!.textContent).toBe("def f():\n\n    return 1");
  });

  it("shows an unclosed fence as code, not as raw backticks", () => {
    const { container, md } = view();
    md.append("Look:\n\n```js\nconst a = 1;");
    md.render();
    expect(container.querySelector("pre code")!.textContent).toContain("const a = 1;");
    expect(container.textContent).not.toContain("```");
  });

  it("holds back a table row until the table is known", () => {
    expect(withoutUnfinishedTable("Intro\n| a | b |")).toBe("Intro\n");
    expect(withoutUnfinishedTable("Intro\n| a | b |\n")).toBe("Intro\n");
    expect(withoutUnfinishedTable("| a | b |\n|---|---|\n| 1 | 2")).toBe("| a | b |\n|---|---|\n");
    expect(withoutUnfinishedTable("| a |\nplain")).toBe("| a |\nplain");
    const { container, md } = view();
    md.append("| a | b |\n");
    md.render();
    expect(container.textContent).not.toContain("|");
    md.append("|---|---|\n| 1 | 2 |\n");
    md.render();
    expect(container.querySelectorAll("td").length).toBe(2);
  });

  it("renders everything as finished blocks at the end", () => {
    const { container, md } = view();
    md.append("a\n\nb");
    md.render(true);
    expect(container.querySelector(".streamchat-tail")!.textContent).toBe("");
    expect(container.textContent).toContain("b");
  });
});

describe("bounded rendering", () => {
  const burst = Array.from(
    { length: 40 },
    (_, i) => `## Part ${i}\n\n${"word ".repeat(60)}\n\n`,
  ).join("");

  /** Render with no time to spare (one slice a call) until nothing waits; the calls made. */
  function drain(md: IncrementalMarkdown, container: HTMLElement, final = false): number {
    let calls = 1;
    while (md.render(final, 0)) {
      calls += 1;
      expect(container.querySelector(".streamchat-tail")!.textContent).toBe("");
      expect(calls).toBeLessThan(100);
    }
    return calls;
  }

  it("draws a burst of finished blocks a slice per call, then the open tail", () => {
    const { container, md } = view();
    md.append(`${burst}open tail`);
    const calls = drain(md, container);
    expect(calls).toBeGreaterThanOrEqual(Math.floor(burst.length / SLICE_CHARS));
    expect(container.querySelectorAll(".streamchat-block:not(.streamchat-tail)").length).toBe(
      calls,
    );
    expect(container.querySelector(".streamchat-tail")!.textContent!.trim()).toBe("open tail");
    expect(structure(container)).toEqual(structure(renderMarkdown(`${burst}open tail`)));
  });

  it("keeps the blocks it drew while more text arrives", () => {
    const { container, md } = view();
    md.append(burst);
    expect(md.render(false, 0)).toBe(true);
    const first = container.querySelector("h2")!;
    md.append("more text");
    drain(md, container);
    expect(container.querySelector("h2")).toBe(first);
    expect(structure(container)).toEqual(structure(renderMarkdown(`${burst}more text`)));
  });

  it("ends like a one-shot render, a definition given last included", () => {
    const answer = `See [the docs][d].\n\n${burst}[d]: https://example.org/docs\n`;
    const { container, md } = view();
    md.append(answer);
    drain(md, container);
    drain(md, container, true);
    expect(structure(container)).toEqual(structure(renderMarkdown(answer)));
    expect(container.querySelector("a")!.getAttribute("href")).toBe("https://example.org/docs");
  });
});

describe("sanitizing", () => {
  it.each(corpus)("$payload", ({ payload, visible }) => {
    const holder = document.createElement("div");
    holder.append(renderMarkdown(payload));
    const forbidden =
      "script, iframe, object, embed, form, input, style, svg, math, video, source, img[onerror], body";
    expect(holder.querySelectorAll(forbidden).length).toBe(0);
    for (const node of holder.querySelectorAll("*")) {
      for (const attr of node.getAttributeNames()) {
        expect(attr.startsWith("on")).toBe(false);
        expect(attr).not.toBe("style");
        expect(attr).not.toBe("srcdoc");
      }
      for (const attr of ["href", "src", "action", "data"]) {
        const value = (node.getAttribute(attr) || "")
          .replace(/[\s\u0000-\u001f]/g, "")
          .toLowerCase();
        expect(value.startsWith("javascript:")).toBe(false);
        expect(value.startsWith("data:text")).toBe(false);
      }
    }
    const alts = [...holder.querySelectorAll("img")].map((img) => img.alt).join(" ");
    expect(`${holder.textContent} ${alts}`).toContain(visible);
  });

  it("opens links in a new tab without an opener", () => {
    const holder = document.createElement("div");
    holder.append(renderMarkdown("[docs](https://example.org)"));
    const link = holder.querySelector("a")!;
    expect(link.getAttribute("target")).toBe("_blank");
    expect(link.getAttribute("rel")).toBe("noopener noreferrer");
  });
});

describe("highlighting is bounded", () => {
  it("shows a block above the cap as plain text, whole", () => {
    const code = "x = [i ** 2 for i in range(10)]\n".repeat(Math.ceil(HIGHLIGHT_LIMIT / 20));
    const holder = document.createElement("div");
    holder.append(renderMarkdown(`\`\`\`python\n${code}\`\`\`\n`));
    const block = holder.querySelector("pre code")!;
    expect(block.querySelectorAll("span").length).toBe(0);
    expect(block.textContent).toBe(code.replace(/\n$/, ""));
  });

  it("highlights the same language names as the saved copy", () => {
    for (const name of ["py", "python3", "js", "ts", "sh", "shell", "zsh", "html", "yml", "rs"]) {
      const holder = document.createElement("div");
      holder.append(renderMarkdown(`\`\`\`${name}\nx = "s" <b>1</b>\n\`\`\``));
      expect(holder.querySelectorAll("pre code span").length, name).toBeGreaterThan(0);
    }
  });
});
