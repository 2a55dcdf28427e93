import { describe, expect, it } from "vitest";
import type { ChatModel, Chip } from "../model";
import { attachments, chipFacts } from "./attachments";

type Handler = () => void;

// Only what the chips part reads: the `attachments` trait and its change event.
function modelWith(chips: Chip[] | undefined) {
  const handlers = new Set<Handler>();
  const state = { attachments: chips };
  const model = {
    get: () => state.attachments,
    on: (_event: string, handler: Handler) => handlers.add(handler),
    off: (_event: string, handler: Handler) => handlers.delete(handler),
  } as unknown as ChatModel;
  const kernelSets = (next: Chip[]) => {
    state.attachments = next;
    for (const handler of handlers) handler();
  };
  return { model, kernelSets, handlers };
}

const frame: Chip = {
  name: "df",
  kind: "pandas DataFrame",
  shape: "3 rows × 2 columns",
  size: "~52 tokens",
  cut: "",
};

describe("attachment chips", () => {
  it("shows one chip per value, its facts in the saved copy's order", () => {
    const { model } = modelWith([frame, { ...frame, name: "n", kind: "int", shape: "" }]);
    const part = attachments(model);
    part.update();
    const [el] = part.nodes;
    expect(el.hidden).toBe(false);
    expect([...el.children].map((chip) => chip.textContent)).toEqual([
      "df: pandas DataFrame · 3 rows × 2 columns · ~52 tokens",
      "n: int · ~52 tokens",
    ]);
    expect(chipFacts(frame)).toBe("pandas DataFrame · 3 rows × 2 columns · ~52 tokens");
  });

  it("marks a cut chip and names the cut in its title", () => {
    const { model } = modelWith([{ ...frame, cut: "cut to 100 of 207 characters" }]);
    const part = attachments(model);
    part.update();
    const chip = part.nodes[0].querySelector(".streamchat-chip") as HTMLElement;
    expect(chip.classList.contains("streamchat-chip-cut")).toBe(true);
    expect(chip.title).toBe("cut to 100 of 207 characters");
  });

  it("puts names in as text, never as markup", () => {
    const { model } = modelWith([{ ...frame, name: "<img src=x onerror=alert(1)>" }]);
    const part = attachments(model);
    part.update();
    expect(part.nodes[0].querySelector("img")).toBeNull();
    expect(part.nodes[0].textContent).toContain("<img src=x onerror=alert(1)>: pandas");
  });

  it("is hidden with no values (or none in older saved state) and follows the trait", () => {
    const { model, kernelSets, handlers } = modelWith(undefined);
    const part = attachments(model);
    part.update();
    expect(part.nodes[0].hidden).toBe(true);
    kernelSets([frame]);
    expect(part.nodes[0].hidden).toBe(false);
    part.dispose();
    expect(handlers.size).toBe(0);
  });
});
