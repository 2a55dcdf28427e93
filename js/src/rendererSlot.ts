// The Markdown renderer reaches chat views through the page, not their bundle:
// anywidget sends a widget's whole ESM with every instance, and the renderer
// (marked, DOMPurify, highlight.js) is ~30x the size of the chat view. The
// runtime model, created once per kernel, provides it; views render plain
// text until it has arrived.

export interface Renderer {
  readonly text: string;
  append(text: string): void;
  /** True when work is left for another call (only when `budgetMs` cut it short). */
  render(final?: boolean, budgetMs?: number): boolean;
}

export type RendererFactory = (
  container: HTMLElement,
  decorate: (block: HTMLElement) => void,
) => Renderer;

interface Slot {
  factory?: RendererFactory;
  waiters: Set<(factory: RendererFactory) => void>;
}

const KEY = "__streamchat_markdown_renderer__";

function slot(): Slot {
  const page = globalThis as unknown as Record<string, Slot | undefined>;
  const shared = page[KEY] ?? { waiters: new Set() };
  page[KEY] = shared;
  return shared;
}

export function provideRenderer(factory: RendererFactory): void {
  const shared = slot();
  shared.factory ??= factory;
  for (const waiter of shared.waiters) waiter(shared.factory);
  shared.waiters.clear();
}

/** The renderer if loaded, else plain text; `onLoad` fires once if it arrives later. */
export function currentRenderer(
  container: HTMLElement,
  decorate: (block: HTMLElement) => void,
  onLoad: () => void,
): { renderer: Renderer; cancel: () => void } {
  const shared = slot();
  if (shared.factory) return { renderer: shared.factory(container, decorate), cancel: () => {} };
  const waiter = () => onLoad();
  shared.waiters.add(waiter);
  return { renderer: new PlainText(container), cancel: () => shared.waiters.delete(waiter) };
}

/** Whitespace-preserving text, appended as text nodes: never HTML. */
class PlainText implements Renderer {
  text = "";
  private pending = "";

  constructor(private readonly container: HTMLElement) {
    container.classList.add("streamchat-plain");
  }

  append(text: string): void {
    this.text += text;
    this.pending += text;
  }

  render(): boolean {
    if (this.pending) this.container.append(document.createTextNode(this.pending));
    this.pending = "";
    return false;
  }
}
