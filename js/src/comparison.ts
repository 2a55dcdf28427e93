// The comparison view: what enters the conversation, the Stop for every column, then
// a column per model. Each column is a chat answer model of its own, drawn by its own
// view through anywidget's host (status, figures, error card and per-column Stop
// included), so this view only lays them out and sends the one Stop for all:
// {type: "stop"} on its own model. It never writes a trait either.

import type { AnyModel, RenderProps } from "@anywidget/types";
import { button, element, show } from "./dom";
import { STOP, STREAMING, type Status } from "./vocabulary";

/** The synced traits of `ComparisonWidget` (streamchat_widget/comparison_widget.py). */
export interface ComparisonModel {
  columns: string[]; // widget references ("IPY_MODEL_<id>") of the columns' chat models
  stop_names: string[];
  status: Status;
  kept: string;
}

export function isComparison(model: AnyModel): boolean {
  return Array.isArray(model.get("columns"));
}

// ipywidgets serializes a child model as "IPY_MODEL_<id>"; anywidget's host takes "anywidget:<id>".
const IPY_MODEL = "IPY_MODEL_";
const hostRef = (ref: string) =>
  ref.startsWith(IPY_MODEL) ? `anywidget:${ref.slice(IPY_MODEL.length)}` : ref;

const NO_HOST = "Showing these columns needs anywidget 0.11 or newer in this front end.";

export async function renderComparison({
  model,
  el,
  host,
  signal,
}: RenderProps<ComparisonModel>): Promise<() => void> {
  const root = element("div", "streamchat-compare");
  const top = element("div", "streamchat-compare-top");
  const kept = element("div", "streamchat-compare-kept");
  // The one button named exactly "Stop": every column's own is "Stop <model>".
  const stopAll = button("streamchat-stop streamchat-stop-all", "Stop", "Stop");
  stopAll.title = "Stop every column";
  top.append(kept, stopAll);
  const grid = element("div", "streamchat-compare-columns");
  root.append(top, grid);
  el.append(root);

  stopAll.addEventListener("click", () => {
    model.send({ type: STOP });
    stopAll.disabled = true;
    stopAll.textContent = "Stopping…";
  });
  const update = () => {
    kept.textContent = model.get("kept");
    root.dataset.status = model.get("status");
    show(stopAll, model.get("status") === STREAMING);
  };
  model.on("change:kept", update);
  model.on("change:status", update);
  update();

  const names = model.get("stop_names");
  const cells = model.get("columns").map((_ref, index) => {
    const cell = element("div", "streamchat-compare-column");
    cell.dataset.column = String(index + 1);
    grid.append(cell);
    return cell;
  });
  if (!host) grid.textContent = NO_HOST;
  else {
    await Promise.all(
      model.get("columns").map(async (ref, index) => {
        const column = await host.getWidget(hostRef(ref));
        await column.render({ el: cells[index], signal });
        cells[index].querySelector(".streamchat-stop")?.setAttribute("aria-label", names[index]);
      }),
    );
  }
  return () => {
    model.off("change:kept", update);
    model.off("change:status", update);
    root.remove();
  };
}
