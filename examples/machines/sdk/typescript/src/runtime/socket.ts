// The volley runtime: finding and opening a WebSocket — the global one (browsers,
// Node 22+) or the `ws` package (Node 20, and wherever `headers`, `ca` or
// `rejectUnauthorized` are set), and reading why one failed. Copied verbatim into every
// SDK by `volley generate typescript`: edit templates/typescript/runtime/ in the volley
// repository, not a copy.

import { ConnectionError } from "./errors.js";

/**
 * A WebSocket class: the browser's, Node 22's, or the `ws` package's. The third
 * argument, given only when `headers`, `ca` or `rejectUnauthorized` is set, is the `ws`
 * package's options argument.
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: WebSocketOptions) => WebSocketLike;

/** PEM certificates: one string or buffer, or a list of them. */
export type Pem = string | Uint8Array | Array<string | Uint8Array>;

/**
 * What the runtime passes as the third argument of a WebSocket class that takes
 * options, such as the `ws` package's: the upgrade request's headers and the TLS
 * options of `wss://` (which `ws` hands to Node's `tls.connect`).
 */
export interface WebSocketOptions {
  headers?: Record<string, string>;
  ca?: Pem;
  rejectUnauthorized?: boolean;
}

/**
 * An event handler property. Written as a method so that the DOM's and the `ws`
 * package's handlers, which take more specific event types, fit it.
 */
type Handler<E> = { bivarianceHack(event: E): void }["bivarianceHack"] | null;

/**
 * The part of the WebSocket API the runtime uses. The browser's `WebSocket`, Node 22's
 * and the `ws` package's class all fit it.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly protocol: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown>;
  onmessage: Handler<{ data: unknown }>;
  onclose: Handler<{ code: number; reason: string }>;
  onerror: Handler<unknown>;
}

/** The connect options that decide which WebSocket class is used and how. */
export interface SocketSettings {
  WebSocket?: WebSocketConstructor;
  headers?: Record<string, string>;
  ca?: Pem;
  rejectUnauthorized?: boolean;
}

/** A WebSocket that reports pings (the `ws` package's EventEmitter interface). */
export interface PingEvents {
  on(event: "ping" | "pong", listener: () => void): unknown;
  terminate?(): void;
}

export function reportsPings(socket: WebSocketLike): socket is WebSocketLike & PingEvents {
  return typeof (socket as Partial<PingEvents>).on === "function";
}

/** The options a WebSocket class must take for these connect options, if any. */
export function socketOptions(options: SocketSettings): WebSocketOptions | undefined {
  const out: WebSocketOptions = {};
  if (options.headers !== undefined && Object.keys(options.headers).length > 0) out.headers = { ...options.headers };
  if (options.ca !== undefined) out.ca = options.ca;
  if (options.rejectUnauthorized !== undefined) out.rejectUnauthorized = options.rejectUnauthorized;
  return Object.keys(out).length > 0 ? out : undefined;
}

function globalWebSocket(): WebSocketConstructor | undefined {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return typeof global === "function" ? global : undefined;
}

function inNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === "string";
}

/**
 * Why the global WebSocket cannot serve these options: a browser's cannot send headers
 * or take TLS options, and Node's global one (Node 22+) takes neither either.
 */
function globalCannot(wanted: WebSocketOptions): TypeError {
  const names = Object.keys(wanted).map((k) => `\`${k}\``).join(", ");
  if (!inNode()) {
    const how = wanted.headers
      ? "A browser's WebSocket cannot send HTTP headers with the upgrade: authenticate with a cookie the browser sends to the server's host, or put the token in the URL's query string (such as wss://host/?access_token=...), whichever the server reads."
      : "A browser's WebSocket takes no TLS options: it trusts the certificates the browser and system trust.";
    return new TypeError(`cannot connect with ${names}: ${how}`);
  }
  return new TypeError(
    `cannot connect with ${names}: the global WebSocket takes no headers or TLS options. Leave \`WebSocket\` unset to use the \`ws\` package, or pass the \`ws\` package's WebSocket class.`,
  );
}

/** The `ws` package's WebSocket class, loaded on demand. */
async function wsPackage(why: string): Promise<WebSocketConstructor> {
  // The name is a variable so bundlers for browsers leave it alone.
  const name = "ws";
  try {
    const mod = (await import(name)) as { default?: WebSocketConstructor; WebSocket?: WebSocketConstructor };
    const ctor = mod.WebSocket ?? mod.default;
    if (ctor) return ctor;
  } catch (e) {
    throw new ConnectionError(`${why}: install the \`ws\` package or pass \`WebSocket\` in the options`, undefined, { cause: e });
  }
  throw new ConnectionError("the `ws` package exports no WebSocket class");
}

export async function chooseWebSocket(options: SocketSettings, wanted: WebSocketOptions | undefined): Promise<WebSocketConstructor> {
  const global = globalWebSocket();
  if (options.WebSocket !== undefined) {
    if (wanted !== undefined && options.WebSocket === global) throw globalCannot(wanted);
    return options.WebSocket;
  }
  if (wanted === undefined) {
    // Node 20 has no global WebSocket: use the `ws` package.
    return global ?? (await wsPackage("no WebSocket implementation"));
  }
  // Headers and TLS options need the `ws` package, even where there is a global one.
  if (!inNode()) throw globalCannot(wanted);
  const names = Object.keys(wanted).join(", ");
  return wsPackage(`${names} need the \`ws\` package, which could not be loaded`);
}

/** The body of an HTTP response, as text, up to `limit` bytes. */
export function readBody(response: HttpResponse, limit: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const all = new Uint8Array(Math.min(size, limit));
      let at = 0;
      for (const c of chunks) {
        const part = c.subarray(0, all.length - at);
        all.set(part, at);
        at += part.length;
      }
      resolve(new TextDecoder().decode(all));
    };
    response.on("data", (chunk: Uint8Array | string) => {
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
      if (size < limit) chunks.push(bytes);
      size += bytes.length;
    });
    response.on("end", finish);
    response.on("close", finish);
    response.on("error", finish);
  });
}

/** The HTTP response of a refused upgrade, as the `ws` package's `unexpected-response` event has it. */
export interface HttpResponse {
  statusCode?: number;
  statusMessage?: string;
  headers: Record<string, string | string[] | undefined>;
  on(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
  on(event: "end" | "close" | "error", listener: () => void): unknown;
}

/** A WebSocket that reports a refused upgrade (the `ws` package's `unexpected-response`). */
interface UpgradeEvents {
  on(event: "unexpected-response", listener: (request: unknown, response: HttpResponse) => void): unknown;
}

export function reportsRefusals(socket: WebSocketLike): socket is WebSocketLike & UpgradeEvents {
  return typeof (socket as Partial<UpgradeEvents>).on === "function";
}

/** Why a WebSocket failed, from its `error` event: the message, and Node's error code. */
export function socketFailure(event: unknown): { why: string; cause: unknown } {
  const e = event as { message?: unknown; error?: unknown } | null | undefined;
  const error = e?.error ?? (event instanceof Error ? event : undefined);
  const detail = error as { message?: unknown; code?: unknown } | undefined;
  let why = (typeof e?.message === "string" && e.message ? e.message : typeof detail?.message === "string" && detail.message ? detail.message : "the WebSocket failed").trim();
  const code = detail?.code;
  if (typeof code === "string" && !why.includes(code)) why += ` (${code})`;
  if (typeof code === "string" && TLS_CODES.test(code)) why = `the server's TLS certificate was not accepted: ${why}`;
  return { why, cause: error };
}

/** Node's codes of certificate failures (from OpenSSL, and the host name check). */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|ISSUER|CHAIN/;

export function webSocketUrl(url: string): string {
  if (url.startsWith("http://")) return `ws://${url.slice(7)}`;
  if (url.startsWith("https://")) return `wss://${url.slice(8)}`;
  return url;
}
