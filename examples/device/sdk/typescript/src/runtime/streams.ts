// The volley runtime: streaming calls this client makes — server, client and
// bidirectional streams (PROTOCOL.md sections 5 and 6). Importing this module adds
// `serverStream`, `clientStream` and `bidiStream` to `Connection`; an SDK whose service
// has no streaming methods does not include it. Copied verbatim into every SDK by
// `volley generate typescript`: edit templates/typescript/runtime/ in the volley
// repository, not a copy.

import type { CallOptions, OutgoingCall } from "./calls.js";
import { Connection } from "./connection.js";
import { ErrorCode } from "./errors.js";
import { Kind, type Metadata, type Streamable } from "./frames.js";
import { toAsyncIterator } from "./queue.js";

declare module "./connection.js" {
  interface Connection {
    /** A server stream. */
    serverStream<R>(method: string, params: unknown, options?: CallOptions): ServerStream<R>;
    /** A client stream: items of `input` are sent as the server grants credit. */
    clientStream<I, R>(method: string, params: unknown, input: Streamable<I>, options?: CallOptions): ClientStream<R>;
    /** A bidirectional stream. */
    bidiStream<I, R>(method: string, params: unknown, input: Streamable<I>, options?: CallOptions): BidiStream<R>;
  }
}

Connection.prototype.serverStream = function <R>(this: Connection, method: string, params: unknown, options: CallOptions = {}): ServerStream<R> {
  const call = this.newCall(method, "server_stream", options);
  call.start(params);
  return new ServerStream<R>(call);
};

Connection.prototype.clientStream = function <I, R>(this: Connection, method: string, params: unknown, input: Streamable<I>, options: CallOptions = {}): ClientStream<R> {
  const call = this.newCall(method, "client_stream", options);
  call.start(params);
  if (!call.done) void pump(call, input);
  return new ClientStream<R>(call);
};

Connection.prototype.bidiStream = function <I, R>(this: Connection, method: string, params: unknown, input: Streamable<I>, options: CallOptions = {}): BidiStream<R> {
  const call = this.newCall(method, "bidi_stream", options);
  call.start(params);
  if (!call.done) void pump(call, input);
  return new BidiStream<R>(call);
};

/** Streams `input` to the callee, spending credit, then sends `END`. */
export async function pump(call: OutgoingCall, input: Streamable<unknown>): Promise<void> {
  let iterator: AsyncIterator<unknown> | Iterator<unknown> | undefined;
  let finished = false;
  try {
    iterator = toAsyncIterator(input);
    for (;;) {
      while (!call.done && !call.stopRequested && !call.inputCredit.take()) await call.inputCredit.wait();
      if (call.done) return;
      if (call.stopRequested) break;
      const next = await iterator.next();
      if (call.done) return;
      if (next.done) {
        finished = true;
        break;
      }
      call.connection.send([Kind.ITEM, call.id, next.value]);
    }
    call.inputEnded = true;
    call.connection.send([Kind.END, call.id]);
  } catch (e) {
    if (!call.done) call.cancel(ErrorCode.CANCELLED, `the input stream failed: ${e instanceof Error ? e.message : String(e)}`, e);
  } finally {
    if (!finished && iterator?.return) {
      try {
        await iterator.return();
      } catch {
        // The caller's stream is over either way.
      }
    }
  }
}

/**
 * Items a server (or bidirectional) stream sends back, read with `for await`. Credit
 * is granted as you read, so the server never sends more than you can take in.
 * Breaking out of the loop cancels the call.
 */
export class ServerStream<T> implements AsyncIterable<T> {
  /** @internal */
  constructor(protected readonly call: OutgoingCall) {}

  /** The callee's leading metadata; `{}` if it sent none. */
  get metadata(): Promise<Metadata> {
    return this.call.leading;
  }

  /** The callee's trailing metadata, once the stream is over. */
  get trailers(): Metadata | undefined {
    return this.call.trailers;
  }

  /** Cancels the call (`CANCEL`); reading then fails with `CANCELLED`. */
  cancel(message = "the call was cancelled"): void {
    this.call.cancel(ErrorCode.CANCELLED, message);
  }

  /** Asks the callee to finish gracefully (`STOP`): the stream ends after its current item. */
  stop(): void {
    this.call.stop();
  }

  /** Reads every item into a list. */
  async collect(): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this) out.push(item);
    return out;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    const call = this.call;
    return {
      next: async (): Promise<IteratorResult<T>> => {
        const r = await call.output.next();
        if (!r.done) call.consumed1();
        return r as IteratorResult<T>;
      },
      return: async (): Promise<IteratorResult<T>> => {
        call.cancel(ErrorCode.CANCELLED, "the reader stopped reading");
        return { value: undefined, done: true };
      },
    };
  }
}

/**
 * A bidirectional stream: read the callee's items with `for await` while your items
 * are sent as the callee grants credit.
 */
export class BidiStream<T> extends ServerStream<T> {
  /**
   * Sends more client metadata (`META`) while your items are still being sent; throws
   * a `VolleyError` once your stream has ended.
   */
  sendMetadata(metadata: Metadata): void {
    this.call.sendMetadata(metadata);
  }
}

/**
 * A client stream in progress: a `Promise` of the callee's result. While your items
 * are being sent, `sendMetadata` sends more client metadata, and `cancel` gives up on
 * the call.
 */
export class ClientStream<R> extends Promise<R> {
  // `then`, `catch` and `finally` return plain promises.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  readonly #call: OutgoingCall;

  /** @internal */
  constructor(call: OutgoingCall) {
    super((resolve, reject) => (call.result as Promise<R>).then(resolve, reject));
    this.#call = call;
  }

  /** The callee's leading metadata; `{}` if it sent none. */
  get metadata(): Promise<Metadata> {
    return this.#call.leading;
  }

  /** The callee's trailing metadata, once the call is over. */
  get trailers(): Metadata | undefined {
    return this.#call.trailers;
  }

  /**
   * Sends more client metadata (`META`) while your items are still being sent; throws
   * a `VolleyError` once your stream has ended.
   */
  sendMetadata(metadata: Metadata): void {
    this.#call.sendMetadata(metadata);
  }

  /** Cancels the call (`CANCEL`); the promise then rejects with `CANCELLED`. */
  cancel(message = "the call was cancelled"): void {
    this.#call.cancel(ErrorCode.CANCELLED, message);
  }
}
