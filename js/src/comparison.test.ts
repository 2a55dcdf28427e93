import { afterEach, describe, expect, it } from "vitest";
import widget from "./widget";

type Handler = () => void;

// A comparison model as the kernel sets it; the front end only reads it and sends Stop.
class FakeComparison {
  sent: unknown[] = [];
  private handlers = new Map<string, Set<Handler>>();
  constructor(public state: Record<string, unknown>) {}
  get(key: string): unknown {
    return this.state[key];
  }
  set(): void {
    throw new Error("the front end must not write synced traits");
  }
  on(event: string, handler: Handler): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(handler);
  }
  off(event: string, handler: Handler): void {
    this.handlers.get(event)?.delete(handler);
  }
  send(content: unknown): void {
    this.sent.push(content);
  }
  kernelSets(changes: Record<string, unknown>): void {
    Object.assign(this.state, changes);
    for (const key of Object.keys(changes)) {
      for (const handler of this.handlers.get(`change:${key}`) ?? []) handler();
    }
  }
}

// anywidget's host: each column draws a stand-in answer with its own Stop button.
const requested: string[] = [];
const host = {
  async getWidget(ref: string) {
    requested.push(ref);
    return {
      exports: {},
      async render({ el }: { el: HTMLElement }) {
        const answer = document.createElement("div");
        answer.className = "streamchat";
        const stop = document.createElement("button");
        stop.className = "streamchat-stop";
        stop.setAttribute("aria-label", "Stop");
        answer.append(stop);
        el.append(answer);
      },
    };
  },
};

function comparison(): FakeComparison {
  return new FakeComparison({
    columns: ["IPY_MODEL_aaa", "IPY_MODEL_bbb"],
    stop_names: ["Stop gpt-a", "Stop gpt-b"],
    status: "streaming",
    kept: "Conversation 'default' continues with the answer of column 1 · gpt-a.",
  });
}

async function mount(model: FakeComparison, withHost = true) {
  const el = document.createElement("div");
  document.body.append(el);
  const props = {
    model,
    el,
    signal: new AbortController().signal,
    host: withHost ? host : undefined,
  };
  await widget.initialize({ model, signal: new AbortController().signal } as never);
  const cleanup = (await widget.render(props as never)) as () => void;
  return { el, cleanup };
}

const named = (el: HTMLElement, name: string) =>
  [...el.querySelectorAll("button")].filter((b) => b.getAttribute("aria-label") === name);

afterEach(() => {
  document.body.innerHTML = "";
  requested.length = 0;
});

describe("comparison", () => {
  it("draws each column through the host, in order, with distinct Stop names", async () => {
    const { el } = await mount(comparison());
    expect(requested).toEqual(["anywidget:aaa", "anywidget:bbb"]);
    const columns = [...el.querySelectorAll(".streamchat-compare-column")];
    expect(columns.map((c) => (c as HTMLElement).dataset.column)).toEqual(["1", "2"]);
    expect(named(el, "Stop")).toHaveLength(1);
    expect(named(el, "Stop gpt-a")).toHaveLength(1);
    expect(named(el, "Stop gpt-b")).toHaveLength(1);
    expect(el.querySelector(".streamchat-compare-kept")!.textContent).toContain("column 1 · gpt-a");
  });

  it("sends one stop for all, once, and hides the button when every column has ended", async () => {
    const model = comparison();
    const { el } = await mount(model);
    const [stop] = named(el, "Stop");
    stop.click();
    stop.click();
    expect(model.sent).toEqual([{ type: "stop" }]);
    expect(stop.disabled).toBe(true);
    model.kernelSets({ status: "done" });
    expect(stop.hidden).toBe(true);
  });

  it("says what it needs where the front end cannot draw child widgets", async () => {
    const { el } = await mount(comparison(), false);
    expect(el.querySelector(".streamchat-compare-columns")!.textContent).toContain(
      "anywidget 0.11",
    );
  });
});
