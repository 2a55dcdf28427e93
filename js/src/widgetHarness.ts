// A stand-in for the page's widget machinery, shared by the view tests: a fake
// ipywidgets model and helpers that initialize and mount the chat view on it.
import widget, { type Model } from "./widget";

type Handler = (...args: unknown[]) => void;

// A stand-in for the ipywidgets model: traits the kernel sets, events, and a
// record of what the view sends. Writing a trait from the front end throws.
export class FakeModel {
  sent: unknown[] = [];
  private handlers = new Map<string, Set<Handler>>();
  constructor(public state: Model) {}
  get<K extends keyof Model>(key: K): Model[K] {
    return this.state[key];
  }
  set(): void {
    throw new Error("the front end must not write synced traits");
  }
  save_changes(): void {
    throw new Error("the front end must not write synced traits");
  }
  on(event: string, handler: Handler): void {
    const handlers = this.handlers.get(event) ?? new Set<Handler>();
    handlers.add(handler);
    this.handlers.set(event, handlers);
  }
  off(event: string, handler: Handler): void {
    this.handlers.get(event)?.delete(handler);
  }
  send(content: unknown): void {
    this.sent.push(content);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const handler of this.handlers.get(event) ?? []) handler(...args);
  }
  kernelSets(changes: Partial<Model>): void {
    Object.assign(this.state, changes);
    for (const key of Object.keys(changes)) this.emit(`change:${key}`);
  }
  delta(seq: number, text: string, extra: Record<string, string> = {}): void {
    this.emit("msg:custom", { type: "delta", seq, text, ...extra });
  }
}

let answers = 0;

export function newModel(): FakeModel {
  answers += 1;
  return new FakeModel({
    answer_id: `answer-${answers}`,
    status: "streaming",
    model_name: "gpt-test",
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
}

export async function mount(model: FakeModel): Promise<{ el: HTMLElement; cleanup: () => void }> {
  const el = document.createElement("div");
  document.body.append(el);
  const props = { model, el, signal: new AbortController().signal } as never;
  const cleanup = (await widget.render(props)) as () => void;
  return { el, cleanup };
}

export async function setup(model = newModel()) {
  await widget.initialize({ model, signal: new AbortController().signal } as never);
  return model;
}
