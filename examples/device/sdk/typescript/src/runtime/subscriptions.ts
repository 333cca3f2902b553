// The volley runtime: what topics and shared states have in common — reference-counted
// subscriptions by name, `volley.subscribe` and `volley.unsubscribe`, and subscribing
// again after a reconnect (PROTOCOL.md sections 9 to 11). Included only in SDKs whose
// service has topics or shared states. Copied verbatim into every SDK by `volley
// generate typescript`: edit templates/typescript/runtime/ in the volley repository,
// not a copy.

import type { Connection } from "./connection.js";

/** Handle of a topic or state subscription. */
export interface Subscription {
  /** Stops it; the last local subscriber of a name also unsubscribes at the server. */
  unsubscribe(): Promise<void>;
}

export type Listener = (value: unknown, name: string) => void;

/** What this client subscribed to, of one kind (`topics` or `states`), by name. */
export class Subscriptions {
  readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly connection: Connection,
    private readonly what: "topics" | "states",
  ) {}

  /** Adds a listener; returns whether it is the first of `name`. */
  add(name: string, listener: Listener): boolean {
    let set = this.listeners.get(name);
    const first = set === undefined;
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return first;
  }

  /** Removes a listener; returns whether it was the last of `name`. */
  remove(name: string, listener: Listener): boolean {
    const set = this.listeners.get(name);
    if (!set) return false;
    set.delete(listener);
    if (set.size > 0) return false;
    this.listeners.delete(name);
    return true;
  }

  /**
   * Subscribes `listener` to `name`, at the server too if it is the first; `joined` is
   * called instead for a later one (a state hands it the document it has).
   */
  async subscribe(name: string, listener: Listener, joined?: () => void, left?: () => void): Promise<Subscription> {
    if (this.add(name, listener)) {
      try {
        await this.connection.unary("volley.subscribe", { [this.what]: [name] });
      } catch (e) {
        this.remove(name, listener);
        throw e;
      }
    } else joined?.();
    let active = true;
    return {
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        if (this.remove(name, listener)) {
          left?.();
          if (this.connection.connected) await this.connection.unary("volley.unsubscribe", { [this.what]: [name] });
        }
      },
    };
  }

  /** Subscribes at the server again to every name, after a reconnect. */
  async resubscribe(): Promise<void> {
    const names = [...this.listeners.keys()];
    if (names.length > 0) await this.connection.unary("volley.subscribe", { [this.what]: names });
  }
}
