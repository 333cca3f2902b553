// The volley runtime: long-running operations (PROTOCOL.md section 14) — a call the
// server may accept and answer later, its id sent at once, its progress notified, its
// outcome kept to be awaited by id after a reconnect. Included only in SDKs whose
// service has operations. Copied verbatim into every SDK by `volley generate
// typescript`: edit templates/typescript/runtime/ in the volley repository, not a copy.

import type { CallOptions } from "./calls.js";
import type { Connection, Extension, Feature } from "./connection.js";
import { ConnectionError } from "./errors.js";
import { Kind, type Frame } from "./frames.js";
import { Queue } from "./queue.js";

/** The topic of progress notifications. */
const PROGRESS = "volley.operation";

/** Progress updates a `progress()` iterator keeps for a reader that lags. */
const ITERATOR_QUEUE = 1024;

/** What `volley.operation.get` says of an operation. */
export interface OperationState<R = unknown, G = unknown> {
  readonly id: string;
  readonly method: string;
  readonly done: boolean;
  readonly progress?: G;
  readonly result?: R;
  readonly error?: { readonly code: number; readonly message: string; readonly data: unknown };
}

/** The operations of one connection: routes progress, and resumes waits after a reconnect. */
class Operations implements Extension {
  /** Progress listeners by operation id. */
  readonly listeners = new Map<string, Set<(progress: unknown) => void>>();
  /** Operations whose answer was lost with the connection, waiting for it to reopen. */
  readonly orphans = new Set<{ resume: () => void; fail: (e: unknown) => void }>();

  constructor(readonly connection: Connection) {}

  receive(frame: Frame): boolean {
    if (frame[0] !== Kind.NOTIFY || frame[1] !== PROGRESS) return false;
    const note = frame[2] as { id?: unknown; progress?: unknown } | null;
    if (note && typeof note.id === "string") {
      for (const l of [...(this.listeners.get(note.id) ?? [])]) l(note.progress ?? null);
    }
    return true;
  }

  async reopened(): Promise<void> {
    const orphans = [...this.orphans];
    this.orphans.clear();
    for (const o of orphans) o.resume();
  }

  lost(): void {
    queueMicrotask(() => {
      if (this.connection.state !== "closed") return;
      const orphans = [...this.orphans];
      this.orphans.clear();
      for (const o of orphans) o.fail(new ConnectionError("the connection closed before the operation's result came"));
    });
  }
}

/** The feature of operations; `Client` opens its connection with it. */
export const operations: Feature<Operations> = (connection) => new Operations(connection);

/**
 * A call that the server may answer at once or accept as a long-running operation: `R`
 * is its result, `G` its progress.
 *
 * ```ts
 * const op = client.device.calibrate({ axes: 3 });
 * console.log(await op.id);                       // the operation's id, or null if answered at once
 * for await (const p of op.progress()) console.log(p);
 * console.log(await op.result());
 * ```
 *
 * The result survives a lost connection (with `reconnect` on): once the connection is
 * back, the handle waits for it by id (`volley.operation.wait`). Keep `await op.id` to
 * resume from another client with `client.operation(id)`.
 */
export class OperationHandle<R, G> {
  /** The operation's id once the server accepted the call; `null` when it answered at once. */
  readonly id: Promise<string | null>;
  readonly #connection: Connection;
  readonly #extension: Operations;
  readonly #result: Promise<R>;
  #known: string | null = null;
  #settled = false;
  #resolveId: (id: string | null) => void = () => {};
  readonly #ends = new Set<() => void>();

  private constructor(connection: Connection, begin: (self: OperationHandle<R, G>) => Promise<R>, id?: string) {
    this.#connection = connection;
    const extension = connection.extension(operations);
    if (!extension) throw new Error("this connection was opened without operations");
    this.#extension = extension;
    this.id = new Promise((resolve) => (this.#resolveId = resolve));
    if (id !== undefined) this.#learn(id);
    this.#result = begin(this).finally(() => {
      this.#settled = true;
      this.#resolveId(this.#known);
      for (const end of [...this.#ends]) end();
    });
    // A result nobody reads must not be an unhandled rejection.
    this.#result.catch(() => {});
  }

  /** @internal Calls `method`; generated methods use it. */
  static start<R, G>(connection: Connection, method: string, params: unknown, options: CallOptions = {}): OperationHandle<R, G> {
    return new OperationHandle<R, G>(connection, async (self) => {
      try {
        return await connection.unary<R>(method, params, {
          ...options,
          onMetadata: (metadata) => {
            const id = metadata["volley-operation"];
            if (typeof id === "string") self.#learn(id);
            options.onMetadata?.(metadata);
          },
        });
      } catch (e) {
        if (e instanceof ConnectionError && self.#known !== null) return self.#orphaned();
        throw e;
      }
    });
  }

  /** @internal The operation `id`, resumed: `client.operation(id)`. */
  static resume<R, G>(connection: Connection, id: string): OperationHandle<R, G> {
    return new OperationHandle<R, G>(connection, (self) => self.#wait(), id);
  }

  /** Its result, or the error it ended with (`CANCELLED` when cancelled). */
  result(): Promise<R> {
    return this.#result;
  }

  /** Calls `listener` with each progress update; returns a function that stops it. */
  onProgress(listener: (progress: G) => void): () => void {
    const l = listener as (p: unknown) => void;
    const add = (id: string) => {
      const set = this.#extension.listeners.get(id) ?? new Set();
      set.add(l);
      this.#extension.listeners.set(id, set);
    };
    let stopped = false;
    if (this.#known) add(this.#known);
    else void this.id.then((id) => id && !stopped && add(id));
    const stop = () => {
      stopped = true;
      if (this.#known) this.#extension.listeners.get(this.#known)?.delete(l);
      this.#ends.delete(stop);
    };
    this.#ends.add(stop);
    return stop;
  }

  /**
   * The progress updates from now on, as an async iterator that ends when the operation
   * does. A reader that falls 1024 behind gets those it has, then an error.
   */
  progress(): AsyncIterableIterator<G> {
    const queue = new Queue<G>();
    const stop = this.onProgress((p) => {
      if (queue.size >= ITERATOR_QUEUE) {
        queue.fail(new Error(`the progress iterator fell ${ITERATOR_QUEUE} updates behind and was stopped`));
        stop();
      } else queue.push(p);
    });
    const end = () => {
      queue.end();
      this.#ends.delete(end);
    };
    if (this.#settled) queue.end();
    else this.#ends.add(end);
    return {
      next: () => queue.next(),
      return: (): Promise<IteratorResult<G>> => {
        stop();
        end();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * Cancels it (`volley.operation.cancel`): true when it was running, false when it
   * had ended or the call was answered at once.
   */
  async cancel(): Promise<boolean> {
    const id = this.#known ?? (this.#settled ? null : await Promise.race([this.id, this.#result.then(() => null, () => null)]));
    if (!id) return false;
    return this.#connection.unary<boolean>("volley.operation.cancel", { id });
  }

  /** What the server says of it now (`volley.operation.get`). */
  async state(): Promise<OperationState<R, G>> {
    const id = this.#known ?? (await this.id);
    if (!id) throw new Error("the call was answered at once: there is no operation");
    return this.#connection.unary<OperationState<R, G>>("volley.operation.get", { id });
  }

  #learn(id: string): void {
    if (this.#known) return;
    this.#known = id;
    this.#resolveId(id);
  }

  async #wait(): Promise<R> {
    try {
      return await this.#connection.unary<R>("volley.operation.wait", { id: this.#known });
    } catch (e) {
      if (e instanceof ConnectionError) return this.#orphaned();
      throw e;
    }
  }

  /** The connection is gone: wait for it to come back, then wait for the result by id. */
  #orphaned(): Promise<R> {
    if (this.#connection.state === "closed") return Promise.reject(new ConnectionError("the connection closed before the operation's result came"));
    return new Promise<R>((resolve, reject) => {
      this.#extension.orphans.add({ resume: () => this.#wait().then(resolve, reject), fail: reject });
    });
  }
}
