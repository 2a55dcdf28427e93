import { expect, it } from "vitest";
import { currentRenderer } from "./rendererSlot";
import { install } from "./runtime";

// Runs in its own module context: the renderer is not yet on the page.
it("renders plain text until the runtime provides Markdown, then swaps", () => {
  const container = document.createElement("div");
  let loaded = 0;
  const first = currentRenderer(
    container,
    () => {},
    () => (loaded += 1),
  );
  first.renderer.append("# <b>not</b> html");
  first.renderer.render();
  expect(container.querySelector("h1, b")).toBeNull();
  expect(container.textContent).toBe("# <b>not</b> html");

  install();
  expect(loaded).toBe(1);
  const second = currentRenderer(
    document.createElement("div"),
    () => {},
    () => (loaded += 1),
  );
  second.renderer.append("# Title");
  second.renderer.render();
  expect(loaded).toBe(1);
});
