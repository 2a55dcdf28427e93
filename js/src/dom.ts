// Small DOM helpers shared by the parts of the chat view.

import type { ChatModel, Model } from "./model";

/** One piece of the view: its nodes in page order, a redraw, and its cleanup. */
export interface Part {
  readonly nodes: HTMLElement[];
  update(): void;
  dispose(): void;
}

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text) node.textContent = text;
  return node;
}

export function button(className: string, text: string, label = ""): HTMLButtonElement {
  const node = element("button", className, text);
  node.type = "button";
  if (label) node.setAttribute("aria-label", label);
  return node;
}

export function show(node: HTMLElement, visible: boolean): void {
  node.hidden = !visible;
}

export const nextFrame: (callback: () => void) => void =
  typeof requestAnimationFrame === "function"
    ? (callback) => requestAnimationFrame(() => callback())
    : (callback) => setTimeout(callback, 16);

/** Call `update` whenever one of `traits` changes; returns the unsubscribe. */
export function watch(model: ChatModel, traits: (keyof Model)[], update: () => void): () => void {
  for (const trait of traits) model.on(`change:${trait}`, update);
  return () => {
    for (const trait of traits) model.off(`change:${trait}`, update);
  };
}

export async function copyText(target: HTMLButtonElement, text: string): Promise<void> {
  // The clipboard is missing outside secure contexts and may refuse (an iframe
  // without permission): then the button does nothing rather than throw.
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    return;
  }
  const label = target.textContent;
  target.textContent = "Copied";
  setTimeout(() => {
    target.textContent = label;
  }, 1500);
}
