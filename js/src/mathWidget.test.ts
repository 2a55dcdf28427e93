// The chat view with the runtime's renderer: formulas are typeset while the answer streams.
import { afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { install } from "./runtime";
import { mount, setup } from "./widgetHarness";

beforeEach(() => vi.useFakeTimers());
beforeAll(() => install());
afterEach(() => {
  vi.useRealTimers();
  document.body.innerHTML = "";
});

it("typesets math while the answer streams, never a half formula", async () => {
  const model = await setup();
  const { el } = await mount(model);
  const live = () => el.querySelector('.streamchat[data-status="streaming"] .streamchat-answer')!;

  const pieces = [
    "It costs $5. The mean $\\bar",
    "{x}$ is ",
    "\\[\\frac{1}",
    "{n}\\sum_i x_i\\]",
    " ok",
  ];
  pieces.forEach((piece, i) => {
    model.delta(i + 1, piece);
    vi.advanceTimersByTime(50);
    expect(live().querySelector(".streamchat-math-error")).toBeNull();
    expect(live().textContent).not.toMatch(/\\\[|\\frac|\$\\bar/);
  });
  expect(live().querySelectorAll(".katex").length).toBe(2);
  expect(live().querySelector(".streamchat-math-display .katex-display")).not.toBeNull();
  expect(live().textContent).toContain("It costs $5. The mean");
});
