// The volley runtime: calls the server makes on this client (even ids), served by the
// `handlers` given to `Client.connect` (PROTOCOL.md section 8). An SDK whose service
// has no client-side methods does not include it, and such a client answers every
// `CALL` with `UNIMPLEMENTED`. Copied verbatim into every SDK by `volley generate
// typescript`: edit templates/typescript/runtime/ in the volley repository, not a copy.

import type { Connection, Extension, Feature } from "./connection.js";
import { Credit, ReceiveWindow } from "./credit.js";
import { ErrorCode, VolleyError } from "./errors.js";
import { DEFAULT_WINDOW, isRecord, Kind, metadataOf, type Frame, type Metadata, type MethodKind, type Streamable } from "./frames.js";
import { Queue, toAsyncIterator } from "./queue.js";

/** What a handler of a call from the server gets besides its parameters. */
export interface HandlerContext {
  /** The method's name. */
  readonly method: string;
  /** The caller's metadata (`ext.m`, and later `META` frames). */
  readonly metadata: Metadata;
  /** Aborted when the server cancels the call, its time limit passes or the connection drops. */
  readonly signal: AbortSignal;
  /** Sends leading metadata (once, before the first item or the result). */
  sendMetadata(metadata: Metadata): void;
  /** Sets the trailing metadata sent with the final frame. */
  setTrailers(metadata: Metadata): void;
  /** Sends a `WARNING` frame on the call. */
  warn(code: number, message: string, data?: unknown): void;
}

type HandlerFn = (...args: unknown[]) => unknown;

export class IncomingCall implements HandlerContext {
  readonly abort = new AbortController();
  readonly input = new Queue<unknown>();
  readonly outputCredit = new Credit();
  done = false;
  stopRequested = false;
  metadata: Metadata;
  private trailers: Metadata = {};
  private leadingSent = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly inputWindow = new ReceiveWindow(DEFAULT_WINDOW, 0);

  constructor(
    readonly connection: Connection,
    private readonly calls: ServerCalls,
    readonly id: number,
    readonly method: string,
    readonly shape: MethodKind,
    ext: Record<string, unknown>,
  ) {
    this.metadata = metadataOf(ext.m);
    if (typeof ext.w === "number" && ext.w > 0) this.outputCredit.add(ext.w);
    else this.outputCredit.add(DEFAULT_WINDOW);
    if (typeof ext.t === "number" && ext.t >= 0) {
      this.timer = setTimeout(() => this.fail(ErrorCode.DEADLINE_EXCEEDED, "the call's time limit passed"), ext.t);
    }
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  sendMetadata(metadata: Metadata): void {
    if (this.done || this.leadingSent) return;
    this.leadingSent = true;
    this.connection.send([Kind.META, this.id, metadata]);
  }

  setTrailers(metadata: Metadata): void {
    this.trailers = { ...metadata };
  }

  warn(code: number, message: string, data?: unknown): void {
    if (!this.done) this.connection.send(data === undefined ? [Kind.WARNING, this.id, code, message] : [Kind.WARNING, this.id, code, message, data]);
  }

  /** Starts taking items from the caller: grants the first credit. */
  openInput(): void {
    this.connection.send([Kind.CREDIT, this.id, this.inputWindow.grant(this.inputWindow.size)]);
  }

  inputIterable(): AsyncIterable<unknown> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const r = await this.input.next();
          if (!r.done && !this.done) {
            const n = this.inputWindow.consume();
            if (n > 0) this.connection.send([Kind.CREDIT, this.id, n]);
          }
          return r;
        },
      }),
    };
  }

  receive(frame: Frame): void {
    switch (frame[0]) {
      case Kind.ITEM:
        if (this.shape !== "client_stream" && this.shape !== "bidi_stream") return this.fail(ErrorCode.PROTOCOL_VIOLATION, "ITEM on a call that takes no stream");
        if (!this.inputWindow.receive()) return this.fail(ErrorCode.CREDIT_EXCEEDED, `item without credit on call ${this.id}`);
        this.input.push(frame[2] ?? null);
        return;
      case Kind.END:
        this.input.end();
        return;
      case Kind.CANCEL:
        this.close();
        this.input.fail(new VolleyError(ErrorCode.CANCELLED, "the server cancelled the call"));
        return;
      case Kind.STOP:
        this.stopRequested = true;
        this.outputCredit.wake();
        return;
      case Kind.CREDIT:
        if (typeof frame[2] === "number" && frame[2] > 0) this.outputCredit.add(frame[2]);
        return;
      case Kind.META:
        this.metadata = { ...this.metadata, ...metadataOf(frame[2]) };
        return;
      default:
        return;
    }
  }

  /** Ends the call without sending anything (cancelled, or the connection dropped). */
  close(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.calls.untrack(this);
    this.abort.abort(new VolleyError(ErrorCode.CANCELLED, "the call is over"));
    this.outputCredit.wake();
  }

  private final(frame: Frame): void {
    if (this.done) return;
    try {
      this.connection.send(frame);
    } catch {
      // The connection is gone.
    }
    this.close();
  }

  succeed(value: unknown): void {
    const frame: Frame = [Kind.RESULT, this.id, value ?? null];
    if (Object.keys(this.trailers).length > 0) frame.push(this.trailers);
    this.final(frame);
  }

  end(): void {
    const frame: Frame = [Kind.END, this.id];
    if (Object.keys(this.trailers).length > 0) frame.push(this.trailers);
    this.final(frame);
  }

  fail(code: number, message: string, data?: unknown): void {
    const trailers = Object.keys(this.trailers).length > 0 ? this.trailers : undefined;
    const frame: Frame = [Kind.ERROR, this.id, code, message];
    if (data !== undefined || trailers) frame.push(data ?? null);
    if (trailers) frame.push(trailers);
    this.input.fail(new VolleyError(code, message));
    this.final(frame);
  }

  failWith(error: unknown): void {
    if (error instanceof VolleyError) this.fail(error.code, error.message, error.data);
    else this.fail(ErrorCode.INTERNAL, error instanceof Error ? error.message : String(error));
  }

  async run(fn: HandlerFn, params: unknown): Promise<void> {
    try {
      const takesInput = this.shape === "client_stream" || this.shape === "bidi_stream";
      if (takesInput) this.openInput();
      const args = takesInput ? [params, this.inputIterable(), this] : [params, this];
      const out = await fn(...args);
      if (this.done) return;
      if (this.shape === "unary" || this.shape === "client_stream") return this.succeed(out);
      const iterator = toAsyncIterator(out as Streamable<unknown>);
      try {
        for (;;) {
          while (!this.done && !this.stopRequested && !this.outputCredit.take()) await this.outputCredit.wait();
          if (this.done || this.stopRequested) break;
          const next = await iterator.next();
          if (this.done || next.done) break;
          if (!this.leadingSent) this.leadingSent = true;
          this.connection.send([Kind.ITEM, this.id, next.value]);
        }
      } finally {
        if (this.done) await iterator.return?.();
      }
      this.end();
    } catch (e) {
      if (!this.done) this.failWith(e);
    }
  }
}

/** The calls the server opened on one connection, and the handlers that serve them. */
class ServerCalls implements Extension {
  private readonly incoming = new Map<number, IncomingCall>();

  constructor(
    private readonly connection: Connection,
    private readonly handlerKinds: Record<string, MethodKind>,
  ) {}

  untrack(call: IncomingCall): void {
    if (this.incoming.get(call.id) === call) this.incoming.delete(call.id);
  }

  receive(frame: Frame): boolean {
    const id = frame[1];
    if (typeof id !== "number") return false;
    if (frame[0] === Kind.CALL) {
      this.onCall(frame, id);
      return true;
    }
    const call = this.incoming.get(id);
    if (!call) return false;
    call.receive(frame);
    return true;
  }

  lost(): void {
    for (const call of [...this.incoming.values()]) call.close();
  }

  /** A `CALL` whose id and method name the connection checked. */
  private onCall(frame: Frame, id: number): void {
    const method = frame[2] as string;
    const handlers = this.connection.options.handlers as Record<string, unknown> | undefined;
    const shape = this.handlerKinds[method];
    const fn = handlers?.[method];
    if (!handlers) {
      this.connection.reply([Kind.ERROR, id, ErrorCode.UNIMPLEMENTED, "this client serves no methods"]);
      return;
    }
    if (shape === undefined || typeof fn !== "function") {
      const served = Object.keys(this.handlerKinds).filter((name) => typeof handlers[name] === "function");
      const data = methodNotFound(method, served);
      this.connection.reply([Kind.ERROR, id, ErrorCode.METHOD_NOT_FOUND, `no method named \`${data.method}\` on this client`, data]);
      return;
    }
    const ext = isRecord(frame[4]) ? frame[4] : {};
    const call = new IncomingCall(this.connection, this, id, method, shape, ext);
    this.incoming.set(id, call);
    void call.run((...args: unknown[]) => (fn as HandlerFn).apply(handlers, args), isRecord(frame[3]) ? frame[3] : {});
  }
}

/** Names quoted back in errors are cut at this many characters (PROTOCOL.md section 8.1). */
const QUOTE_LIMIT = 128;

function bounded(s: string): string {
  const chars = [...s];
  return chars.length > QUOTE_LIMIT ? chars.slice(0, QUOTE_LIMIT).join("") + "..." : s;
}

/** `METHOD_NOT_FOUND` data (PROTOCOL.md section 7): where along the dotted name the lookup stopped, and what is there. */
export interface MethodNotFoundData {
  method: string;
  namespace: string;
  missing: string;
  available: string[];
}

/** The `METHOD_NOT_FOUND` data for `method` among the `served` method names. */
export function methodNotFound(method: string, served: readonly string[]): MethodNotFoundData {
  const segments = method.split(".");
  const isNamespace = (prefix: string) => served.some((m) => m.startsWith(prefix + "."));
  let depth = 0;
  while (depth < segments.length && isNamespace(segments.slice(0, depth + 1).join("."))) depth++;
  const namespace = segments.slice(0, depth).join(".");
  const missing = depth < segments.length ? segments[depth]! : "";
  const under = new Set<string>();
  for (const m of served) {
    const rest = namespace === "" ? m : m.startsWith(namespace + ".") ? m.slice(namespace.length + 1) : undefined;
    if (rest === undefined) continue;
    const dot = rest.indexOf(".");
    under.add(dot < 0 ? rest : rest.slice(0, dot + 1));
  }
  // Sorted by code point, as every peer sorts them.
  const available = [...under].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, 64);
  return { method: bounded(method), namespace: bounded(namespace), missing: bounded(missing), available };
}

/**
 * The feature that serves calls from the server: `handlerKinds` gives the shape of
 * each method the client implements.
 */
export function serverCalls(handlerKinds: Record<string, MethodKind>): Feature {
  return (connection) => new ServerCalls(connection, handlerKinds);
}
