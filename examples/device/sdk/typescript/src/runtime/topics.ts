// The volley runtime: topics — notifications the server publishes and the client may
// publish (`NOTIFY`, PROTOCOL.md section 10). Included only in SDKs whose service has
// topics. Copied verbatim into every SDK by `volley generate typescript`: edit
// templates/typescript/runtime/ in the volley repository, not a copy.

import type { Connection, Extension, Feature } from "./connection.js";
import { Kind, type Frame } from "./frames.js";
import { Subscriptions, type Listener, type Subscription } from "./subscriptions.js";

/** The topic subscriptions of one connection. */
class Topics implements Extension {
  readonly subscriptions: Subscriptions;

  constructor(connection: Connection) {
    this.subscriptions = new Subscriptions(connection, "topics");
  }

  receive(frame: Frame): boolean {
    if (frame[0] !== Kind.NOTIFY) return false;
    const topic = frame[1];
    if (typeof topic !== "string") return true;
    for (const [name, listeners] of this.subscriptions.listeners) {
      const matches = name === topic || (name.endsWith(".*") && topic.startsWith(name.slice(0, -1)));
      if (matches) for (const l of listeners) l(frame[2] ?? null, topic);
    }
    return true;
  }

  reopened(): Promise<void> {
    return this.subscriptions.resubscribe();
  }
}

/** The feature of topics; `Client` opens its connection with it. */
export const topics: Feature<Topics> = (connection) => new Topics(connection);

/**
 * Typed topics (PROTOCOL.md section 10): `T` maps each topic the server publishes to its
 * payload, `P` each topic a client publishes.
 */
export class TopicsApi<T, P = Record<never, never>> {
  /** @internal */
  constructor(private readonly connection: Connection) {}

  /**
   * Receives the notifications of `topic`. A name ending in `.*` matches every topic
   * below that prefix.
   */
  subscribe<K extends keyof T & string>(topic: K, handler: (payload: T[K], topic: K) => void): Promise<Subscription>;
  subscribe(pattern: `${string}.*`, handler: (payload: unknown, topic: string) => void): Promise<Subscription>;
  async subscribe(topic: string, handler: (payload: never, topic: never) => void): Promise<Subscription> {
    const extension = this.connection.extension(topics);
    if (!extension) throw new Error("this connection was opened without topics");
    return extension.subscriptions.subscribe(topic, handler as Listener);
  }

  /**
   * Sends the server a notification on one of the topics it handles (`NOTIFY`): fire and
   * forget. The server handles a connection's notifications in the order sent; one it
   * cannot handle comes back as a warning to `onWarning` naming the topic.
   */
  publish<K extends keyof P & string>(topic: K, payload: P[K]): void {
    this.connection.send([Kind.NOTIFY, topic, payload]);
  }
}
