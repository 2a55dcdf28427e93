// The words the kernel and the front end share, defined once for TypeScript: an answer's
// statuses, where it came from (the badge), and the types of the custom messages.
// streamchat_widget/vocabulary.py is the Python side; tests/test_vocabulary.py compares them.

export const STATUSES = ["streaming", "done", "stopped", "error"] as const;
export type Status = (typeof STATUSES)[number];
export const STREAMING = "streaming" satisfies Status;

// A model's endpoint shows no badge.
export const SOURCES = ["", "offline demo", "replay"] as const;
export type SourceLabel = (typeof SOURCES)[number];

// Numbered deltas come from the kernel; the Stop click goes back, and so does a
// model's request for the deltas sent before it existed (`catch_up`).
export const MESSAGE_TYPES = ["delta", "stop", "catch_up"] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];
export const DELTA = "delta" satisfies MessageType;
export const STOP = "stop" satisfies MessageType;
export const CATCH_UP = "catch_up" satisfies MessageType;
