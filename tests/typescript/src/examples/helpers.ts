// Helpers shared by the suites that drive the example servers: where the servers are,
// a WebSocket that records every frame in both directions (to check flow control from
// outside the SDK), and a TCP proxy that can cut connections (to test connection loss
// against a real server).

import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { Decoder } from "@msgpack/msgpack";
import { WebSocket as NodeWebSocket } from "ws";

/** The WebSocket URL of a running example server, from `VOLLEY_<NAME>_URL` (set by run.sh). */
export function serverUrl(name: string): string {
  const variable = `VOLLEY_${name.toUpperCase()}_URL`;
  const url = process.env[variable];
  if (!url) throw new Error(`${variable} is not set: run these tests through tests/typescript/run.sh, which starts the ${name} server`);
  return url;
}

/** Resolves once `check()` holds; rejects after `ms`. */
export function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await check()) resolve();
      else if (Date.now() - start > ms) reject(new Error(`condition not met within ${ms} ms`));
      else setTimeout(tick, 10);
    };
    void tick();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Yields `items` one by one, pausing `ms` before each. */
export async function* slowly<T>(items: T[], ms = 1): AsyncIterable<T> {
  for (const item of items) {
    await sleep(ms);
    yield item;
  }
}

/** One frame seen on a recorded socket: `out` was sent by the client. */
export interface Seen {
  dir: "in" | "out";
  frame: unknown[];
}

/**
 * A WebSocket class (the `ws` package's) that logs every frame it sends and receives,
 * decoded, in the order they crossed the socket. Pass it as `WebSocket` to
 * `Client.connect`.
 */
export function recordingWebSocket(log: Seen[]) {
  const decoder = new Decoder({ useBigInt64: true });
  const decode = (data: unknown, binary: boolean): unknown[] => {
    if (binary) {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
      return decoder.decode(bytes) as unknown[];
    }
    return JSON.parse(typeof data === "string" ? data : Buffer.from(data as Uint8Array).toString("utf8")) as unknown[];
  };
  return class RecordingWebSocket extends NodeWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.on("message", (data: Buffer, isBinary: boolean) => log.push({ dir: "in", frame: decode(data, isBinary) }));
    }

    override send(data: unknown, ...rest: unknown[]): void {
      log.push({ dir: "out", frame: decode(data, typeof data !== "string") });
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  };
}

/** Frames of call `id` in a log. */
export function framesOf(log: Seen[], id: number): Seen[] {
  return log.filter((s) => s.frame[0] !== 10 && s.frame[0] !== 11 && Number(s.frame[1]) === id);
}

/** The id of the last call of `method` the client started. */
export function callId(log: Seen[], method: string): number {
  const call = log.findLast((s) => s.dir === "out" && s.frame[0] === 0 && s.frame[2] === method);
  if (!call) throw new Error(`no CALL of ${method} was sent`);
  return Number(call.frame[1]);
}

/**
 * Checks the credit rule of PROTOCOL.md section 4 for the items one side streamed on a
 * call: at every point, items sent never exceed the credit granted before them.
 * `sender` is the side that streamed items; `initial` its starting credit.
 * Returns the number of items and of credit grants seen.
 */
export function checkCredit(frames: Seen[], sender: "in" | "out", initial: number): { items: number; grants: number } {
  let credit = initial;
  let items = 0;
  let grants = 0;
  for (const { dir, frame } of frames) {
    if (frame[0] === 7 && dir !== sender) {
      credit += Number(frame[2]);
      grants++;
    } else if (frame[0] === 3 && dir === sender) {
      items++;
      if (credit <= 0) throw new Error(`item ${items} was sent without credit`);
      credit--;
    }
  }
  return { items, grants };
}

/** A TCP proxy in front of a server, whose connections can be cut. */
export interface Proxy {
  /** `ws://` URL of the proxy. */
  url: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Destroys every open connection, as if the network dropped. */
  cut(): void;
  /** While true, new connections are closed at once. */
  refuse: boolean;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<Proxy> {
  const { hostname, port } = new URL(target.replace(/^ws/, "http"));
  const sockets = new Set<Socket>();
  const proxy: Proxy = {
    url: "",
    accepted: 0,
    refuse: false,
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close() {
      proxy.cut();
      return new Promise((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((client) => {
    proxy.accepted++;
    if (proxy.refuse) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  proxy.url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return proxy;
}
