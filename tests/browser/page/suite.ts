// Runs in the browser: drives the example servers through the checked-in example SDKs,
// imported as plain ES modules, over the browser's own WebSocket. Each scenario
// returns what it observed as plain data (values, or the errors calls failed with);
// the Node test asserts on it, so nothing is judged here.

import * as calculator from "../../../examples/calculator/sdk/typescript/src/index.js";
import * as streams from "../../../examples/streams/sdk/typescript/src/index.js";
import * as machines from "../../../examples/machines/sdk/typescript/src/index.js";

type Encoding = "json" | "msgpack";

/** A value made safe to hand back to Node: bigints become `{ bigint: "digits" }`. */
function plain(value: unknown): unknown {
  if (typeof value === "bigint") return { bigint: value.toString() };
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Uint8Array) return Array.from(value);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value === undefined ? null : value;
}

interface ErrorSeen {
  ctor: string;
  isVolleyError: boolean;
  methodError: boolean;
  code: number | null;
  codeName: string | null;
  message: string;
  data: unknown;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: ErrorSeen };

function describeError(err: unknown, volleyError: Function, methodError: boolean): ErrorSeen {
  const e = err as { code?: number; codeName?: string; message?: string; data?: unknown } | undefined;
  return {
    ctor: (err as object | undefined)?.constructor?.name ?? typeof err,
    isVolleyError: err instanceof volleyError,
    methodError,
    code: typeof e?.code === "number" ? e.code : null,
    codeName: typeof e?.codeName === "string" ? e.codeName : null,
    message: String(e?.message ?? err),
    data: plain(e?.data),
  };
}

/** Settles a call and records how: its value, or the error it failed with. */
async function settle(
  run: () => Promise<unknown>,
  volleyError: Function,
  isMethodError: (err: unknown) => boolean = () => false,
): Promise<Outcome> {
  try {
    return { ok: true, value: plain(await run()) };
  } catch (err) {
    return { ok: false, error: describeError(err, volleyError, isMethodError(err)) };
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The native WebSocket the SDK will pick up: it must be the browser's own. */
function nativeWebSocket() {
  const ws = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof ws === "function" && /\[native code\]/.test(Function.prototype.toString.call(ws));
}

export async function runCalculator(url: string, encoding: Encoding) {
  const { Client, VolleyError, isMethodError } = calculator;
  const client = await Client.connect(url, { encoding: [encoding], connectTimeoutMs: 5000 });
  try {
    const settleCalc = (run: () => Promise<unknown>, method?: string) =>
      settle(run, VolleyError, method ? (err) => isMethodError(err, method as "divide") : undefined);
    return {
      nativeWebSocket: nativeWebSocket(),
      encoding: client.connection.encoding,
      add: await settleCalc(() => client.add({ a: 1, b: 2 })),
      addNegative: await settleCalc(() => client.add({ a: -40, b: -2 })),
      addWide: await settleCalc(() => client.add({ a: 2n ** 60n, b: 1 })),
      divide: await settleCalc(() => client.divide({ a: 7, b: 2 }), "divide"),
      divideByZero: await settleCalc(() => client.divide({ a: 1, b: 0 }), "divide"),
      evaluate: await settleCalc(() =>
        client.calc.evaluate({
          batch: {
            label: "browser",
            operations: {
              total: { op: "sum", args: [1, 2, 3.5] },
              cube: { op: "power", args: { value: 2, exponent: 3 } },
              minus: { op: "negate", args: 4 },
              third: { op: "power", args: { value: 3, exponent: -1 } },
            },
            precision: 3,
          },
        }),
      ),
      parallel: await settleCalc(() => Promise.all(Array.from({ length: 50 }, (_, i) => client.add({ a: i, b: i })))),
    };
  } finally {
    await client.close();
  }
}

export async function runStreams(url: string, encoding: Encoding) {
  const { Client, VolleyError } = streams;
  const client = await Client.connect(url, { encoding: [encoding], connectTimeoutMs: 5000 });
  const settleStreams = (run: () => Promise<unknown>) => settle(run, VolleyError);
  const cancelled = async () => Number((await client.stats()).cancelled);
  /** Polls the server's cancel counter until it passes `before`, for up to 3 seconds. */
  const cancelledAfter = async (before: number) => {
    const deadline = Date.now() + 3000;
    let now = await cancelled();
    while (now <= before && Date.now() < deadline) {
      await sleep(20);
      now = await cancelled();
    }
    return now;
  };

  try {
    const results: Record<string, unknown> = { nativeWebSocket: nativeWebSocket(), encoding: client.connection.encoding };

    // Server stream, read with for await.
    results.countdown = await settleStreams(async () => {
      const stream = client.countdown({ from: 5, interval_ms: 1 });
      const items: number[] = [];
      for await (const n of stream) items.push(n);
      return { items, metadata: await stream.metadata, trailers: stream.trailers };
    });

    // A longer one under a small window, so credit has to be granted while reading.
    results.countdownWindowed = await settleStreams(async () => {
      let count = 0;
      let last = -1;
      for await (const n of client.countdown({ from: 100, interval_ms: 0 }, { window: 4 })) {
        count++;
        last = n;
      }
      return { count, last };
    });

    // Client stream: an async generator uploaded under the server's credit.
    results.sum = await settleStreams(async () => {
      async function* numbers() {
        for (let i = 1; i <= 100; i++) {
          if (i % 25 === 0) await sleep(1);
          yield i;
        }
      }
      let trailers: Record<string, string> | undefined;
      const total = await client.sum(numbers(), { onTrailers: (t) => (trailers = t) });
      return { total, trailers };
    });
    results.sumArray = await settleStreams(() => client.sum([0.5, 0.25], { metadata: { scale: "4" } }));

    // Bidirectional stream: messages go up from an async generator, replies are read
    // with for await while it still sends.
    results.chat = await settleStreams(async () => {
      async function* messages() {
        for (let i = 0; i < 20; i++) {
          await sleep(0);
          yield { from: "ada", text: `hello ${i}` };
        }
      }
      const replies: unknown[] = [];
      for await (const reply of client.chat(messages(), { window: 4 })) replies.push(reply);
      return replies;
    });

    // Cancel a unary call with an AbortSignal; the server counts the cancelled handler.
    {
      const before = await cancelled();
      const controller = new AbortController();
      const pending = settleStreams(() => client.sleep({ ms: 10000 }, { signal: controller.signal }));
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();
      const outcome = await pending;
      results.cancelSleep = { outcome, elapsedMs: Date.now() - started, before, after: await cancelledAfter(before) };
    }

    // Cancel a server stream with an AbortSignal while reading it.
    {
      const before = await cancelled();
      const controller = new AbortController();
      const items: number[] = [];
      const outcome = await settleStreams(async () => {
        for await (const n of client.countdown({ from: 1000, interval_ms: 5 }, { signal: controller.signal })) {
          items.push(n);
          if (items.length === 2) controller.abort();
        }
      });
      results.cancelCountdown = { outcome, items, before, after: await cancelledAfter(before) };
    }

    // A time limit: sent as the call's deadline, enforced by the server.
    {
      const before = await cancelled();
      const started = Date.now();
      const outcome = await settleStreams(() => client.sleep({ ms: 10000 }, { timeoutMs: 150 }));
      const elapsedMs = Date.now() - started;
      results.timeout = { outcome, elapsedMs, before, after: await cancelledAfter(before) };
      results.withinTimeout = await settleStreams(() => client.sleep({ ms: 5 }, { timeoutMs: 5000 }));
    }

    return results;
  } finally {
    await client.close();
  }
}

/**
 * Connect options a browser's WebSocket cannot honour: `headers` (it cannot send HTTP
 * headers on the upgrade) and TLS options. Both must fail before any socket is opened.
 */
export async function runBrowserOnlyRefusals(url: string, encoding: Encoding) {
  const { Client, VolleyError } = calculator;
  return {
    headers: await settle(() => Client.connect(url, { encoding: [encoding], headers: { Authorization: "Bearer alice-token" } }), VolleyError),
    ca: await settle(() => Client.connect(url, { encoding: [encoding], ca: "-----BEGIN CERTIFICATE-----" }), VolleyError),
  };
}

/** Connecting to a server whose certificate the browser does not trust. */
export async function runUntrusted(url: string, encoding: Encoding) {
  const { Client, VolleyError } = calculator;
  const started = Date.now();
  const outcome = await settle(() => Client.connect(url, { encoding: [encoding], connectTimeoutMs: 5000 }), VolleyError);
  return { outcome, elapsedMs: Date.now() - started };
}

declare global {
  interface Window {
    volley?: {
      runCalculator: typeof runCalculator;
      runStreams: typeof runStreams;
      runMachines: typeof runMachines;
      runBrowserOnlyRefusals: typeof runBrowserOnlyRefusals;
      runUntrusted: typeof runUntrusted;
    };
  }
}

export async function runMachines(url: string, encoding: Encoding) {
  const { Client, VolleyError } = machines;
  const client = await Client.connect(url, { encoding: [encoding], connectTimeoutMs: 5000 });
  const light = client.machines.light;
  try {
    const results: Record<string, unknown> = { nativeWebSocket: nativeWebSocket(), initial: light.state };
    const pushes: unknown[] = [];
    light.onTransition((t) => pushes.push({ state: t.state, status: t.status, data: plain(t.data) }));
    light.onData((d) => pushes.push({ status: d.status, data: plain(d.data) }));
    const iterated: string[] = [];
    const reading = (async () => {
      for await (const t of light.transitions()) {
        iterated.push(t.state);
        if (iterated.length === 3) break;
      }
    })();
    const states: string[] = [];
    const red = light.current;
    results.go = await settle(async () => (red.state === "red" ? red.events.go({ seconds: 12 }) : Promise.reject(new Error(`in ${red.state}`))), VolleyError);
    states.push(light.state);
    const green = light.current;
    if (green.state === "green") {
      results.pings = await settle(() => green.events.ping(), VolleyError);
      results.skip = await settle(() => green.events.skip(), VolleyError);
      results.wrongEvent = await settle(() => light.send("go", { seconds: 1 }), VolleyError);
      await green.events.slow();
    }
    states.push(light.state);
    const yellow = light.current;
    if (yellow.state === "yellow") await yellow.events.stop();
    states.push(light.state);
    await reading;
    Object.assign(results, { states, pushes, iterated, synced: await light.sync() });
    return results;
  } finally {
    await client.close();
  }
}

window.volley = { runCalculator, runStreams, runMachines, runBrowserOnlyRefusals, runUntrusted };
