// The volley runtime: shared states — documents the server mirrors to the client, one
// JSON Patch at a time (`STATE`, PROTOCOL.md section 11). Included only in SDKs whose
// service has shared states. Copied verbatim into every SDK by `volley generate
// typescript`: edit templates/typescript/runtime/ in the volley repository, not a copy.

import type { Connection, Extension, Feature } from "./connection.js";
import { ErrorCode, VolleyError } from "./errors.js";
import { Kind, type Frame } from "./frames.js";
import { applyPatch } from "./patch.js";
import { Subscriptions, type Listener, type Subscription } from "./subscriptions.js";

/** The watched states of one connection and their latest documents. */
class States implements Extension {
  readonly subscriptions: Subscriptions;
  /** The latest document of each watched state. */
  readonly docs = new Map<string, unknown>();

  constructor(private readonly connection: Connection) {
    this.subscriptions = new Subscriptions(connection, "states");
  }

  receive(frame: Frame): boolean {
    if (frame[0] !== Kind.STATE) return false;
    const name = frame[1];
    if (typeof name !== "string") return true;
    const listeners = this.subscriptions.listeners.get(name);
    if (!listeners) return true;
    let doc: unknown;
    try {
      doc = applyPatch(this.docs.get(name), frame[2]);
    } catch (e) {
      this.connection.reportError(new VolleyError(ErrorCode.BAD_FRAME, `cannot apply the patch of state ${name}: ${e instanceof Error ? e.message : String(e)}`));
      return true;
    }
    this.docs.set(name, doc);
    for (const l of listeners) l(doc, name);
    return true;
  }

  reopened(): Promise<void> {
    // The server sends each state whole again after subscribing.
    this.docs.clear();
    return this.subscriptions.resubscribe();
  }

  watch(name: string, listener: Listener): Promise<Subscription> {
    return this.subscriptions.subscribe(
      name,
      listener,
      () => {
        if (this.docs.has(name)) listener(this.docs.get(name), name);
      },
      () => this.docs.delete(name),
    );
  }
}

/** The feature of shared states; `Client` opens its connection with it. */
export const states: Feature<States> = (connection) => new States(connection);

/** Typed shared states (PROTOCOL.md section 11); `S` maps each state name to its document. */
export class StatesApi<S> {
  /** @internal */
  constructor(private readonly connection: Connection) {}

  /** Mirrors `name`: `handler` gets the whole document after every patch. */
  async watch<K extends keyof S & string>(name: K, handler: (doc: S[K], name: K) => void): Promise<Subscription> {
    const extension = this.connection.extension(states);
    if (!extension) throw new Error("this connection was opened without shared states");
    return extension.watch(name, handler as Listener);
  }

  /** The latest document of a watched state, if one arrived. */
  get<K extends keyof S & string>(name: K): S[K] | undefined {
    return this.connection.extension(states)?.docs.get(name) as S[K] | undefined;
  }
}
