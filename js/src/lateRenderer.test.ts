import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { install } from "./runtime";
import { mount, setup } from "./widgetHarness";

// Runs in its own module context: the renderer is not on the page until the test installs it.
beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

it("keeps the plain text while the renderer loads, and draws Markdown in the next frame", async () => {
  const model = await setup();
  const { el } = await mount(model);
  model.delta(1, "# Title\n\nbody\n\n");
  vi.advanceTimersByTime(20);
  const answer = el.querySelector(".streamchat-answer") as HTMLElement;
  expect(answer.textContent).toBe("# Title\n\nbody\n\n");

  install();
  expect(answer.textContent).toBe("# Title\n\nbody\n\n");
  expect(answer.querySelector("h1")).toBeNull();
  vi.advanceTimersByTime(20);
  expect(answer.querySelector("h1")?.textContent).toBe("Title");
});
