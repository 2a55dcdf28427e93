// The live view says what the saved text/html copy says: every case of the shared fixture
// (tests/markdown_cases.json, also checked against static_copy.py by pytest) is rendered
// here one-shot and streamed, and compared on structure.
import { describe, expect, it } from "vitest";
import fixture from "../../tests/markdown_cases.json";
import { IncrementalMarkdown, renderMarkdown } from "./markdown";
import { structure } from "./markdownStructure";

const cases = fixture.cases.map((c) => ({ ...c, expected: c.expected as unknown }));

/** Feed `markdown` in pieces of 1..`longest` characters, rendering after each, then finish. */
function streamed(markdown: string, seed: number, longest = 5): HTMLElement {
  const container = document.createElement("div");
  const md = new IncrementalMarkdown(container);
  let state = seed;
  for (let i = 0; i < markdown.length;) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const size = 1 + (state % longest);
    md.append(markdown.slice(i, i + size));
    md.render();
    i += size;
  }
  md.render(true);
  return container;
}

describe("live rendering matches the shared fixture", () => {
  it.each(cases)("one-shot: $name", ({ markdown, expected }) => {
    expect(structure(renderMarkdown(markdown))).toEqual(expected);
  });

  it.each(cases)("streamed token by token: $name", ({ markdown, expected }) => {
    for (const [seed, longest] of [[1, 3], [7, 6]]) {
      expect(structure(streamed(markdown, seed, longest))).toEqual(expected);
    }
  });
});

describe("streaming ends where a one-shot render does", () => {
  it("an answer made of every fixture case, streamed, equals its one-shot render", () => {
    const answer = cases.map((c) => c.markdown).join("\n\n");
    const oneShot = structure(renderMarkdown(answer));
    expect(structure(streamed(answer, 3, 24))).toEqual(oneShot);
  }, 30_000);

  it("keeps finished blocks while a loose list goes on after a blank line", () => {
    const container = document.createElement("div");
    const md = new IncrementalMarkdown(container);
    md.append("Intro\n\n1. one\n\n2. two\n\n");
    md.render();
    const intro = container.querySelector("p")!;
    md.append("3. three\n\nAfter\n\nmore");
    md.render();
    expect(container.querySelector("p")).toBe(intro);
    expect(container.querySelectorAll("ol").length).toBe(1);
    expect(container.querySelectorAll("ol > li").length).toBe(3);
  });
});
