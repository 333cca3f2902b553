// The volley runtime: frame kinds and the small shapes every other module shares
// (PROTOCOL.md section 4). Copied verbatim into every SDK by `volley generate
// typescript`: edit templates/typescript/runtime/ in the volley repository, not a copy.

/** Metadata: a map from string to string. Keys starting with `volley-` are reserved. */
export type Metadata = Record<string, string>;

/** What a client or bidirectional stream reads its items from. */
export type Streamable<T> = AsyncIterable<T> | Iterable<T>;

/** A value encoding: `volley.v1.json` or `volley.v1.msgpack`. */
export type Encoding = "json" | "msgpack";

/** The shape of a method: how many values go each way. */
export type MethodKind = "unary" | "server_stream" | "client_stream" | "bidi_stream";

/** One frame: an array starting with its kind. */
export type Frame = unknown[];

/** Frame kinds (PROTOCOL.md section 4). */
export const Kind = { CALL: 0, RESULT: 1, ERROR: 2, ITEM: 3, END: 4, CANCEL: 5, STOP: 6, CREDIT: 7, META: 8, WARNING: 9, NOTIFY: 10, STATE: 11 } as const;

/** The name of each frame kind, by number. */
export const KIND_NAMES = ["CALL", "RESULT", "ERROR", "ITEM", "END", "CANCEL", "STOP", "CREDIT", "META", "WARNING", "NOTIFY", "STATE"];

/** The credit window of a stream when none is set. */
export const DEFAULT_WINDOW = 32;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The string entries of a frame's metadata map; anything else is dropped. */
export function metadataOf(v: unknown): Metadata {
  if (!isRecord(v)) return {};
  const out: Metadata = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === "string") out[k] = val;
  return out;
}

export function isCallId(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}
