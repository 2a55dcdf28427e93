// The chat view with the runtime's renderer: formulas are typeset while the answer streams.
import { afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { install } from "./runtime";
import widget, { type Model } from "./widget";

type Handler = (...args: unknown[]) => void;

/** The least of an ipywidgets model the view reads: traits, events, custom messages. */
function fakeModel(state: Model) {
  const handlers = new Map<string, Set<Handler>>();
  return {
    get: <K extends keyof Model>(key: K) => state[key],
    on: (event: string, handler: Handler) => {
      handlers.set(event, (handlers.get(event) ?? new Set()).add(handler));
    },
    off: (event: string, handler: Handler) => handlers.get(event)?.delete(handler),
    send: () => {},
    delta: (seq: number, text: string) => {
      for (const handler of handlers.get("msg:custom") ?? []) handler({ type: "delta", seq, text });
    },
  };
}

beforeEach(() => vi.useFakeTimers());
beforeAll(() => install());
afterEach(() => {
  vi.useRealTimers();
  document.body.innerHTML = "";
});

it("typesets math while the answer streams, never a half formula", async () => {
  const model = fakeModel({
    answer_id: "math-answer",
    status: "streaming",
    model_name: "m",
    conversation: "",
    max_height: 480,
    badge: "",
    notice: "",
    retrying: "",
    error: {},
    finish_reason: "",
    usage: {},
    stats: {},
  });
  await widget.initialize({ model, signal: new AbortController().signal } as never);
  const el = document.createElement("div");
  document.body.append(el);
  await widget.render({ model, el, signal: new AbortController().signal } as never);
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
