// Model-level state of one answer: the streamed pieces in sequence order.
// It lives with the model (not the view) so every view of one answer shows the
// same text, and a view created mid-stream starts from what has arrived.

import type { DELTA } from "./vocabulary";

export type Channel = "text" | "reasoning" | "refusal";
export const CHANNELS: Channel[] = ["text", "reasoning", "refusal"];

export interface Delta {
  type: typeof DELTA;
  seq: number;
  /** A catch-up delta covers `first`..`seq` (see catchUp.ts); others cover `seq` alone. */
  first?: number;
  pieces?: number;
  text?: string;
  reasoning?: string;
  refusal?: string;
}

export type Piece = { channel: Channel; text: string };
type Listener = (pieces: Piece[]) => void;

// Deltas held back waiting for a missing earlier one; beyond this, stop waiting.
const MAX_HELD = 256;

export class Store {
  readonly parts: Record<Channel, string[]> = { text: [], reasoning: [], refusal: [] };
  /** When the page first heard of the answer: its views' clock and first-token time start here,
   * not when each view was drawn (the first text can arrive before a view exists). */
  readonly openedAt = performance.now();
  /** Pieces (about one token each) streamed so far, and when the first and latest arrived. */
  pieces = 0;
  firstAt: number | null = null;
  latestAt: number | null = null;
  private lastSeq = 0;
  private held = new Map<number, Delta>();
  private listeners = new Set<Listener>();
  private closed = false;
  private askedAfter = -1;
  /** Called once per gap with the last sequence number applied: deltas after it are missing. */
  onGap: (after: number) => void = () => {};

  /** The last sequence number applied: every delta up to it has been shown. */
  get applied(): number {
    return this.lastSeq;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  full(channel: Channel): string {
    return this.parts[channel].join("");
  }

  /** Apply a delta in sequence order; duplicates are dropped, early ones held. */
  receive(delta: Delta): void {
    const first = delta.first ?? delta.seq;
    // A catch-up that overlaps what has been applied came after the deltas it covers.
    if (this.closed || first <= this.lastSeq) return;
    this.held.set(first, delta);
    if (this.held.size > MAX_HELD) this.lastSeq = Math.min(...this.held.keys()) - 1;
    const pieces: Piece[] = [];
    for (let next = this.held.get(this.lastSeq + 1); next; next = this.held.get(this.lastSeq + 1)) {
      this.held.delete(next.seq);
      this.lastSeq = next.seq;
      this.pieces = next.pieces ?? this.pieces;
      this.latestAt = performance.now();
      this.firstAt ??= this.latestAt;
      for (const channel of CHANNELS) {
        const text = next[channel];
        if (typeof text === "string" && text) {
          this.parts[channel].push(text);
          pieces.push({ channel, text });
        }
      }
    }
    for (const key of this.held.keys()) if (key <= this.lastSeq) this.held.delete(key);
    if (this.held.size && this.askedAfter !== this.lastSeq) {
      this.askedAfter = this.lastSeq;
      this.onGap(this.lastSeq);
    }
    if (!pieces.length) return;
    for (const listener of this.listeners) listener(pieces);
  }

  /** The answer ended: the kernel flushed everything before saying so, so later deltas are late. */
  close(): void {
    this.closed = true;
    this.held.clear();
  }
}

// Keyed by the answer's id trait, not by the model object: anywidget hands
// `initialize` and each `render` different wrappers of the same model.
const stores = new Map<string, Store>();

export function storeFor(answerId: string): Store {
  let store = stores.get(answerId);
  if (!store) {
    store = new Store();
    stores.set(answerId, store);
  }
  return store;
}

export function dropStore(answerId: string): void {
  stores.delete(answerId);
}
