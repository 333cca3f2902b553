// The streams example's generated SDK against the running streams server, in both
// encodings: every call shape, credit-based flow control checked on the wire, stop and
// cancel (observed server-side through `stats`), time limits, metadata both ways, typed
// errors, calls from the server into the client's handlers, connection loss and
// reconnecting.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  ConnectionError,
  isMethodError,
  VolleyError,
  type ClientHandlers,
  type ConnectionState,
  type Encoding,
  type JobEvent,
  type JobResult,
  type Message,
  type WideInt,
} from "../../generated/streams/src/index.js";
import { callId, checkCredit, eventually, framesOf, recordingWebSocket, serverUrl, sleep, slowly, startProxy, type Seen } from "./helpers.js";

const url = serverUrl("streams");

/** The job's checksum, computed the way the server does (FNV-1a over the step numbers). */
function expectedChecksum(steps: number): bigint {
  let checksum = 0xcbf29ce484222325n;
  for (let step = 1n; step <= BigInt(steps); step++) checksum = BigInt.asUintN(64, (checksum ^ step) * 0x100000001b3n);
  return checksum;
}

const asBig = (n: WideInt) => BigInt(n);

for (const encoding of ["json", "msgpack"] as Encoding[]) {
  describe(`streams over ${encoding}`, () => {
    let client: Client;
    const log: Seen[] = [];
    const questions: string[] = [];
    const numbersAsked: number[] = [];

    const handlers: ClientHandlers = {
      "client.confirm": async ({ question }, ctx) => {
        assert.equal(ctx.method, "client.confirm");
        questions.push(question);
        await sleep(1);
        return question.endsWith("?");
      },
      "client.numbers": async function* ({ count }) {
        numbersAsked.push(count);
        for (let i = 1; i <= count; i++) yield i;
      },
    };

    const stats = async () => {
      const s = await client.stats();
      return { cancelled: Number(s.cancelled), stopped: Number(s.stopped) };
    };

    before(async () => {
      client = await Client.connect(url, { encoding: [encoding], handlers, WebSocket: recordingWebSocket(log) });
    });

    after(async () => {
      await client.close();
    });

    test("negotiates the encoding it asked for", () => {
      assert.equal(client.connection.encoding, encoding);
    });

    test("server stream: items, leading and trailing metadata", async () => {
      const stream = client.countdown({ from: 5, interval_ms: 0 });
      assert.deepEqual(await stream.collect(), [5, 4, 3, 2, 1]);
      assert.deepEqual(await stream.metadata, { "countdown-from": "5" });
      assert.deepEqual(stream.trailers, { "countdown-finished": "true" });
    });

    test("server stream: credit is granted as items are read, and never exceeded", async () => {
      const items: number[] = [];
      for await (const n of client.countdown({ from: 200, interval_ms: 0 }, { window: 4 })) {
        items.push(n);
        if (n % 7 === 0) await sleep(2);
      }
      assert.equal(items.length, 200);
      assert.deepEqual(items.slice(0, 3), [200, 199, 198]);
      const id = callId(log, "countdown");
      const frames = framesOf(log, id);
      assert.deepEqual(frames[0]!.frame[4], { w: 4 }, "the CALL grants the window in ext.w");
      const { items: seen, grants } = checkCredit(frames, "in", 4);
      assert.equal(seen, 200);
      assert.ok(grants >= 90, `credit was granted ${grants} times, in small steps as items were read`);
    });

    test("server stream: stop ends it gracefully after the current item", async () => {
      const before = await stats();
      const stream = client.countdown({ from: 1000, interval_ms: 5 });
      const items: number[] = [];
      for await (const n of stream) {
        items.push(n);
        if (items.length === 3) stream.stop();
      }
      assert.ok(items.length >= 3 && items.length < 20, `stopped after ${items.length} items`);
      assert.deepEqual(stream.trailers, { "countdown-finished": "false" });
      const after = await stats();
      assert.equal(after.stopped, before.stopped + 1);
      assert.equal(after.cancelled, before.cancelled);
    });

    test("server stream: leaving the loop early cancels the call on the server", async () => {
      const before = await stats();
      for await (const n of client.countdown({ from: 1000, interval_ms: 5 })) {
        if (n === 998) break;
      }
      const id = callId(log, "countdown");
      assert.ok(framesOf(log, id).some((s) => s.dir === "out" && s.frame[0] === 5), "a CANCEL was sent");
      await eventually(async () => (await stats()).cancelled === before.cancelled + 1);
    });

    test("server stream: typed events of an internally tagged enum, u64 without loss", async () => {
      const events: JobEvent[] = [];
      for await (const event of client.job.run({ name: "build", steps: 4, step_ms: 1 })) events.push(event);
      assert.equal(events.length, 5);
      assert.deepEqual(events.slice(0, 4).map((e) => (e.type === "progress" ? e.percent : -1)), [25, 50, 75, 100]);
      const last = events[4]!;
      assert.equal(last.type, "done");
      if (last.type === "done") {
        assert.equal(last.result.name, "build");
        assert.equal(last.result.steps, 4);
        assert.equal(asBig(last.result.checksum), expectedChecksum(4));
        assert.ok(expectedChecksum(4) > 2n ** 53n, "the checksum needs more than a double's 53 bits");
      }
    });

    test("server stream: a typed application error", async () => {
      await assert.rejects(client.job.run({ name: "idle", steps: 0, step_ms: 1 }).collect(), (err: unknown) => {
        assert.ok(isMethodError(err, "job.run"));
        assert.equal(err.data.reason, "nothing_to_do");
        assert.equal(err.message, "a job needs at least one step");
        return true;
      });
    });

    test("server stream: AbortSignal cancels a running job", async () => {
      const before = await stats();
      const controller = new AbortController();
      const events: JobEvent[] = [];
      const reading = (async () => {
        for await (const e of client.job.run({ name: "long", steps: 1000, step_ms: 10 }, { signal: controller.signal })) {
          events.push(e);
          if (events.length === 2) controller.abort();
        }
      })();
      await assert.rejects(reading, (err: unknown) => err instanceof VolleyError && err.codeName === "CANCELLED");
      assert.equal(events.length, 2);
      await eventually(async () => (await stats()).cancelled === before.cancelled + 1);
    });

    test("server stream: a job of a name already running is refused with typed data", async () => {
      const name = `dup-${encoding}`;
      const controller = new AbortController();
      const first = client.job.run({ name, steps: 1000, step_ms: 10 }, { signal: controller.signal });
      const firstDone = first.collect().catch((e: unknown) => e);
      await first.metadata; // the first job is running once its stream has begun
      await assert.rejects(client.job.run({ name, steps: 1, step_ms: 1 }).collect(), (err: unknown) => {
        assert.ok(isMethodError(err, "job.run"));
        assert.deepEqual(err.data, { reason: "busy", name });
        return true;
      });
      controller.abort();
      assert.ok((await firstDone) instanceof VolleyError);
    });

    test("topics: a finished job's result is published", async () => {
      const exact: JobResult[] = [];
      const wildcard: Array<[unknown, string]> = [];
      const sub = await client.topics.subscribe("jobs.finished", (result) => exact.push(result));
      const subAll = await client.topics.subscribe("jobs.*", (payload, topic) => wildcard.push([payload, topic]));
      const name = `topic-${encoding}`;
      await client.job.run({ name, steps: 3, step_ms: 1 }).collect();
      await eventually(() => exact.some((r) => r.name === name) && wildcard.some(([, t]) => t === "jobs.finished"));
      const mine = exact.find((r) => r.name === name)!;
      assert.equal(mine.steps, 3);
      assert.equal(asBig(mine.checksum), expectedChecksum(3));
      await sub.unsubscribe();
      await subAll.unsubscribe();
      const count = exact.length;
      await client.job.run({ name: `${name}-after`, steps: 1, step_ms: 1 }).collect();
      await sleep(50);
      assert.equal(exact.length, count, "nothing arrives after unsubscribing");
    });

    test("shared state: running jobs are mirrored through JSON Patches", async () => {
      const docs: Array<Record<string, number>> = [];
      const sub = await client.states.watch("jobs", (doc) => docs.push({ ...doc }));
      const name = `state-${encoding}`;
      const run = client.job.run({ name, steps: 5, step_ms: 40 }).collect();
      await eventually(() => docs.some((d) => name in d));
      await run;
      await eventually(() => docs.length > 0 && !(name in docs.at(-1)!));
      const seen = docs.filter((d) => name in d).map((d) => d[name]!);
      assert.ok(seen.length >= 1, "the job appeared in the state while it ran");
      assert.ok(seen.every((p, i) => i === 0 || p >= seen[i - 1]!), `progress only grows: ${seen}`);
      assert.ok(!(name in (client.states.get("jobs") ?? {})));
      await sub.unsubscribe();
    });

    test("client stream: items wait for the server's credit", async () => {
      const numbers = Array.from({ length: 100 }, (_, i) => i + 1);
      let trailers: Record<string, string> | undefined;
      assert.equal(await client.sum(numbers, { onTrailers: (t) => (trailers = t) }), 5050);
      assert.deepEqual(trailers, { count: "100" });
      const frames = framesOf(log, callId(log, "sum"));
      const { items, grants } = checkCredit(frames, "out", 0);
      assert.equal(items, 100);
      assert.ok(grants >= 2, "100 items need more than the server's first window");
      assert.equal(frames.filter((s) => s.dir === "out" && s.frame[0] === 4).length, 1, "one END closes the upload");
      assert.equal(await client.sum(slowly([0.5, 0.25])), 0.75);
      assert.equal(await client.sum([]), 0);
    });

    test("client stream: metadata changes the result, and a bad value is an error", async () => {
      assert.equal(await client.sum([1, 2, 3], { metadata: { scale: "10" } }), 60);
      // Metadata sent during the upload replaces the call's.
      async function* rescaled() {
        yield 1;
        yield 2;
        upload.sendMetadata({ scale: "3" });
        yield 3;
      }
      const upload = client.sum(rescaled(), { metadata: { scale: "10" } });
      assert.equal(await upload, 18);
      const frames = framesOf(log, callId(log, "sum")).filter((s) => s.dir === "out").map((s) => s.frame[0]);
      assert.deepEqual(frames, [0, 3, 3, 8, 3, 4], "CALL, ITEM, ITEM, META, ITEM, END");
      assert.throws(() => upload.sendMetadata({ scale: "1" }), (err: unknown) => err instanceof VolleyError && /over/.test(err.message));
      await assert.rejects(client.sum([1], { metadata: { scale: "lots" } }), (err: unknown) => {
        assert.ok(err instanceof VolleyError);
        assert.equal(err.codeName, "INVALID_PARAMS");
        assert.match(err.message, /scale/);
        return true;
      });
    });

    test("client stream: a failing input cancels the call", async () => {
      async function* broken() {
        yield 1;
        throw new Error("the source broke");
      }
      await assert.rejects(client.sum(broken()), (err: unknown) => err instanceof VolleyError && err.codeName === "CANCELLED" && /source broke/.test(err.message));
    });

    test("client stream: cancel gives up on the upload", async () => {
      async function* endless() {
        for (let i = 0; ; i++) {
          await sleep(2);
          yield i;
        }
      }
      const upload = client.sum(endless());
      setTimeout(() => upload.cancel(), 30);
      await assert.rejects(upload, (err: unknown) => err instanceof VolleyError && err.codeName === "CANCELLED");
      const frames = framesOf(log, callId(log, "sum")).filter((s) => s.dir === "out");
      assert.equal(frames.at(-1)!.frame[0], 5, "CANCEL is the last frame sent for the call");
      assert.ok(frames.filter((s) => s.frame[0] === 3).length >= 2, "items went out before the cancel");
    });

    test("bidirectional stream", async () => {
      const messages: Message[] = Array.from({ length: 80 }, (_, i) => ({ from: "ada", text: `hello ${i}` }));
      const stream = client.chat(slowly(messages, 0), { window: 8 });
      const replies = await stream.collect();
      assert.equal(replies.length, 80);
      assert.deepEqual(replies[0], { from: "echo", text: "ada: HELLO 0" });
      assert.deepEqual(replies[79], { from: "echo", text: "ada: HELLO 79" });
      const frames = framesOf(log, callId(log, "chat"));
      assert.equal(checkCredit(frames, "out", 0).items, 80);
      assert.equal(checkCredit(frames, "in", 8).items, 80);
    });

    test("bidirectional stream: an item of the wrong type fails the call", async () => {
      const wrong = { from: "ada", text: 5 } as unknown as Message;
      const stream = client.chat([{ from: "ada", text: "fine" }, wrong]);
      await assert.rejects(stream.collect(), (err: unknown) => {
        assert.ok(err instanceof VolleyError);
        assert.equal(err.codeName, "INVALID_PARAMS");
        assert.match(err.message, /text/);
        return true;
      });
    });

    test("unary: AbortSignal cancels, observed on the server", async () => {
      const before = await stats();
      const controller = new AbortController();
      const pending = client.sleep({ ms: 10000 }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(pending, (err: unknown) => err instanceof VolleyError && err.codeName === "CANCELLED");
      await eventually(async () => (await stats()).cancelled === before.cancelled + 1);
      await assert.rejects(client.sleep({ ms: 1 }, { signal: AbortSignal.abort() }), (err: unknown) => err instanceof VolleyError && err.codeName === "CANCELLED");
    });

    test("unary: a time limit is sent as ext.t and enforced by the server", async () => {
      const before = await stats();
      const started = Date.now();
      await assert.rejects(client.sleep({ ms: 10000 }, { timeoutMs: 100 }), (err: unknown) => {
        assert.ok(err instanceof VolleyError);
        assert.equal(err.codeName, "DEADLINE_EXCEEDED");
        assert.doesNotMatch(err.message, /no answer within/, "the server's ERROR arrived before the local fallback timer");
        return true;
      });
      assert.ok(Date.now() - started < 1000);
      const [call] = framesOf(log, callId(log, "sleep"));
      assert.equal((call!.frame[4] as { t: number }).t, 100);
      await eventually(async () => (await stats()).cancelled === before.cancelled + 1);
      assert.equal(await client.sleep({ ms: 5 }, { timeoutMs: 5000 }), 5);
    });

    test("metadata in and out", async () => {
      let leading: Record<string, string> | undefined;
      let trailers: Record<string, string> | undefined;
      const answer = await client.echoMetadata({
        metadata: { user: "ada", "request-id": "42" },
        onMetadata: (m) => (leading = m),
        onTrailers: (t) => (trailers = t),
      });
      assert.deepEqual(answer, { user: "ada", "request-id": "42" });
      assert.deepEqual(leading, { "echo-user": "ada", "echo-request-id": "42" });
      assert.deepEqual(trailers, { "echo-user": "ada", "echo-request-id": "42" });
      assert.deepEqual(await client.echoMetadata(), {});
    });

    test("connection metadata goes with every call", async () => {
      const own = await Client.connect(url, { encoding: [encoding], metadata: { tenant: "t1" } });
      try {
        assert.deepEqual(await own.echoMetadata({ metadata: { user: "bob" } }), { tenant: "t1", user: "bob" });
      } finally {
        await own.close();
      }
    });

    test("calls from the server: a unary handler", async () => {
      assert.equal(await client.ask({ question: "Proceed?" }), true);
      assert.equal(await client.ask({ question: "Proceed." }), false);
      assert.deepEqual(questions.slice(-2), ["Proceed?", "Proceed."]);
      const serverCall = log.find((s) => s.dir === "in" && s.frame[0] === 0 && s.frame[2] === "client.confirm");
      assert.ok(serverCall && Number(serverCall.frame[1]) % 2 === 0, "the server's calls have even ids");
    });

    test("calls from the server: a streaming handler, under the server's credit", async () => {
      assert.equal(asBig(await client.sumFromClient({ count: 1000 })), 500500n);
      assert.equal(numbersAsked.at(-1), 1000);
      const call = log.findLast((s) => s.dir === "in" && s.frame[0] === 0 && s.frame[2] === "client.numbers")!;
      const id = Number(call.frame[1]);
      const ext = (call.frame[4] ?? {}) as { w?: number };
      const { items, grants } = checkCredit(framesOf(log, id), "out", ext.w ?? 32);
      assert.equal(items, 1000);
      assert.ok(grants > 0);
    });

    test("calls from the server to a client without handlers fail cleanly", async () => {
      const bare = await Client.connect(url, { encoding: [encoding] });
      try {
        await assert.rejects(bare.ask({ question: "anyone?" }), (err: unknown) => {
          assert.ok(err instanceof VolleyError);
          assert.equal(err.codeName, "UNIMPLEMENTED");
          return true;
        });
      } finally {
        await bare.close();
      }
    });

    test("a handler's error reaches the server's caller", async () => {
      const failing = await Client.connect(url, {
        encoding: [encoding],
        handlers: {
          "client.confirm": () => {
            throw new Error("no one is here");
          },
          "client.numbers": () => [],
        },
      });
      try {
        await assert.rejects(failing.ask({ question: "hello?" }), (err: unknown) => err instanceof VolleyError && /no one is here/.test(err.message));
        assert.equal(await failing.sumFromClient({ count: 0 }), 0);
      } finally {
        await failing.close();
      }
    });

    test("connection loss fails calls in flight at once; reconnecting with backoff", async () => {
      const proxy = await startProxy(url);
      const states: ConnectionState[] = [];
      const own = await Client.connect(proxy.url, {
        encoding: [encoding],
        reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
        onStateChange: (s) => states.push(s),
      });
      try {
        assert.equal(await own.sleep({ ms: 1 }), 1);
        const pending = own.sleep({ ms: 10000 });
        const stream = own.countdown({ from: 1000, interval_ms: 10 });
        const upload = own.sum(slowly(Array.from({ length: 1000 }, () => 1), 5));
        await sleep(50);
        proxy.refuse = true;
        const started = Date.now();
        proxy.cut();
        await assert.rejects(pending, (err: unknown) => err instanceof ConnectionError && /lost/.test(err.message));
        await assert.rejects(stream.collect(), ConnectionError);
        await assert.rejects(upload, ConnectionError);
        assert.ok(Date.now() - started < 1000, "calls fail as soon as the connection drops");
        await assert.rejects(own.sleep({ ms: 1 }), ConnectionError);
        await eventually(() => proxy.accepted >= 3, 5000);
        assert.equal(own.connection.state, "reconnecting");
        proxy.refuse = false;
        await eventually(() => own.connection.state === "open", 5000);
        assert.deepEqual(states.slice(0, 2), ["reconnecting", "open"]);
        assert.equal(await own.sleep({ ms: 2 }), 2);
      } finally {
        await own.close();
        await proxy.close();
      }
      assert.equal(own.connection.state, "closed");
      await assert.rejects(own.sleep({ ms: 1 }), ConnectionError);
    });
  });
}

test("an unreachable server fails with a ConnectionError", async () => {
  await assert.rejects(Client.connect("ws://127.0.0.1:9/", { connectTimeoutMs: 2000 }), ConnectionError);
});
