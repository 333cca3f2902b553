// The volley runtime: the two value encodings, JSON (`volley.v1.json`) and MessagePack
// (`volley.v1.msgpack`), with 64-bit integers kept exact in both (PROTOCOL.md section 3).
// Copied verbatim into every SDK by `volley generate typescript`: edit
// templates/typescript/runtime/ in the volley repository, not a copy.

import { Decoder, Encoder } from "@msgpack/msgpack";

import { ErrorCode, VolleyError } from "./errors.js";
import type { Encoding, Frame } from "./frames.js";

/**
 * A 64-bit (or wider) integer. A value within ±(2^53 − 1) arrives as a `number`, a
 * larger one as a `bigint`, so no precision is ever lost; you may send either.
 */
export type WideInt = number | bigint;

/**
 * Bytes (Rust's `Vec<u8>`). JSON carries them as a list of numbers, MessagePack as a
 * list or a binary; they are always sent as a list, which every Rust server accepts.
 */
export type Bytes = Uint8Array | number[];

/** How frames go on the wire in one encoding. */
export interface Codec {
  readonly subprotocol: string;
  readonly binary: boolean;
  encode(frame: Frame): string | Uint8Array;
  decode(data: string | Uint8Array): unknown;
}
/** Replaces byte arrays by lists, which serde accepts for both `Vec<u8>` and `serde_bytes`. */
function prepare(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(prepare);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = prepare(v);
    return out;
  }
  return value;
}

/** JSON text of a value; bigints are written as plain integers. */
export function stringifyJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (value instanceof Uint8Array) return `[${Array.from(value).join(",")}]`;
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === "function" ? "null" : stringifyJson(v))).join(",")}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined || typeof v === "function") continue;
        parts.push(`${JSON.stringify(k)}:${stringifyJson(v)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      return "null";
  }
}

/**
 * Parses JSON without losing integers: one beyond ±(2^53 − 1) becomes a `bigint`.
 * Text without a long run of digits goes through the fast `JSON.parse`.
 */
export function parseJson(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  let i = 0;
  const fail = (): never => {
    throw new SyntaxError(`invalid JSON at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (text[i] === "}") { i++; return out; }
      for (;;) {
        ws();
        if (text[i] !== "\"") fail();
        const key = string();
        ws();
        if (text[i++] !== ":") fail();
        out[key] = value();
        ws();
        const d = text[i++];
        if (d === "}") return out;
        if (d !== ",") fail();
      }
    }
    if (c === "[") {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === "]") { i++; return out; }
      for (;;) {
        out.push(value());
        ws();
        const d = text[i++];
        if (d === "]") return out;
        if (d !== ",") fail();
      }
    }
    if (c === "\"") return string();
    if (text.startsWith("true", i)) { i += 4; return true; }
    if (text.startsWith("false", i)) { i += 5; return false; }
    if (text.startsWith("null", i)) { i += 4; return null; }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail();
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    return Number(m[0]);
  };
  const string = (): string => {
    const start = i++;
    while (i < text.length && text[i] !== "\"") i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const out = value();
  ws();
  if (i !== text.length) fail();
  return out;
}

/** Turns bigints that fit a double back into numbers, so both encodings agree. */
function normalize(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = normalize(value[i]);
    return value;
  }
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    const record = value as Record<string, unknown>;
    for (const k of Object.keys(record)) record[k] = normalize(record[k]);
  }
  return value;
}

export const jsonCodec: Codec = {
  subprotocol: "volley.v1.json",
  binary: false,
  encode: (frame) => stringifyJson(frame),
  decode: (data) => {
    if (typeof data !== "string") throw new VolleyError(ErrorCode.WRONG_ENCODING, "a binary frame on volley.v1.json");
    return parseJson(data);
  },
};

export function msgpackCodec(): Codec {
  const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
  const decoder = new Decoder({ useBigInt64: true });
  return {
    subprotocol: "volley.v1.msgpack",
    binary: true,
    encode: (frame) => encoder.encode(prepare(frame)),
    decode: (data) => {
      if (typeof data === "string") throw new VolleyError(ErrorCode.WRONG_ENCODING, "a text frame on volley.v1.msgpack");
      return normalize(decoder.decode(data));
    },
  };
}

export const SUBPROTOCOLS: Record<Encoding, string> = { json: "volley.v1.json", msgpack: "volley.v1.msgpack" };

/** The codec of a negotiated subprotocol, or undefined for one that is not volley's. */
export function codecFor(subprotocol: string): Codec | undefined {
  if (subprotocol === SUBPROTOCOLS.json) return jsonCodec;
  if (subprotocol === SUBPROTOCOLS.msgpack) return msgpackCodec();
  return undefined;
}
