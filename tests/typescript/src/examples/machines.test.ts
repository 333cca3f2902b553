// The machines example's generated SDK against the running server, in both encodings: a
// session's state as a union narrowed by `state` (only its events type-check), the
// transitions as a callback and an async iterator, data events, the errors of an event
// the state does not have and of a forbidden transition, and a new session after a
// reconnect.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  ErrorCode,
  VolleyError,
  type DataEvent,
  type Encoding,
  type Hint,
  type LightState,
  type LightTransition,
  type LoginTransition,
} from "../../generated/machines/src/index.js";
import { eventually, serverUrl, startProxy } from "./helpers.js";

const url = serverUrl("machines");

for (const encoding of ["json", "msgpack"] as Encoding[]) {
  describe(`machines over ${encoding}`, () => {
    let client: Client;

    before(async () => {
      client = await Client.connect(url, { encoding: [encoding] });
    });

    after(async () => {
      await client.close();
    });

    test("a light goes round, each state offering only its events", async () => {
      const light = client.machines.light;
      const seen: LightTransition[] = [];
      const stop = light.onTransition((t) => seen.push(t));
      assert.equal(light.state, "red");
      let s: LightState = light.current;
      if (s.state !== "red") throw new Error(`expected red, got ${s.state}`);
      // @ts-expect-error: a red light has no `slow`.
      assert.equal(s.events.slow, undefined);
      assert.equal(await s.events.go({ seconds: 30 }), 30);
      // The transition arrived before the result.
      assert.equal(light.state, "green");
      s = light.current;
      if (s.state !== "green") throw new Error("expected green");
      assert.equal(s.data?.seconds, 30, "a green state carries how long");
      await s.events.slow();
      s = light.current;
      if (s.state !== "yellow") throw new Error("expected yellow");
      await s.events.stop();
      stop();
      assert.deepEqual(
        seen.map((t) => [t.state, t.status]),
        [
          ["green", 200],
          ["yellow", 200],
          ["red", 200],
        ],
      );
      const green = seen[0];
      if (green.state !== "green") throw new Error("unreachable");
      assert.deepEqual(green.data, { seconds: 30 });
      assert.deepEqual([...green.events].sort(), ["ping", "skip", "slow"]);
    });

    test("transitions as an async iterator, data events as a callback", async () => {
      const light = client.machines.light;
      const data: DataEvent<{ pings: number }>[] = [];
      const stopData = light.onData((d) => data.push(d));
      const transitions = light.transitions();
      const first = light.current;
      if (first.state !== "red") throw new Error("expected red");
      await first.events.go({ seconds: 5 });
      const t = await transitions.next();
      assert.equal(t.done, false);
      assert.equal(t.value.state, "green");
      const s = light.current;
      if (s.state !== "green") throw new Error("expected green");
      const pings = await s.events.ping();
      assert.deepEqual(data, [{ status: 200, data: { pings } }], "the data event came before the result");
      assert.equal(light.state, "green", "a data event is no transition");
      stopData();
      await s.events.slow();
      await (light.current as Extract<LightState, { state: "yellow" }>).events.stop();
      assert.equal((await transitions.next()).value.state, "yellow");
      assert.equal((await transitions.next()).value.state, "red");
      await transitions.return?.();
    });

    test("an event the state does not have, and a forbidden transition, change nothing", async () => {
      const light = client.machines.light;
      await assert.rejects(light.send("slow"), (e: unknown) => {
        assert.ok(e instanceof VolleyError);
        assert.equal(e.code, ErrorCode.EVENT_NOT_ALLOWED);
        assert.deepEqual(e.data, { machine: "light", state: "red", event: "slow", events: ["go"] });
        return true;
      });
      // The state is checked first, then the data.
      await assert.rejects(light.send("go", { seconds: "soon" }), (e: unknown) => e instanceof VolleyError && e.code === ErrorCode.INVALID_PARAMS);
      const s = light.current;
      if (s.state !== "red") throw new Error("expected red");
      await s.events.go({ seconds: 1 });
      const green = light.current;
      if (green.state !== "green") throw new Error("expected green");
      await assert.rejects(green.events.skip(), (e: unknown) => e instanceof VolleyError && e.code === ErrorCode.TRANSITION_NOT_ALLOWED);
      assert.equal(await light.sync(), "green", "the server's session is still green");
      await green.events.slow();
      await (light.current as Extract<LightState, { state: "yellow" }>).events.stop();
    });

    test("a login flow: hints as data events, locking, then the profile", async () => {
      const login = client.machines.login;
      const hints: DataEvent<Hint>[] = [];
      const moves: LoginTransition[] = [];
      login.onData((h) => hints.push(h));
      login.onTransition((t) => moves.push(t));
      for (let i = 0; i < 3; i++) {
        const s = login.current;
        if (s.state !== "logged_out") throw new Error(`expected logged_out, got ${s.state}`);
        assert.equal(await s.events.login({ user: "ada", password: "wrong" }), false);
      }
      assert.deepEqual(hints.map((h) => [h.status, h.data.attempts_left]), [[401, 2], [401, 1]]);
      const locked = login.current;
      if (locked.state !== "locked") throw new Error("expected locked");
      assert.deepEqual(locked.data, { attempts: 3 });
      assert.equal(moves.at(-1)?.status, 403);
      await assert.rejects(locked.events.unlock({ code: "0000" }), (e: unknown) => e instanceof VolleyError && e.code === ErrorCode.PERMISSION_DENIED);
      await locked.events.unlock({ code: "1234" });
      const out = login.current;
      if (out.state !== "logged_out") throw new Error("expected logged_out");
      await out.events.login({ user: "ada", password: "volley" });
      const inside = login.current;
      if (inside.state !== "logged_in") throw new Error("expected logged_in");
      assert.deepEqual(inside.data, { user: "ada", greeting: "welcome, ada" });
      assert.equal(await inside.events.whoami(), "ada");
      await inside.events.logout();
      assert.equal(login.state, "logged_out");
    });

    test("after a reconnect the session is new: reported as a 205 transition", async () => {
      const proxy = await startProxy(url);
      const own = await Client.connect(proxy.url, { encoding: [encoding], reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
      try {
        const light = own.machines.light;
        const seen: LightTransition[] = [];
        light.onTransition((t) => seen.push(t));
        const s = light.current;
        if (s.state !== "red") throw new Error("expected red");
        await s.events.go({ seconds: 9 });
        assert.equal(light.state, "green");
        proxy.cut();
        await eventually(() => seen.length === 2, 5000);
        assert.deepEqual([seen[1].state, seen[1].status], ["red", 205]);
        assert.equal(light.state, "red");
        const again = light.current;
        if (again.state !== "red") throw new Error("expected red");
        assert.equal(await again.events.go({ seconds: 2 }), 2);
      } finally {
        await own.close();
        await proxy.close();
      }
    });
  });
}

test("GET /health answers OK", async () => {
  const res = await fetch(url.replace(/^ws/, "http") + "health");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "OK");
});
