// A small volley server in Node serving the fixture schema
// (codegen/tests/fixtures/shapes.json; this file runs compiled, from dist/src/), for end-to-end and protocol-edge tests that
// need no Rust server. It speaks both encodings and implements every call shape,
// calls to the client, topics and shared state.

import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Decoder, Encoder } from "@msgpack/msgpack";
import { WebSocketServer, type WebSocket } from "ws";
import { parseJson, stringifyJson } from "../generated/shapes/src/runtime/codec.js";

const SCHEMA_PATH = fileURLToPath(new URL("../../../../codegen/tests/fixtures/shapes.json", import.meta.url));

type Frame = unknown[];

interface Peer {
  send(frame: Frame): void;
  binary: boolean;
  topics: Set<string>;
  states: Set<string>;
  nextId: number;
  pending: Map<number, (frame: Frame) => void>;
  calls: Map<number, ServerCall>;
  socket: WebSocket;
}

interface ServerCall {
  onItem?: (v: unknown) => void;
  onEnd?: () => void;
  onCredit?: (n: number) => void;
  onCancel?: () => void;
}

/** A running fake server. */
export interface FakeServer {
  url: string;
  httpUrl: string;
  /** Cancels seen, by method. */
  cancels: Map<string, number>;
  /** Frames received, newest last, for assertions. */
  received: Frame[];
  /** Closes every open WebSocket, as if the network dropped. */
  dropAll(): void;
  close(): Promise<void>;
}

function normalize(v: unknown): unknown {
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

export async function startFakeServer(port = 0): Promise<FakeServer> {
  const schema = readFileSync(SCHEMA_PATH, "utf8");
  const http: Server = createServer((req, res) => {
    if (req.url === "/schema") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(schema);
    } else if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  const wss = new WebSocketServer({
    server: http,
    handleProtocols: (protocols) => {
      for (const p of protocols) if (p === "volley.v1.json" || p === "volley.v1.msgpack") return p;
      return false;
    },
  });
  const cancels = new Map<string, number>();
  const received: Frame[] = [];
  const peers = new Set<Peer>();
  let board: { label: string; children: unknown[] } = { label: "root", children: [] };

  wss.on("connection", (socket) => {
    const binary = socket.protocol === "volley.v1.msgpack";
    const encoder = new Encoder({ useBigInt64: true });
    const decoder = new Decoder({ useBigInt64: true });
    const peer: Peer = {
      binary,
      topics: new Set(),
      states: new Set(),
      nextId: 2,
      pending: new Map(),
      calls: new Map(),
      socket,
      send(frame) {
        if (socket.readyState !== socket.OPEN) return;
        socket.send(binary ? encoder.encode(frame) : stringifyJson(frame));
      },
    };
    peers.add(peer);
    socket.on("close", () => peers.delete(peer));
    socket.on("message", (data, isBinary) => {
      let frame: Frame;
      try {
        if (isBinary !== binary) {
          peer.send([2, 0, 415, "wrong encoding"]);
          return;
        }
        frame = (binary ? normalize(decoder.decode(data as Buffer)) : parseJson(data.toString())) as Frame;
      } catch {
        peer.send([2, 0, 400, "undecodable", { reason: "undecodable" }]);
        return;
      }
      received.push(frame);
      handle(peer, frame);
    });
  });

  function handle(peer: Peer, frame: Frame): void {
    const [kind, id] = frame as [number, number];
    if (kind === 0) return call(peer, id, frame[2] as string, (frame[3] ?? {}) as Record<string, any>, (frame[4] ?? {}) as Record<string, any>);
    if (id % 2 === 0) {
      // An answer to a call this server made.
      const resolve = peer.pending.get(id);
      if (resolve && (kind === 1 || kind === 2)) {
        peer.pending.delete(id);
        resolve(frame);
      }
      return;
    }
    const c = peer.calls.get(id);
    if (!c) return;
    if (kind === 3) c.onItem?.(frame[2]);
    else if (kind === 4) c.onEnd?.();
    else if (kind === 7) c.onCredit?.(frame[2] as number);
    else if (kind === 5) {
      peer.calls.delete(id);
      c.onCancel?.();
    }
  }

  function callClient(peer: Peer, method: string, params: unknown): Promise<Frame> {
    const id = peer.nextId;
    peer.nextId += 2;
    return new Promise((resolve) => {
      peer.pending.set(id, resolve);
      peer.send([0, id, method, params]);
    });
  }

  function call(peer: Peer, id: number, method: string, p: Record<string, any>, ext: Record<string, any>): void {
    const result = (v: unknown, trailers?: Record<string, string>) => {
      if (!peer.calls.has(id)) return;
      peer.calls.delete(id);
      peer.send(trailers ? [1, id, v, trailers] : [1, id, v]);
    };
    const error = (code: number, message: string, data?: unknown) => {
      if (!peer.calls.has(id)) return;
      peer.calls.delete(id);
      peer.send(data === undefined ? [2, id, code, message] : [2, id, code, message, data]);
    };
    const c: ServerCall = {
      onCancel: () => cancels.set(method, (cancels.get(method) ?? 0) + 1),
    };
    peer.calls.set(id, c);
    switch (method) {
      case "add":
        return result(p.a + p.b);
      case "calc.divide":
        if (p.b === 0) return error(1000, "division by zero", { kind: "DivisionByZero" });
        return result(p.a / p.b);
      case "calc.sci.pow":
        return result(p.base ** p.exp);
      case "shapes":
        return result(p.scalars);
      case "keywords":
        return result(p.class);
      case "class.default":
      case "connect":
      case "close":
        return result(null);
      case "big":
        return result(BigInt(p.n) + 1n);
      case "meta":
        peer.send([8, id, { "x-lead": "1" }]);
        return result({ ...(ext.m ?? {}) }, { "x-trail": "2" });
      case "sleep": {
        const timer = setTimeout(() => result(null), p.ms);
        let deadline: ReturnType<typeof setTimeout> | undefined;
        if (typeof ext.t === "number") {
          deadline = setTimeout(() => {
            clearTimeout(timer);
            error(408, "deadline exceeded");
          }, ext.t);
        }
        c.onCancel = () => {
          clearTimeout(timer);
          if (deadline) clearTimeout(deadline);
          cancels.set(method, (cancels.get(method) ?? 0) + 1);
        };
        return;
      }
      case "countdown": {
        let credit = typeof ext.w === "number" ? ext.w : 32;
        let n: number = p.n;
        const total = n;
        const pump = () => {
          while (credit > 0 && n > 0 && peer.calls.has(id)) {
            peer.send([3, id, n--]);
            credit--;
          }
          if (n === 0 && peer.calls.has(id)) {
            peer.calls.delete(id);
            peer.send([4, id, { count: String(total) }]);
          }
        };
        c.onCredit = (k) => {
          credit += k;
          pump();
        };
        pump();
        return;
      }
      case "sum": {
        let total: bigint = 0n;
        let taken = 0;
        c.onItem = (v) => {
          total += BigInt(v as number | bigint);
          if (++taken % 2 === 0) peer.send([7, id, 2]);
        };
        c.onEnd = () => result(normalize(total));
        peer.send([7, id, 2]);
        return;
      }
      case "echo": {
        let count = 0;
        c.onItem = (v) => {
          count++;
          peer.send([3, id, v]);
          peer.send([7, id, 1]);
        };
        c.onEnd = () => {
          peer.calls.delete(id);
          peer.send([4, id, { count: String(count) }]);
        };
        peer.send([7, id, 4]);
        return;
      }
      case "ask":
        void callClient(peer, "ui.confirm", { question: p.question }).then((answer) => {
          if (answer[0] === 1) result(answer[2]);
          else error(answer[2] as number, `the client failed: ${String(answer[3])}`);
        });
        return;
      case "publish":
        for (const other of peers) if (other.topics.has("news")) other.send([10, "news", p.headline]);
        return result(null);
      case "grow": {
        const child = { label: p.label, children: [] };
        board = { ...board, children: [...board.children, child] };
        for (const other of peers) if (other.states.has("board")) other.send([11, "board", [{ op: "add", path: "/children/-", value: child }]]);
        return result(null);
      }
      case "volley.subscribe":
        for (const t of p.topics ?? []) peer.topics.add(t);
        for (const s of p.states ?? []) {
          peer.states.add(s);
          if (s === "board") peer.send([11, "board", [{ op: "replace", path: "", value: board }]]);
        }
        return result(null);
      case "volley.unsubscribe":
        for (const t of p.topics ?? []) peer.topics.delete(t);
        for (const s of p.states ?? []) peer.states.delete(s);
        return result(null);
      default:
        return error(404, `no such method: ${method}`, { method });
    }
  }

  await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
  const address = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${address.port}/`,
    httpUrl: `http://127.0.0.1:${address.port}`,
    cancels,
    received,
    dropAll() {
      for (const peer of peers) peer.socket.terminate();
    },
    close() {
      for (const peer of peers) peer.socket.terminate();
      return new Promise((resolve) => {
        wss.close();
        http.close(() => resolve());
      });
    },
  };
}

// `node dist/src/fake-server.js PORT` runs it on its own.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const server = await startFakeServer(Number(process.argv[2] ?? 0));
  console.log(server.httpUrl);
}
