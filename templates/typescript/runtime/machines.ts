// The volley runtime: state-machine sessions (PROTOCOL.md section 13) — each connection
// has its own session of each machine; events are calls of `<machine>.<event>`, and
// transitions and data events arrive as `NOTIFY` on the machine's topic. Included only
// in SDKs whose service has machines. Copied verbatim into every SDK by `volley
// generate typescript`: edit templates/typescript/runtime/ in the volley repository,
// not a copy.

import type { CallOptions } from "./calls.js";
import type { Connection, Extension, Feature } from "./connection.js";
import { Kind, type Frame } from "./frames.js";
import { Queue } from "./queue.js";

/** A transition pushed by the server: the session's new state and what came with it. */
export interface Transition<S extends string = string, D = unknown> {
  /** The new state. */
  readonly state: S;
  /** The events it accepts. */
  readonly events: readonly string[];
  /**
   * An HTTP-like status chosen by the server's handler. 205 means the session was
   * created again on a new connection (after a reconnect), not that an event moved it.
   */
  readonly status: number;
  /** The data of the transition into `state`. */
  readonly data: D;
}

/** A data event pushed by the server: data without a transition. */
export interface DataEvent<X = unknown> {
  /** An HTTP-like status chosen by the server's handler. */
  readonly status: number;
  /** The data. */
  readonly data: X;
}

/** How one machine is laid out, from the schema: its states' names and their events. */
export interface MachineShape {
  readonly name: string;
  /** Each state's events, the initial state first; `true` for an event that takes data. */
  readonly states: readonly (readonly [string, Readonly<Record<string, boolean>>])[];
}

/** Items a `transitions()` or `data()` iterator keeps for a reader that lags. */
const ITERATOR_QUEUE = 1024;

type Listener<T> = (value: T) => void;

/** The sessions of one connection, by machine name. */
class Machines implements Extension {
  readonly sessions = new Map<string, MachineSession<unknown, Transition, unknown>>();

  constructor(readonly connection: Connection) {}

  receive(frame: Frame): boolean {
    if (frame[0] !== Kind.NOTIFY || typeof frame[1] !== "string") return false;
    const session = this.sessions.get(frame[1]);
    if (!session) return false;
    session.pushed(frame[2]);
    return true;
  }

  async reopened(): Promise<void> {
    // A new connection is a new session; ask where it is.
    await Promise.all([...this.sessions.values()].map((s) => s.sync(205)));
  }

  lost(): void {
    // A drop the connection recovers from keeps the iterators; a close ends them.
    queueMicrotask(() => {
      if (this.connection.state === "closed") for (const s of this.sessions.values()) s.lost();
    });
  }
}

/** The feature of state machines; `Client` opens its connection with it. */
export const machines: Feature<Machines> = (connection) => new Machines(connection);

/**
 * This connection's session of one machine. `C` is the generated union of its states
 * (discriminated by `state`, each with the `events` it accepts as methods), `T` the union
 * of its transitions, `X` the type of its data events.
 *
 * ```ts
 * const light = client.machines.light;
 * const s = light.current;
 * if (s.state === "red") await s.events.go({ seconds: 30 });   // only red's events type-check
 * for await (const t of light.transitions()) console.log(t.state, t.status, t.data);
 * ```
 */
export class MachineSession<C, T extends Transition, X> {
  #state: string;
  #data: unknown = null;
  readonly #connection: Connection;
  readonly #shape: MachineShape;
  readonly #onTransition = new Set<Listener<T>>();
  readonly #onData = new Set<Listener<DataEvent<X>>>();

  /** @internal */
  constructor(connection: Connection, shape: MachineShape) {
    this.#connection = connection;
    this.#shape = shape;
    this.#state = shape.states[0]?.[0] ?? "";
    const extension = connection.extension(machines);
    if (!extension) throw new Error("this connection was opened without machines");
    extension.sessions.set(shape.name, this as unknown as MachineSession<unknown, Transition, unknown>);
  }

  /** The machine's name. */
  get name(): string {
    return this.#shape.name;
  }

  /** The session's current state, as this client last heard. */
  get state(): T["state"] {
    return this.#state as T["state"];
  }

  /**
   * The current state with its events as methods: narrow on `state` to send one. Read
   * it again after an event; an object from before a transition still sends, and the
   * server refuses what the new state does not accept (`EVENT_NOT_ALLOWED`).
   */
  get current(): C {
    const events: Record<string, (a?: unknown, b?: CallOptions) => Promise<unknown>> = {};
    for (const [event, takesData] of Object.entries(this.#eventsOf(this.#state))) {
      // An event without data takes only the options.
      events[event] = takesData ? (a?: unknown, b?: CallOptions) => this.send(event, a, b) : (a?: unknown) => this.send(event, null, a as CallOptions);
    }
    return { state: this.#state, data: this.#data, events } as C;
  }

  /**
   * Sends `event` with `data` (`null` when the event takes none): a unary call of
   * `<machine>.<event>`, resolving to the handler's result once every transition and
   * data event it pushed has been delivered.
   */
  send(event: string, data?: unknown, options: CallOptions = {}): Promise<unknown> {
    return this.#connection.unary(`${this.#shape.name}.${event}`, { data: data ?? null }, options);
  }

  /** Calls `listener` with each transition; returns a function that stops it. */
  onTransition(listener: Listener<T>): () => void {
    this.#onTransition.add(listener);
    return () => this.#onTransition.delete(listener);
  }

  /** Calls `listener` with each data event; returns a function that stops it. */
  onData(listener: Listener<DataEvent<X>>): () => void {
    this.#onData.add(listener);
    return () => this.#onData.delete(listener);
  }

  /**
   * The transitions from now on, as an async iterator; it goes on across reconnects
   * and ends when the client is closed. A reader that falls 1024 transitions behind
   * gets those it has, then an error: it is not sent more than it can hold.
   */
  transitions(): AsyncIterableIterator<T> {
    return this.#iterate(this.#onTransition);
  }

  /** The data events from now on, as an async iterator (bounded as `transitions()`). */
  data(): AsyncIterableIterator<DataEvent<X>> {
    return this.#iterate(this.#onData);
  }

  /**
   * Asks the server where the session is (`volley.machine`) and, if that is not the
   * state this client knew, reports it as a transition with `status`.
   */
  async sync(status = 205): Promise<T["state"]> {
    const where = await this.#connection.unary<{ state: string; events: string[] }>("volley.machine", { machine: this.#shape.name });
    if (where.state !== this.#state) {
      this.#moved({ state: where.state, events: where.events, status, data: null });
    }
    return this.#state as T["state"];
  }

  /** @internal A push on the machine's topic. */
  pushed(value: unknown): void {
    if (typeof value !== "object" || value === null) return;
    const push = value as { state?: unknown; events?: unknown; status?: unknown; data?: unknown };
    const status = typeof push.status === "number" ? push.status : 0;
    if (typeof push.state === "string") {
      const events = Array.isArray(push.events) ? push.events.filter((e): e is string => typeof e === "string") : Object.keys(this.#eventsOf(push.state));
      this.#moved({ state: push.state, events, status, data: push.data ?? null });
    } else {
      const event = { status, data: (push.data ?? null) as X };
      for (const l of [...this.#onData]) l(event);
    }
  }

  /** @internal The connection is gone for good: end the iterators. */
  lost(): void {
    for (const end of this.#ends) end();
  }

  readonly #ends = new Set<() => void>();

  #moved(t: Transition): void {
    this.#state = t.state;
    this.#data = t.data;
    for (const l of [...this.#onTransition]) l(t as T);
  }

  #eventsOf(state: string): Readonly<Record<string, boolean>> {
    return this.#shape.states.find(([name]) => name === state)?.[1] ?? {};
  }

  #iterate<V>(listeners: Set<Listener<V>>): AsyncIterableIterator<V> {
    const queue = new Queue<V>();
    const listener = (v: V) => {
      if (queue.size >= ITERATOR_QUEUE) {
        queue.fail(new Error(`an iterator of the machine ${this.#shape.name} fell ${ITERATOR_QUEUE} pushes behind and was stopped`));
        stop();
        return;
      }
      queue.push(v);
    };
    const end = () => {
      queue.end();
      stop();
    };
    const stop = () => {
      listeners.delete(listener);
      this.#ends.delete(end);
    };
    listeners.add(listener);
    this.#ends.add(end);
    return {
      next: () => queue.next(),
      return: (): Promise<IteratorResult<V>> => {
        end();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
