// The device example's generated SDK against the running device server, in both
// encodings: event envelopes typed as unions by `kind`, the emergency and property
// topics, a warning on a call, notifications the client publishes (handled in order,
// the refused ones coming back as warnings that name the topic), and a state each
// connection has its own document of.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  type Console,
  type DeviceEventEnvelope,
  type EmergencyEnvelope,
  type Encoding,
  type Jog,
  type PropertyChange,
  type VolleyWarning,
  type CalibrationProgress,
  ErrorCode,
  VolleyError,
} from "../../generated/device/src/index.js";
import { eventually, serverUrl, startProxy } from "./helpers.js";

const url = serverUrl("device");

for (const encoding of ["json", "msgpack"] as Encoding[]) {
  describe(`device over ${encoding}`, () => {
    let client: Client;
    const connectionWarnings: VolleyWarning[] = [];
    const who = `ts-${encoding}`;

    before(async () => {
      client = await Client.connect(url, { encoding: [encoding], onWarning: (w) => connectionWarnings.push(w) });
      await client.device.resume({ by: who });
      await client.device.stop({ by: who });
    });

    after(async () => {
      await client.close();
    });

    test("events arrive as envelopes, typed by kind, with increasing indexes", async () => {
      const events: DeviceEventEnvelope[] = [];
      const sub = await client.topics.subscribe("device.events", (e) => events.push(e));
      await client.device.start({ by: who });
      await eventually(() => events.some((e) => e.kind === "started" && e.context.by === who));
      // The heartbeat comes every second.
      await eventually(() => events.some((e) => e.kind === "heartbeat"), 5000);
      await client.device.stop({ by: who });
      await eventually(() => events.some((e) => e.kind === "stopped" && e.context.by === who));
      await sub.unsubscribe();

      const beat = events.find((e) => e.kind === "heartbeat")!;
      // Narrowed by `kind`: only a heartbeat has `uptime_ms`.
      if (beat.kind !== "heartbeat") throw new Error("unreachable");
      assert.ok(BigInt(beat.context.uptime_ms) > 0n);
      for (const e of events) assert.match(e.when, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      const indexes = events.map((e) => BigInt(e.index));
      for (let i = 1; i < indexes.length; i++) assert.ok(indexes[i] > indexes[i - 1], "indexes increase");
    });

    test("a command that did less than it was asked warns on the call", async () => {
      const warnings: VolleyWarning[] = [];
      const changes: PropertyChange[] = [];
      const sub = await client.topics.subscribe("device.properties", (c) => changes.push(c));
      await client.device.setSpeed({ speed: 20 });
      const status = await client.device.setSpeed({ speed: 150 }, { onWarning: (w) => warnings.push(w) });
      assert.equal(status.speed, 100);
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].codeName, "APPLICATION");
      assert.deepEqual(warnings[0].data, { requested: 150, used: 100 });
      await eventually(() => changes.some((c) => c.property === "speed" && c.value === 100));
      assert.equal(changes.find((c) => c.value === 100)!.previous, 20);
      await sub.unsubscribe();
    });

    test("jogs the client publishes move the device, in the order sent", async () => {
      const changes: PropertyChange[] = [];
      const sub = await client.topics.subscribe("device.properties", (c) => changes.push(c));
      const start = (await client.device.status()).position;
      for (let delta = 1; delta <= 5; delta++) client.topics.publish("device.jog", { delta });
      const moves = () => changes.filter((c) => c.property === "position");
      await eventually(() => moves().length >= 5);
      assert.deepEqual(moves().map((c) => c.value - c.previous), [1, 2, 3, 4, 5]);
      assert.equal((await client.device.status()).position, start + 15);
      await sub.unsubscribe();
    });

    test("one console's moves happen in the order sent (a sequential method)", async () => {
      const start = (await client.device.status()).position;
      // The first settles longest: only running in order makes each answer the
      // position right after its own move.
      const after = await Promise.all([
        client.device.moveBy({ delta: 1, settle_ms: 40 }),
        client.device.moveBy({ delta: 2, settle_ms: 0 }),
        client.device.moveBy({ delta: 3, settle_ms: 0 }),
      ]);
      assert.deepEqual(after.map((p) => p - start), [1, 3, 6]);
    });

    test("a jog the device refuses comes back as a warning naming the topic", async () => {
      const emergencies: EmergencyEnvelope[] = [];
      const sub = await client.topics.subscribe("device.emergency", (e) => emergencies.push(e));
      connectionWarnings.length = 0;
      await client.device.emergencyStop({ reason: "door open", by: who });
      await eventually(() => emergencies.some((e) => e.kind === "halted" && e.context.reason === "door open"));
      const before = (await client.device.status()).position;
      client.topics.publish("device.jog", { delta: 1 });
      await eventually(() => connectionWarnings.length > 0);
      assert.equal(connectionWarnings[0].codeName, "PERMISSION_DENIED");
      assert.match(connectionWarnings[0].message, /^the notification on `device\.jog` failed: the device is halted \(door open\)/);
      assert.equal((await client.device.status()).position, before, "nothing moved");

      await client.device.resume({ by: who });
      await eventually(() => emergencies.some((e) => e.kind === "resumed"));
      // A payload of the wrong type (past the type checker on purpose).
      client.topics.publish("device.jog", { delta: "far" } as unknown as Jog);
      await eventually(() => connectionWarnings.length > 1);
      assert.equal(connectionWarnings[1].codeName, "INVALID_PARAMS");
      assert.deepEqual((connectionWarnings[1].data as { errors: Array<{ path: string }> }).errors[0].path, "delta");
      // The connection goes on.
      assert.ok(!(await client.device.status()).halted);
      await sub.unsubscribe();
    });

    test("each console mirrors its own state", async () => {
      const other = await Client.connect(url, { encoding: [encoding] });
      const seen: Console[] = [];
      const mine = await client.states.watch("device.console", (doc) => seen.push({ ...doc }));
      const theirs = await other.states.watch("device.console", () => {});
      const before = client.states.get("device.console")?.jogs ?? 0;
      for (let i = 0; i < 3; i++) client.topics.publish("device.jog", { delta: 2 });
      // `consoleSync` answers once this console's state is written, so the mirror is
      // current when it does.
      await eventually(async () => (await client.device.consoleSync()).jogs >= before + 3);
      const doc = client.states.get("device.console")!;
      assert.equal(doc.jogs, before + 3);
      assert.ok(doc.travelled >= 6);
      assert.ok(seen.length >= 1);
      assert.equal(other.states.get("device.console"), undefined, "the other console jogged nothing");
      assert.equal((await other.device.consoleSync()).jogs, 0);
      await mine.unsubscribe();
      await theirs.unsubscribe();
      await other.close();
    });
  });

  describe(`device operations over ${encoding}`, () => {
    let client: Client;

    before(async () => {
      client = await Client.connect(url, { encoding: [encoding] });
      await client.device.resume({ by: "ops" });
    });

    after(async () => {
      await client.close();
    });

    test("answered at once: a result and no operation", async () => {
      const op = client.device.calibrate({ axes: 0 });
      assert.deepEqual(await op.result(), { offsets: [] });
      assert.equal(await op.id, null);
      assert.equal(await op.cancel(), false);
    });

    test("accepted: the id at once, typed progress as it goes, then the result", async () => {
      const op = client.device.calibrate({ axes: 3, step_ms: 20 });
      const id = await op.id;
      assert.match(id ?? "", /^[0-9a-f]{32}$/);
      const seen: CalibrationProgress[] = [];
      for await (const p of op.progress()) seen.push(p);
      assert.deepEqual(seen.map((p) => [p.axis, p.of]), [[1, 3], [2, 3], [3, 3]]);
      assert.deepEqual(await op.result(), { offsets: [0.01, 0.02, 0.03] });
      const state = await op.state();
      assert.equal(state.done, true);
      assert.deepEqual(state.result, { offsets: [0.01, 0.02, 0.03] });
    });

    test("resumed by id from another client, and cancelled", async () => {
      const op = client.device.calibrate({ axes: 8, step_ms: 500 });
      const id = (await op.id)!;
      const other = await Client.connect(url, { encoding: [encoding] });
      try {
        const resumed = other.operation(id, "device.calibrate");
        assert.equal(await resumed.id, id);
        assert.equal(await resumed.cancel(), true);
        await assert.rejects(resumed.result(), (e: unknown) => e instanceof VolleyError && e.code === ErrorCode.CANCELLED);
        await assert.rejects(op.result(), (e: unknown) => e instanceof VolleyError && e.code === ErrorCode.CANCELLED);
        assert.equal(await resumed.cancel(), false, "it had ended");
        await assert.rejects(other.operation("0".repeat(32)).result(), (e: unknown) => e instanceof VolleyError && e.code === ErrorCode.OPERATION_NOT_FOUND);
      } finally {
        await other.close();
      }
    });

    test("a connection lost mid-operation still gets the result", async () => {
      const proxy = await startProxy(url);
      const own = await Client.connect(proxy.url, { encoding: [encoding], reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
      try {
        const op = own.device.calibrate({ axes: 3, step_ms: 100 });
        await op.id;
        proxy.cut();
        assert.deepEqual(await op.result(), { offsets: [0.01, 0.02, 0.03] }, "awaited by id once the connection was back");
      } finally {
        await own.close();
        await proxy.close();
      }
    });
  });
}
