// The chat answer view. It only reads synced traits and never writes one (a
// front-end trait write during an async cell stalls later syncs on ipykernel
// 7.4); the Stop click is the one message it sends: {type: "stop"}.
// Model output is untrusted: it enters the page as text nodes, or as Markdown
// through the sanitizing renderer (see rendererSlot.ts and markdown.ts).
// `initialize` owns the model's stream buffer; `render` puts the parts together
// (parts/: header, attached values, answer with its scroll follower, error card, footer,
// Stop control), each of which watches only the traits it shows. A model with `columns` is
// a comparison of several answers (comparison.ts), each column a chat model drawn by this view.

import type { AnyModel, Initialize, Render, RenderProps } from "@anywidget/types";
import { catchUp } from "./catchUp";
import { type ComparisonModel, isComparison, renderComparison } from "./comparison";
import { element, watch } from "./dom";
import type { Model } from "./model";
import { answer } from "./parts/answer";
import { attachments } from "./parts/attachments";
import { errorCard } from "./parts/errorCard";
import { footer } from "./parts/footer";
import { header } from "./parts/header";
import { stopControl } from "./parts/stopControl";
import { type Delta, dropStore, storeFor } from "./store";
import { DELTA, STREAMING } from "./vocabulary";

export type { Model } from "./model";
export { FRAME_BUDGET_MS, FRAME_TEXT_CHARS, feedLength } from "./parts/answer";
export { STOP_HINT_DELAY_MS } from "./parts/stopControl";

const isDelta = (msg: unknown): msg is Delta =>
  typeof msg === "object" && msg !== null && (msg as { type?: unknown }).type === DELTA;

const initialize: Initialize<Model> = ({ model }) => {
  if (isComparison(model as AnyModel)) return; // its columns are chat models of their own
  const store = storeFor(model.get("answer_id"));
  const onMessage = (msg: unknown) => {
    if (isDelta(msg) && model.get("status") === STREAMING) store.receive(msg);
  };
  const onStatus = () => {
    if (model.get("status") !== STREAMING) store.close();
  };
  model.on("msg:custom", onMessage);
  model.on("change:status", onStatus);
  onStatus();
  const stopCatchingUp = catchUp(model, store);
  return () => {
    stopCatchingUp();
    model.off("msg:custom", onMessage);
    model.off("change:status", onStatus);
    dropStore(model.get("answer_id"));
  };
};

const render: Render<Model> = (props) => {
  if (isComparison(props.model as AnyModel)) {
    return renderComparison(props as unknown as RenderProps<ComparisonModel>);
  }
  const { model, el } = props;
  const store = storeFor(model.get("answer_id"));
  const root = element("div", "streamchat");
  const stop = stopControl(model);
  const [stopButton, stopHint] = stop.nodes;
  const parts = [header(model), attachments(model), answer(model, store), errorCard(model)];
  const bottom = footer(model, store, stopButton);
  root.append(...parts.flatMap((part) => part.nodes), ...bottom.nodes, stopHint);
  parts.push(bottom, stop);
  el.append(root);

  const showStatus = () => {
    root.dataset.status = model.get("status");
  };
  const unwatch = watch(model, ["status"], showStatus);
  showStatus();
  for (const part of parts) part.update();
  return () => {
    unwatch();
    for (const part of parts) part.dispose();
    root.remove();
  };
};

export default { initialize, render };
