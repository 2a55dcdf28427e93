// The synced traits of `ChatWidget` (streamchat_widget/widget.py), as the view reads them.

import type { AnyModel } from "@anywidget/types";
import type { Status } from "./vocabulary";

export interface Model {
  answer_id: string;
  status: Status;
  model_name: string;
  conversation: string;
  max_height: number;
  badge: string;
  notice: string;
  attachments?: Chip[]; // absent in widget state saved before values could be attached
  retrying: string;
  error: { title?: string; message?: string; hint?: string };
  finish_reason: string;
  usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  stats: { ttft_s?: number; elapsed_s?: number; tokens_per_s?: number };
  /** The front end's own words for what to do when Stop is not heard; "" for Jupyter's. */
  stop_hint?: string;
}

/** One attached value, as `attachments.py` describes it; empty strings for facts it lacks. */
export interface Chip {
  name: string;
  kind: string;
  shape: string;
  size: string;
  cut: string;
}

export type ChatModel = AnyModel<Model>;
