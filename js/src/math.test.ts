// TeX math in the live view: the delimiter rules shared with the saved copy
// (tests/math_delimiters.json, also read by tests/test_math_syntax.py), KaTeX with trust off
// behind DOMPurify, formulas that fail to parse, and formulas arriving in pieces.
import katex from "katex";
import { describe, expect, it, vi } from "vitest";
import delimiters from "../../tests/math_delimiters.json";
import { IncrementalMarkdown, renderMarkdown, sanitize } from "./markdown";
import { allowedStyle } from "./math";

const rendered = (markdown: string) => {
  const root = document.createElement("div");
  root.append(renderMarkdown(markdown));
  return root;
};

const formulas = (root: Element) =>
  [...root.querySelectorAll(".streamchat-math")].map((node) => [
    (node.getAttribute("aria-label") ?? "").trim(),
    node.classList.contains("streamchat-math-display"),
  ]);

describe("which dollars and brackets are math", () => {
  it.each(delimiters.cases)("$name", ({ markdown, formulas: expected }) => {
    const root = rendered(markdown);
    expect(formulas(root)).toEqual(expected);
    expect(root.querySelectorAll(".katex").length).toBe(expected.length);
  });

  it("leaves prices, shell variables and code as their text", () => {
    const root = rendered("It costs $5 and $10; run `echo $HOME` or $HOME.");
    expect(root.textContent?.trim()).toBe("It costs $5 and $10; run echo $HOME or $HOME.");
  });
});

describe("KaTeX runs with trust off, behind DOMPurify", () => {
  const hostile = [
    "$\\href{javascript:alert(1)}{click}$",
    "$\\url{javascript:alert(1)}$",
    "$\\htmlClass{streamchat-source}{x}$",
    "$\\htmlId{x}{y}$",
    "$\\htmlStyle{background:url(https://evil.example/t.png)}{x}$",
    "$\\htmlData{foo=bar}{x}$",
    "$\\includegraphics{https://evil.example/t.png}$",
    "$$\\href{javascript:alert(1)}{x}$$",
  ];
  it.each(hostile)("%s makes no link, image, class, id, data or style of its own", (markdown) => {
    const root = rendered(markdown);
    expect(root.querySelector("a, img, [href], [src], [id], [data-foo]")).toBeNull();
    expect(root.querySelector(".streamchat-source")).toBeNull();
    const values = [...root.querySelectorAll("*")].flatMap((node) =>
      [...node.attributes].filter((a) => a.name !== "aria-label").map((a) => a.value),
    );
    expect(values.join(" ")).not.toMatch(/javascript:|url\(|evil\.example/);
  });

  it("keeps KaTeX's own layout styles and colours", () => {
    const root = rendered("$\\sqrt{x} + \\color{red}{y}$");
    const styled = [...root.querySelectorAll("[style]")].map((n) => n.getAttribute("style"));
    expect(styled.length).toBeGreaterThan(3);
    expect(styled.some((s) => s?.includes("color:red"))).toBe(true);
    expect(root.querySelector("svg path")).not.toBeNull(); // the surd
  });

  it("accepts only the declarations KaTeX writes, with plain values", () => {
    expect(allowedStyle("height:0.6833em;vertical-align:-0.25em;")).toBe(true);
    expect(allowedStyle("color:#cc0000;")).toBe(true);
    expect(allowedStyle("background:url(https://evil.example/x)")).toBe(false);
    expect(allowedStyle("background-color:url(x)")).toBe(false);
    expect(allowedStyle("position:fixed;top:0")).toBe(true); // each value is plain…
    expect(allowedStyle("color:expression(alert(1))")).toBe(false);
    expect(allowedStyle("behavior:x")).toBe(false);
  });

  it("sanitizes away styles and SVG shapes that are not KaTeX's", () => {
    const root = document.createElement("div");
    root.append(
      sanitize(
        '<span style="background:url(https://evil.example/t.png)">a</span>' +
          '<span style="height:1em;vertical-align:-0.25em">b</span>' +
          '<svg><image href="https://evil.example/t.png"/><use href="#x"/><path d="M0 0"/></svg>',
      ),
    );
    const styles = [...root.querySelectorAll("[style]")].map((n) => n.getAttribute("style"));
    expect(styles).toEqual(["height:1em;vertical-align:-0.25em"]);
    expect(root.querySelector("image, use")).toBeNull();
    expect(root.querySelector("svg path")).not.toBeNull();
  });
});

describe("a formula that KaTeX cannot parse", () => {
  it("stays as its source, marked, with KaTeX's message", () => {
    const root = rendered("before $\\frac{a$ after");
    const error = root.querySelector("code.streamchat-math-error");
    expect(error?.textContent).toBe("$\\frac{a$");
    expect(error?.getAttribute("title")).toMatch(/KaTeX parse error/);
    expect(root.querySelector(".katex")).toBeNull();
  });

  it("in a block, too", () => {
    const root = rendered("$$\n\\begin{matrix} a\n$$");
    expect(root.querySelector("p > code.streamchat-math-error")?.textContent).toContain("\\begin");
  });
});

describe("formulas arriving in pieces", () => {
  const stream = (
    answer: string,
    step: number,
    check: (root: HTMLElement, seen: string) => void,
  ) => {
    const root = document.createElement("div");
    const md = new IncrementalMarkdown(root);
    for (let i = 0; i < answer.length; i += step) {
      md.append(answer.slice(i, i + step));
      md.render();
      check(root, answer.slice(0, i + step));
    }
    md.render(true);
    return root;
  };

  it("typesets each formula of the open paragraph once, however often it is redrawn", () => {
    const spy = vi.spyOn(katex, "renderToString");
    const root = document.createElement("div");
    const md = new IncrementalMarkdown(root);
    md.append("Once: $\\alpha_{cache}$ and $\\beta_{cache}$");
    md.render();
    for (const word of [" and", " more", " words"]) {
      md.append(word);
      md.render();
    }
    expect(spy.mock.calls.map(([tex]) => tex)).toEqual(["\\alpha_{cache}", "\\beta_{cache}"]);
    expect(root.querySelectorAll(".katex").length).toBe(2);
    spy.mockRestore();
  });

  it("typesets a formula of the open paragraph as soon as it is closed", () => {
    const root = document.createElement("div");
    const md = new IncrementalMarkdown(root);
    md.append("The mean $\\bar{x}$ and then more text");
    md.render();
    expect(root.querySelector(".streamchat-tail .katex")).not.toBeNull();
  });

  it("never shows a half formula: no parse error and no opening delimiter on the way", () => {
    const answer =
      "Variance \\(\\sigma^2\\) is\n\n$$\n\\sigma^2 = \\frac{1}{n}\\sum_{i=1}^n (x_i - \\bar{x})^2\n$$\n\n" +
      "and \\[\\bar{x} = \\frac{1}{n}\\sum_i x_i\\] with $$x_1$$ done.";
    for (const step of [1, 3, 7]) {
      const root = stream(answer, step, (node) => {
        expect(node.querySelector(".streamchat-math-error")).toBeNull();
        expect(node.textContent).not.toMatch(/\$\$|\\\[|\\\(|\\frac/);
      });
      expect(root.querySelectorAll(".katex").length).toBe(4);
    }
  });

  it("shows prices as they arrive: a lone dollar does not hold the text back", () => {
    const root = document.createElement("div");
    const md = new IncrementalMarkdown(root);
    md.append("It costs $5 and then");
    md.render();
    expect(root.textContent?.trim()).toBe("It costs $5 and then");
  });

  it("keeps a display formula whose lines look like a list together", () => {
    const answer = "Intro\n\n$$\na = b\n+ c\n- d\n$$\n\nafter\n\nend";
    const root = stream(answer, 2, () => {});
    expect(formulas(root)).toEqual([["a = b\n+ c\n- d", true]]);
    expect(root.querySelector("ul")).toBeNull();
  });
});
