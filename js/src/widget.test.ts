import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { install } from "./runtime";
import { FRAME_BUDGET_MS, FRAME_TEXT_CHARS, feedLength, STOP_HINT_DELAY_MS } from "./widget";
import { mount, newModel, setup } from "./widgetHarness";

const answerText = (el: HTMLElement) => el.querySelector(".streamchat-answer")!.textContent!.trim();
const stopButton = (el: HTMLElement) =>
  [...el.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === "Stop");

beforeEach(() => vi.useFakeTimers());
beforeAll(() => install());
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  document.body.innerHTML = "";
});

describe("streaming", () => {
  it("shows a Stop button before any token arrives", async () => {
    const model = await setup();
    const { el } = await mount(model);
    const root = el.querySelector(".streamchat") as HTMLElement;
    expect(root.dataset.status).toBe("streaming");
    const stop = stopButton(el)!;
    expect(stop.tagName).toBe("BUTTON");
    expect(stop.textContent).toBe("Stop");
    expect(stop.hidden).toBe(false);
  });

  it("appends deltas in sequence order, holding early ones and dropping duplicates", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.delta(1, "Hello");
    model.delta(3, "!");
    model.delta(1, "Hello");
    model.delta(2, " world");
    vi.advanceTimersByTime(50);
    expect(answerText(el)).toBe("Hello world!");
  });

  it("inserts model output as text, never as HTML", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.delta(1, '<img src=x onerror="window.__xss=1">');
    vi.advanceTimersByTime(50);
    expect(el.querySelector("img")).toBeNull();
    expect(answerText(el)).toBe('<img src=x onerror="window.__xss=1">');
    model.delta(2, "\n\n[click](javascript:alert(1))");
    vi.advanceTimersByTime(50);
    // Plain text until the renderer arrives: the link stays its Markdown source.
    expect(el.querySelector(".streamchat-answer a")).toBeNull();
    expect(answerText(el)).toContain("[click](javascript:alert(1))");
  });

  it("batches text into the DOM once per frame", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.delta(1, "a");
    model.delta(2, "b");
    expect(answerText(el)).toBe("");
    vi.advanceTimersByTime(50);
    expect(answerText(el)).toBe("ab");
  });

  it("renders Markdown as it streams, with a Copy button on each finished code block", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.delta(1, "# Title\n\n- one\n- two\n\n```python\nprint(1)\n```\n\n");
    model.delta(2, "more");
    vi.advanceTimersByTime(50);
    expect(el.querySelector(".streamchat-answer h1")!.textContent).toBe("Title");
    expect(el.querySelectorAll(".streamchat-answer li").length).toBe(2);
    expect(el.querySelector(".streamchat-answer pre code.language-python")).not.toBeNull();
    expect(el.querySelector(".streamchat-code-copy")!.getAttribute("aria-label")).toBe("Copy code");
  });

  it("draws a burst of text over several frames, a budget's worth each, and all of it", async () => {
    let now = 0;
    vi.spyOn(performance, "now").mockImplementation(() => (now += FRAME_BUDGET_MS)); // each look costs a budget
    const model = await setup();
    const { el } = await mount(model);
    const burst = Array.from({ length: 30 }, (_, i) => `## Part ${i}\n\n${"word ".repeat(80)}\n\n`);
    model.delta(1, `${burst.join("")}tail`);
    vi.advanceTimersByTime(20);
    const drawn = el.querySelectorAll(".streamchat-answer h2").length;
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThan(burst.length);
    vi.advanceTimersByTime(1000);
    expect(el.querySelectorAll(".streamchat-answer h2").length).toBe(burst.length);
    expect(answerText(el).endsWith("tail")).toBe(true);
    model.kernelSets({ status: "done" });
    vi.advanceTimersByTime(1000);
    expect(el.querySelector(".streamchat-tail")!.textContent).toBe("");
    expect(el.querySelectorAll(".streamchat-answer h2").length).toBe(burst.length);
  });

  it("hands the renderer a burst a bounded piece per frame, and ends with all of it", async () => {
    const model = await setup();
    const { el } = await mount(model);
    const burst = Array.from(
      { length: 200 },
      (_, i) => `## Part ${i}\n\n${"word ".repeat(40)}\n\n`,
    );
    model.delta(1, burst.join(""));
    vi.advanceTimersByTime(20);
    const first = answerText(el).length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(FRAME_TEXT_CHARS);
    model.kernelSets({ status: "done" });
    vi.advanceTimersByTime(2000);
    expect(el.querySelectorAll(".streamchat-answer h2").length).toBe(burst.length);
    expect(el.querySelector(".streamchat-tail")!.textContent).toBe("");
  });

  it("cuts the text it hands the renderer after a line end, never inside a surrogate pair", () => {
    expect(feedLength("short", 10)).toBe(5);
    expect(feedLength("ab\ncd\nefgh", 7)).toBe(6);
    expect(feedLength("abcdefgh", 4)).toBe(4);
    expect(feedLength("abc\u{1F600}def", 4)).toBe(3);
  });

  it("times the first token from when the answer began, also in a view drawn after it", async () => {
    const model = await setup();
    vi.advanceTimersByTime(100);
    model.delta(1, "early ");
    vi.advanceTimersByTime(300);
    const { el } = await mount(model);
    vi.advanceTimersByTime(250);
    const metrics = el.querySelector(".streamchat-metrics")!.textContent!;
    expect(metrics).toContain("first token 0.10 s");
    expect(metrics.startsWith("0.6 s")).toBe(true);
  });

  it("shows the same text in two views, and a late view starts from the text so far", async () => {
    const model = await setup();
    const first = await mount(model);
    model.delta(1, "early ");
    const late = await mount(model);
    model.delta(2, "later");
    vi.advanceTimersByTime(50);
    expect(answerText(first.el)).toBe("early later");
    expect(answerText(late.el)).toBe("early later");
  });

  it("streams reasoning into an open Thinking section that folds when the answer starts", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.delta(1, "", { reasoning: "pondering" });
    vi.advanceTimersByTime(50);
    const details = el.querySelector("details.streamchat-reasoning") as HTMLDetailsElement;
    expect(details.hidden).toBe(false);
    expect(details.open).toBe(true);
    expect(details.textContent).toContain("pondering");
    model.delta(2, "Answer");
    vi.advanceTimersByTime(50);
    expect(details.open).toBe(false);
  });
});

describe("chrome", () => {
  it("names the model and the conversation in the header", async () => {
    const model = newModel();
    model.state.conversation = "sql";
    await setup(model);
    const { el } = await mount(model);
    expect(el.querySelector(".streamchat-model")!.textContent).toBe("gpt-test");
    expect(el.querySelector(".streamchat-conversation")!.textContent).toBe("sql");
  });

  it("stops following the stream when the reader scrolls up, and jumps back on request", async () => {
    const model = await setup();
    const { el } = await mount(model);
    const scroll = el.querySelector(".streamchat-scroll") as HTMLElement;
    let top = 0;
    Object.defineProperty(scroll, "scrollHeight", { configurable: true, get: () => 1000 });
    Object.defineProperty(scroll, "clientHeight", { configurable: true, get: () => 200 });
    Object.defineProperty(scroll, "scrollTop", {
      configurable: true,
      get: () => top,
      set: (value: number) => (top = Math.min(value, 800)),
    });
    const jump = el.querySelector(".streamchat-jump") as HTMLButtonElement;
    model.delta(1, "first");
    vi.advanceTimersByTime(50);
    expect(top).toBe(800);
    top = 100;
    scroll.dispatchEvent(new Event("scroll"));
    expect(jump.hidden).toBe(false);
    model.delta(2, " more");
    vi.advanceTimersByTime(50);
    expect(top).toBe(100);
    jump.click();
    expect(top).toBe(800);
    expect(jump.hidden).toBe(true);
  });
});

describe("retries", () => {
  it("says it is retrying while the client retries", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.kernelSets({ retrying: "retrying… (attempt 2)" });
    expect(el.querySelector(".streamchat-status")!.textContent).toBe("retrying… (attempt 2)");
    model.kernelSets({ status: "error", retrying: "" });
    expect(el.querySelector(".streamchat-status")!.textContent).toBe("error");
  });
});

describe("Stop", () => {
  it("sends exactly one stop message and says it is stopping", async () => {
    const model = await setup();
    const { el } = await mount(model);
    const stop = stopButton(el)!;
    stop.click();
    stop.click();
    expect(model.sent).toEqual([{ type: "stop" }]);
    expect(stop.textContent).toBe("Stopping…");
    expect(stop.getAttribute("aria-label")).toBe("Stop");
    expect(stop.disabled).toBe(true);
  });

  it("points to Kernel ▸ Interrupt when the kernel does not answer the click", async () => {
    const model = await setup();
    const { el } = await mount(model);
    stopButton(el)!.click();
    const hint = el.querySelector(".streamchat-hint") as HTMLElement;
    vi.advanceTimersByTime(STOP_HINT_DELAY_MS - 100);
    expect(hint.hidden).toBe(true);
    vi.advanceTimersByTime(200);
    expect(hint.hidden).toBe(false);
    expect(hint.textContent).toContain("Kernel ▸ Interrupt");
  });

  it("says what the front end at hand offers when the kernel gave its words", async () => {
    const model = await setup();
    model.state.stop_hint = "interrupt the cell with its ■ button.";
    const { el } = await mount(model);
    stopButton(el)!.click();
    vi.advanceTimersByTime(STOP_HINT_DELAY_MS + 100);
    const hint = el.querySelector(".streamchat-hint") as HTMLElement;
    expect(hint.textContent).toBe("interrupt the cell with its ■ button.");
  });

  it("shows no hint when the kernel stops the answer in time", async () => {
    const model = await setup();
    const { el } = await mount(model);
    stopButton(el)!.click();
    model.kernelSets({ status: "stopped" });
    vi.advanceTimersByTime(STOP_HINT_DELAY_MS + 100);
    expect((el.querySelector(".streamchat-hint") as HTMLElement).hidden).toBe(true);
  });
});

describe("a model made after the first deltas (marimo, a reloaded page)", () => {
  it("asks once for what it missed and shows it before what came after", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.delta(3, "three ");
    model.delta(4, "four ");
    expect(model.sent).toEqual([{ type: "catch_up", after: 0 }]);
    expect(answerText(el)).toBe("");
    model.emit("msg:custom", { type: "delta", first: 1, seq: 4, text: "one two three four " });
    model.delta(5, "five");
    await vi.runOnlyPendingTimersAsync();
    expect(answerText(el)).toBe("one two three four five");
    expect(model.sent).toHaveLength(1);
  });

  it("drops a catch-up that overlaps deltas which arrived after all", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.delta(2, "two ");
    model.delta(1, "one ");
    model.emit("msg:custom", { type: "delta", first: 1, seq: 2, text: "one two " });
    model.delta(3, "three");
    await vi.runOnlyPendingTimersAsync();
    expect(answerText(el)).toBe("one two three");
  });

  it("asks nothing once the answer has ended", async () => {
    const model = await setup();
    model.kernelSets({ status: "done" });
    model.delta(2, "late");
    expect(model.sent).toEqual([]);
  });
});

describe("the end of the stream", () => {
  it("mirrors the status, swaps Stop for Copy, and ignores late deltas", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.delta(1, "partial answer");
    vi.advanceTimersByTime(50);
    model.kernelSets({ status: "stopped" });
    model.delta(2, "late delta");
    vi.advanceTimersByTime(50);
    expect((el.querySelector(".streamchat") as HTMLElement).dataset.status).toBe("stopped");
    expect(answerText(el)).toBe("partial answer");
    expect((el.querySelector(".streamchat-stop") as HTMLElement).hidden).toBe(true);
    const copy = el.querySelector(".streamchat-copy") as HTMLButtonElement;
    expect(copy.hidden).toBe(false);
    expect(el.querySelector(".streamchat-status")!.textContent).toBe("stopped");
  });

  it("shows an error card under the partial text", async () => {
    const model = await setup();
    const { el } = await mount(model);
    model.delta(1, "kept");
    vi.advanceTimersByTime(50);
    model.kernelSets({
      status: "error",
      error: { title: "Rate limited (429)", message: "slow down", hint: "wait" },
    });
    const card = el.querySelector(".streamchat-error") as HTMLElement;
    expect(card.hidden).toBe(false);
    expect(card.getAttribute("role")).toBe("alert");
    expect(card.textContent).toContain("Rate limited (429)");
    expect(answerText(el)).toBe("kept");
  });

  it("labels the offline demo model and notes a max-tokens truncation", async () => {
    const model = newModel();
    model.state.badge = "offline demo";
    await setup(model);
    const { el } = await mount(model);
    const badge = el.querySelector(".streamchat-badge") as HTMLElement;
    expect(badge.hidden).toBe(false);
    expect(badge.textContent).toBe("offline demo");
    model.kernelSets({ status: "done", finish_reason: "length" });
    expect((el.querySelector(".streamchat-truncated") as HTMLElement).hidden).toBe(false);
  });

  it("cleans up its timers and listeners", async () => {
    const model = await setup();
    const { el, cleanup } = await mount(model);
    stopButton(el)!.click();
    cleanup();
    expect(vi.getTimerCount()).toBe(0);
    expect(el.querySelector(".streamchat")).toBeNull();
  });
});

describe("Copy", () => {
  it("puts the raw streamed text on the clipboard", async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const model = await setup();
    const { el } = await mount(model);
    model.delta(1, "# Title\n\n- *item*");
    vi.advanceTimersByTime(50);
    model.kernelSets({ status: "done" });
    (el.querySelector(".streamchat-copy") as HTMLButtonElement).click();
    await vi.waitFor(() => expect(writeText).toHaveBeenCalledWith("# Title\n\n- *item*"));
  });

  it("stays quiet when the clipboard refuses or is missing", async () => {
    const writeText = vi.fn(async () => Promise.reject(new Error("denied")));
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const model = await setup();
    const { el } = await mount(model);
    model.kernelSets({ status: "done" });
    const copy = el.querySelector(".streamchat-copy") as HTMLButtonElement;
    copy.click();
    await vi.waitFor(() => expect(writeText).toHaveBeenCalled());
    Object.defineProperty(navigator, "clipboard", { value: undefined, configurable: true });
    copy.click();
    await vi.advanceTimersByTimeAsync(0);
    expect(copy.textContent).toBe("Copy");
  });
});
