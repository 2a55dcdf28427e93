// A chip for each value attached to the prompt (`%%chat --with`): its name, kind, shape,
// size, and the cut when the budget cut it. Text nodes only: names and kinds are the user's.

import { element, type Part, show, watch } from "../dom";
import type { ChatModel, Chip } from "../model";

/** The chip's facts in the order the static copy writes them (attachments.chips_line). */
export function chipFacts(chip: Chip): string {
  return [chip.kind, chip.shape, chip.size, chip.cut].filter((fact) => fact).join(" · ");
}

export function attachments(model: ChatModel): Part {
  const el = element("div", "streamchat-attachments");
  el.setAttribute("aria-label", "Attached values");

  const update = () => {
    const chips = model.get("attachments") || [];
    el.replaceChildren(
      ...chips.map((chip) => {
        const node = element("span", "streamchat-chip");
        node.classList.toggle("streamchat-chip-cut", chip.cut !== "");
        node.append(element("strong", "streamchat-chip-name", chip.name), `: ${chipFacts(chip)}`);
        node.title = chip.cut || `${chip.name}: ${chipFacts(chip)}`;
        return node;
      }),
    );
    show(el, chips.length > 0);
  };
  const dispose = watch(model, ["attachments"], update);
  return { nodes: [el], update, dispose };
}
