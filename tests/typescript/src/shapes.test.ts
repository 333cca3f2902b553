// The generated SDK of the fixture schema against the fake server, in both encodings:
// every call shape, typed errors, cancelling, time limits, metadata, calls from the
// server, topics, shared state, connection loss and reconnecting.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  ConnectionError,
  isMethodError,
  VolleyError,
  type ConnectionState,
  type Encoding,
  type Message,
  type Tree,
  type WebSocketConstructor,
} from "../generated/shapes/src/index.js";
import { WebSocket as NodeWebSocket } from "ws";
import { startFakeServer, type FakeServer } from "./fake-server.js";

async function* slowly<T>(items: T[]): AsyncIterable<T> {
  for (const item of items) {
    await new Promise((r) => setTimeout(r, 1));
    yield item;
  }
}

function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - start > ms) reject(new Error("condition not met in time"));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

for (const encoding of ["json", "msgpack"] as Encoding[]) {
  describe(`fixture service over ${encoding}`, () => {
    let server: FakeServer;
    let client: Client;
    const questions: string[] = [];

    before(async () => {
      server = await startFakeServer();
      client = await Client.connect(server.url, {
        encoding,
        handlers: {
          "ui.confirm": async ({ question }, ctx) => {
            assert.equal(ctx.method, "ui.confirm");
            questions.push(question);
            return question.endsWith("?");
          },
          "ui.progress": async (_params, input) => {
            for await (const _ of input) {
              // consume
            }
            return null;
          },
        },
      });
    });

    after(async () => {
      await client.close();
      await server.close();
    });

    test("negotiates the encoding", () => {
      assert.equal(client.connection.encoding, encoding);
    });

    test("unary calls, in namespaces too", async () => {
      assert.equal(await client.add({ a: 1, b: 2 }), 3);
      assert.equal(await client.calc.divide({ a: 6, b: 3 }), 2);
      assert.equal(await client.calc.sci.pow({ base: 2, exp: 10 }), 1024);
      assert.equal(await client.class.default(), null);
      assert.equal(await client.connect_(), null);
    });

    test("typed application errors", async () => {
      await assert.rejects(client.calc.divide({ a: 1, b: 0 }), (err: unknown) => {
        assert.ok(isMethodError(err, "calc.divide"));
        assert.equal(err.code, 1000);
        assert.equal(err.codeName, "APPLICATION");
        assert.equal(err.message, "division by zero");
        assert.equal(err.data.kind, "DivisionByZero");
        return true;
      });
    });

    test("protocol errors carry their code name", async () => {
      await assert.rejects(client.connection.unary("nope", {}), (err: unknown) => {
        assert.ok(err instanceof VolleyError);
        assert.equal(err.codeName, "METHOD_NOT_FOUND");
        assert.ok(!isMethodError(err, "calc.divide"));
        return true;
      });
    });

    test("integers beyond 2^53 keep their precision", async () => {
      assert.equal(await client.big({ n: 41 }), 42);
      assert.equal(await client.big({ n: 2n ** 60n }), 2n ** 60n + 1n);
      assert.equal(await client.big({ n: 18446744073709551614n }), 18446744073709551615n);
    });

    test("structs with every shape round-trip", async () => {
      const scalars = {
        flag: true, small: -3, medium: 300, normal: -70000, unsigned: 4000000000,
        big: 2n ** 62n, ubig: 12, size: 7, ratio: 0.5, precise: 1.25, text: "héllo \"q\"",
        letter: "x", bytes: [0, 255], list: ["a"], map: { k: 1 }, ordered: { p: { x: 1, y: 2 } },
        pair: [1, "one"] as [number, string], unit: null, anything: { free: [1, "form"] },
      };
      const echoed = await client.shapes({
        scalars,
        optionals: { nullable: null, defaulted: 1 },
        color: "deep_blue",
        shape: { Circle: { radius: 1 } },
        event: { type: "Located", x: 1, y: 2 },
        message: { t: "Edit", c: { line: 1, text: "x" } },
        value: { x: 0, y: 0 },
        flattened: { firstName: "a", ID: 1, x: 0, y: 0, extra: "yes" },
        flat_enum: { name: "n", type: "Started" },
        tree: { label: "r", children: [{ label: "c", children: [] }] },
        user: 2n ** 63n,
        rgb: [1, 2, 3],
        nothing: null,
        constrained: { level: 1, slug: "abc" },
      });
      assert.deepEqual(echoed, scalars);
    });

    test("keyword-named fields and types", async () => {
      const kw = { class: "c", from: 1, await: true, type: "t", self: 1, import: 2, lambda: 3, constructor: 4, None: 5, "kebab-case": 6, "2d": 7 };
      assert.deepEqual(await client.keywords({ class: kw, await: { then: "x" }, self: "yield" }), kw);
    });

    test("server stream with credit", async () => {
      const stream = client.countdown({ n: 70 }, { window: 4 });
      const items: number[] = [];
      for await (const n of stream) items.push(n);
      assert.equal(items.length, 70);
      assert.equal(items[0], 70);
      assert.equal(items[69], 1);
      assert.deepEqual(stream.trailers, { count: "70" });
      const grants = server.received.filter((f) => f[0] === 7 && typeof f[1] === "number" && f[1] % 2 === 1);
      assert.ok(grants.length >= 30, "credit is granted as items are read");
    });

    test("leaving a server stream early cancels it", async () => {
      const before = server.cancels.get("countdown") ?? 0;
      for await (const n of client.countdown({ n: 1000 }, { window: 2 })) {
        if (n === 998) break;
      }
      await eventually(() => (server.cancels.get("countdown") ?? 0) === before + 1);
    });

    test("client stream waits for credit", async () => {
      const items = Array.from({ length: 25 }, (_, i) => i + 1);
      assert.equal(await client.sum(slowly(items)), 325);
      assert.equal(await client.sum([2n ** 60n, 1]), 2n ** 60n + 1n);
      assert.equal(await client.sum([]), 0);
    });

    test("bidirectional stream", async () => {
      const messages: Message[] = [{ t: "Ping" }, { t: "Text", c: "hi" }, { t: "Pair", c: [1, 2] }, { t: "Edit", c: { line: 3, text: "x" } }, { t: "Text", c: "bye" }, { t: "Ping" }];
      const stream = client.echo(slowly(messages));
      assert.deepEqual(await stream.collect(), messages);
      assert.deepEqual(stream.trailers, { count: String(messages.length) });
    });

    test("AbortSignal cancels a call", async () => {
      const before = server.cancels.get("sleep") ?? 0;
      const controller = new AbortController();
      const pending = client.sleep({ ms: 5000 }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, (err: unknown) => err instanceof VolleyError && err.codeName === "CANCELLED");
      await eventually(() => (server.cancels.get("sleep") ?? 0) === before + 1);
      const aborted = AbortSignal.abort();
      await assert.rejects(client.sleep({ ms: 1 }, { signal: aborted }), (err: unknown) => err instanceof VolleyError && err.codeName === "CANCELLED");
    });

    test("time limits", async () => {
      const started = Date.now();
      await assert.rejects(client.sleep({ ms: 5000 }, { timeoutMs: 50 }), (err: unknown) => err instanceof VolleyError && err.codeName === "DEADLINE_EXCEEDED");
      assert.ok(Date.now() - started < 2000);
      const call = server.received.findLast((f) => f[0] === 0 && f[2] === "sleep") as unknown[];
      assert.deepEqual(call[4], { t: 50 });
      assert.equal(await client.sleep({ ms: 1 }, { timeoutMs: 1000 }), null);
    });

    test("metadata in and out", async () => {
      let leading: Record<string, string> | undefined;
      let trailers: Record<string, string> | undefined;
      const answer = await client.meta({
        metadata: { "x-user": "ada" },
        onMetadata: (m) => (leading = m),
        onTrailers: (t) => (trailers = t),
      });
      assert.deepEqual(answer, { "x-user": "ada" });
      assert.deepEqual(leading, { "x-lead": "1" });
      assert.deepEqual(trailers, { "x-trail": "2" });
    });

    test("calls from the server reach the handlers", async () => {
      assert.equal(await client.ask({ question: "Proceed?" }), true);
      assert.equal(await client.ask({ question: "Proceed." }), false);
      assert.deepEqual(questions.slice(-2), ["Proceed?", "Proceed."]);
    });

    test("topics", async () => {
      const seen: string[] = [];
      const sub = await client.topics.subscribe("news", (headline) => seen.push(headline));
      await client.publish({ headline: "one" });
      await eventually(() => seen.length === 1);
      await sub.unsubscribe();
      await client.publish({ headline: "two" });
      await new Promise((r) => setTimeout(r, 30));
      assert.deepEqual(seen, ["one"]);
    });

    test("shared state follows the patches", async () => {
      const docs: Tree[] = [];
      const sub = await client.states.watch("board", (doc) => docs.push(doc));
      await eventually(() => docs.length === 1);
      const before = docs[0]!.children.length;
      await client.grow({ label: `leaf-${encoding}` });
      await eventually(() => docs.length === 2);
      assert.equal(docs[1]!.children.length, before + 1);
      assert.equal(docs[1]!.children.at(-1)!.label, `leaf-${encoding}`);
      assert.equal(client.states.get("board")?.children.length, before + 1);
      await sub.unsubscribe();
    });

    test("calls in flight fail at once when the connection drops, and it reconnects", async () => {
      const states: ConnectionState[] = [];
      const own = await Client.connect(server.url, { encoding, reconnect: { initialDelayMs: 20 }, onStateChange: (s) => states.push(s) });
      const seen: string[] = [];
      await own.topics.subscribe("news", (h) => seen.push(h));
      const pending = own.sleep({ ms: 10000 });
      const stream = own.countdown({ n: 100000 }, { window: 1 });
      const started = Date.now();
      server.dropAll();
      await assert.rejects(pending, (err: unknown) => err instanceof ConnectionError && /lost/.test(err.message));
      await assert.rejects(stream.collect(), ConnectionError);
      assert.ok(Date.now() - started < 1000);
      await eventually(() => own.connection.state === "open" && states.includes("reconnecting"));
      assert.equal(await own.add({ a: 2, b: 2 }), 4);
      await eventually(() => server.received.some((f) => f[0] === 0 && f[2] === "volley.subscribe"));
      await client.publish({ headline: "after" }).catch(() => undefined);
      await own.close();
      assert.equal(own.connection.state, "closed");
      await assert.rejects(own.add({ a: 1, b: 1 }), ConnectionError);
    });
  });
}

test("the browser's and the ws package's WebSocket classes fit the WebSocket option", async () => {
  // Checked by the compiler: both assignments must type-check.
  const fromWs: WebSocketConstructor = NodeWebSocket;
  const fromDom: WebSocketConstructor | undefined = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  void fromDom;
  const server = await startFakeServer();
  try {
    const client = await Client.connect(server.url, { WebSocket: fromWs, encoding: "json" });
    assert.equal(await client.add({ a: 20, b: 22 }), 42);
    await client.close();
  } finally {
    await server.close();
  }
});

test("an unreachable server fails with a ConnectionError", async () => {
  await assert.rejects(Client.connect("ws://127.0.0.1:9/", { connectTimeoutMs: 2000 }), ConnectionError);
});

test("a server that goes silent is taken for dead after heartbeatTimeoutMs, and one that pings is kept", async () => {
  const { WebSocketServer } = await import("ws");
  // A bare WebSocket server that accepts the subprotocol and then never sends a frame;
  // `pingEveryMs` makes it ping, as a volley server does.
  const bare = async (pingEveryMs: number | undefined) => {
    const wss = new WebSocketServer({ port: 0, handleProtocols: () => "volley.v1.json" });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    wss.on("connection", (socket) => {
      if (pingEveryMs === undefined) return;
      const timer = setInterval(() => socket.ping(), pingEveryMs);
      socket.on("close", () => clearInterval(timer));
    });
    const port = (wss.address() as { port: number }).port;
    return { url: `ws://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }) };
  };
  const silent = await bare(undefined);
  const pinging = await bare(50);
  try {
    const states: ConnectionState[] = [];
    const dead = await Client.connect(silent.url, { encoding: "json", heartbeatTimeoutMs: 300, onStateChange: (s) => states.push(s) });
    const alive = await Client.connect(pinging.url, { encoding: "json", heartbeatTimeoutMs: 300 });
    await eventually(() => dead.connection.state === "closed", 3000);
    assert.deepEqual(states, ["closed"]);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(alive.connection.state, "open", "pings keep a quiet connection alive");
    await alive.close();
  } finally {
    await silent.close();
    await pinging.close();
  }
});
