// The volley runtime: one call this client makes (odd id), of any shape — its `CALL`
// frame, time limit, cancellation, metadata, result or received items and their credit
// (PROTOCOL.md sections 5 and 6). Sending a stream of items is in streams.ts. Copied
// verbatim into every SDK by `volley generate typescript`: edit
// templates/typescript/runtime/ in the volley repository, not a copy.

import { Credit, ReceiveWindow } from "./credit.js";
import { codeName, ConnectionError, ErrorCode, VolleyError, warningOf, type VolleyWarning } from "./errors.js";
import { Kind, metadataOf, type Frame, type Metadata, type MethodKind } from "./frames.js";
import { Queue } from "./queue.js";

/** Options of one call. */
export interface CallOptions {
  /** Cancels the call (a `CANCEL` frame) when aborted. */
  signal?: AbortSignal;
  /** Time limit in milliseconds: sent as `ext.t`, and enforced locally too. */
  timeoutMs?: number;
  /** Client metadata (`ext.m`), merged over the connection's. */
  metadata?: Metadata;
  /** The credit window for items the callee streams back (`ext.w`); default 32. */
  window?: number;
  /** Receives the callee's leading metadata. */
  onMetadata?: (metadata: Metadata) => void;
  /** Receives the callee's trailing metadata, on success and on error alike. */
  onTrailers?: (trailers: Metadata) => void;
  /** Receives `WARNING` frames on this call. */
  onWarning?: (warning: VolleyWarning) => void;
}

/** What a call needs of its connection. */
export interface CallHost {
  readonly defaultMetadata: Metadata;
  readonly defaultTimeoutMs: number | undefined;
  readonly defaultWindow: number;
  /** Encodes and sends one frame; throws a `ConnectionError` when not connected. */
  send(frame: Frame): void;
  track(call: OutgoingCall): void;
  untrack(call: OutgoingCall): void;
}

/** One call this client started (odd id). */
export class OutgoingCall {
  done = false;
  readonly output = new Queue<unknown>();
  readonly inputCredit = new Credit();
  stopRequested = false;
  /** Whether this caller's own stream is over (`END` sent). */
  inputEnded = false;
  private leadingSeen = false;
  private readonly window: ReceiveWindow;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private abortListener: (() => void) | undefined;
  private resolveResult: ((v: unknown) => void) | undefined;
  private rejectResult: ((e: unknown) => void) | undefined;
  private resolveLeading: ((m: Metadata) => void) | undefined;
  readonly result: Promise<unknown> | undefined;
  readonly leading: Promise<Metadata>;
  trailers: Metadata | undefined;

  constructor(
    readonly connection: CallHost,
    readonly id: number,
    readonly method: string,
    readonly shape: MethodKind,
    readonly options: CallOptions,
  ) {
    this.window = new ReceiveWindow(Math.max(1, Math.floor(options.window ?? connection.defaultWindow)));
    this.leading = new Promise((resolve) => (this.resolveLeading = resolve));
    if (shape === "unary" || shape === "client_stream") {
      this.result = new Promise((resolve, reject) => {
        this.resolveResult = resolve;
        this.rejectResult = reject;
      });
    }
  }

  get streamsOutput(): boolean {
    return this.shape === "server_stream" || this.shape === "bidi_stream";
  }

  get streamsInput(): boolean {
    return this.shape === "client_stream" || this.shape === "bidi_stream";
  }

  /** Sends the `CALL` and arms the timer and the abort signal. */
  start(params: unknown): void {
    const ext: Record<string, unknown> = {};
    const metadata = { ...this.connection.defaultMetadata, ...this.options.metadata };
    if (Object.keys(metadata).length > 0) ext.m = metadata;
    const timeout = this.options.timeoutMs ?? this.connection.defaultTimeoutMs;
    if (timeout !== undefined) ext.t = Math.max(0, Math.ceil(timeout));
    if (this.streamsOutput) ext.w = this.window.size;
    const signal = this.options.signal;
    if (signal?.aborted) {
      this.finish(new VolleyError(ErrorCode.CANCELLED, "the call was cancelled before it started", undefined, {}, this.method, { cause: signal.reason }));
      return;
    }
    const frame: Frame = [Kind.CALL, this.id, this.method, params ?? {}];
    if (Object.keys(ext).length > 0) frame.push(ext);
    this.connection.track(this);
    try {
      this.connection.send(frame);
    } catch (e) {
      this.finish(e instanceof VolleyError ? e : new ConnectionError(String(e), this.method, { cause: e }));
      return;
    }
    if (timeout !== undefined) {
      // The callee enforces ext.t; this timer only catches a callee that never answers.
      const grace = Math.min(1000, 50 + timeout / 10);
      this.timer = setTimeout(() => {
        this.cancel(ErrorCode.DEADLINE_EXCEEDED, `no answer within ${timeout} ms`);
      }, timeout + grace);
    }
    if (signal) {
      this.abortListener = () => this.cancel(ErrorCode.CANCELLED, "the call was cancelled", signal.reason);
      signal.addEventListener("abort", this.abortListener, { once: true });
    }
  }

  /** Gives up on the call: sends `CANCEL` and fails it locally. */
  cancel(code: number = ErrorCode.CANCELLED, message = "the call was cancelled", cause?: unknown): void {
    if (this.done) return;
    try {
      this.connection.send([Kind.CANCEL, this.id, code, message]);
    } catch {
      // The connection is gone; failing the call is all that is left to do.
    }
    this.finish(new VolleyError(code, message, undefined, {}, this.method, cause === undefined ? undefined : { cause }));
  }

  /** Sends more client metadata (`META`) while this caller is still streaming. */
  sendMetadata(metadata: Metadata): void {
    if (this.done) throw new VolleyError(ErrorCode.PROTOCOL_VIOLATION, "the call is over", undefined, {}, this.method);
    if (this.inputEnded) throw new VolleyError(ErrorCode.PROTOCOL_VIOLATION, "the upload is over: metadata can only be sent while items are", undefined, {}, this.method);
    this.connection.send([Kind.META, this.id, metadata]);
  }

  /** Asks the callee to wind its stream down (`STOP`). */
  stop(): void {
    if (this.done) return;
    try {
      this.connection.send([Kind.STOP, this.id]);
    } catch {
      // Nothing to stop any more.
    }
  }

  /** Ends the call, successfully with a value, or with an error. */
  finish(error?: VolleyError, value?: unknown, trailers?: Metadata): void {
    if (this.done) return;
    this.done = true;
    this.connection.untrack(this);
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.abortListener) this.options.signal?.removeEventListener("abort", this.abortListener);
    this.resolveLeading?.({});
    this.inputCredit.wake();
    if (trailers !== undefined || error?.trailers) {
      this.trailers = trailers ?? error?.trailers ?? {};
      try {
        this.options.onTrailers?.(this.trailers);
      } catch {
        // A throwing callback must not break the call table.
      }
    }
    if (error) {
      this.rejectResult?.(error);
      this.output.fail(error);
    } else {
      this.resolveResult?.(value);
      this.output.end();
    }
  }

  /** A frame from the callee for this call. */
  receive(frame: Frame): void {
    const kind = frame[0];
    switch (kind) {
      case Kind.RESULT:
        if (this.shape !== "unary" && this.shape !== "client_stream") return this.violation("RESULT on a streaming call");
        return this.finish(undefined, frame[2] ?? null, metadataOf(frame[3]));
      case Kind.ERROR: {
        const code = typeof frame[2] === "number" ? frame[2] : ErrorCode.INTERNAL;
        const message = typeof frame[3] === "string" ? frame[3] : codeName(code);
        return this.finish(new VolleyError(code, message, frame[4] ?? undefined, metadataOf(frame[5]), this.method));
      }
      case Kind.ITEM: {
        if (!this.streamsOutput) return this.violation("ITEM on a call that streams nothing back");
        if (!this.window.receive()) {
          return this.cancel(ErrorCode.CREDIT_EXCEEDED, `item without credit on call ${this.id}`);
        }
        this.leadingDone({});
        this.output.push(frame[2] ?? null);
        return;
      }
      case Kind.END:
        if (!this.streamsOutput) return this.violation("END on a call that streams nothing back");
        return this.finish(undefined, undefined, metadataOf(frame[2]));
      case Kind.CREDIT:
        if (this.streamsInput && typeof frame[2] === "number" && frame[2] > 0) this.inputCredit.add(frame[2]);
        return;
      case Kind.STOP:
        if (this.streamsInput) {
          this.stopRequested = true;
          this.inputCredit.wake();
        }
        return;
      case Kind.META:
        if (this.leadingSeen) return this.violation("a second or late leading META");
        return this.leadingDone(metadataOf(frame[2]), true);
      case Kind.WARNING:
        this.options.onWarning?.(warningOf(frame));
        return;
      default:
        return;
    }
  }

  private leadingDone(metadata: Metadata, fromFrame = false): void {
    if (this.leadingSeen) return;
    this.leadingSeen = true;
    this.resolveLeading?.(metadata);
    if (fromFrame) {
      try {
        this.options.onMetadata?.(metadata);
      } catch {
        // A throwing callback must not break the call table.
      }
    }
  }

  private violation(reason: string): void {
    this.cancel(ErrorCode.PROTOCOL_VIOLATION, reason);
  }

  /** Called as the application takes an item: grants more credit at half the window. */
  consumed1(): void {
    if (this.done) return;
    const n = this.window.consume();
    if (n === 0) return;
    try {
      this.connection.send([Kind.CREDIT, this.id, n]);
    } catch {
      // The close handler fails the call.
    }
  }
}
