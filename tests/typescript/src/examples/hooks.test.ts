// Credentials on the WebSocket upgrade: the hooks example's generated SDK against the
// running hooks server, which authenticates connections by an `Authorization: Bearer`
// header (or a `token` cookie) and refuses a wrong token with HTTP 401 before the
// upgrade. The SDK sends `headers` through the `ws` package.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client, ConnectionError, ErrorCode, VolleyError } from "../../generated/hooks/src/index.js";
import { eventually, serverUrl, startProxy } from "./helpers.js";

const url = serverUrl("hooks");
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("hooks: headers on the upgrade", () => {
  test("an Authorization header authenticates the connection", async () => {
    for (const encoding of ["json", "msgpack"] as const) {
      const alice = await Client.connect(url, { encoding, headers: bearer("alice-token") });
      const bob = await Client.connect(url, { encoding, headers: bearer("bob-token") });
      try {
        assert.deepEqual(await alice.whoami(), { name: "alice", role: "admin" });
        assert.deepEqual(await bob.whoami(), { name: "bob", role: "user" });
      } finally {
        await alice.close();
        await bob.close();
      }
    }
  });

  test("without headers the connection is anonymous", async () => {
    const anonymous = await Client.connect(url);
    try {
      assert.equal(await anonymous.whoami(), null);
    } finally {
      await anonymous.close();
    }
  });

  test("a Cookie header works too", async () => {
    const bob = await Client.connect(url, { headers: { Cookie: "theme=dark; token=bob-token" } });
    try {
      assert.deepEqual(await bob.whoami(), { name: "bob", role: "user" });
    } finally {
      await bob.close();
    }
  });

  test("admin methods: alice (admin) may, bob (user) gets PERMISSION_DENIED", async () => {
    const alice = await Client.connect(url, { headers: bearer("alice-token") });
    const bob = await Client.connect(url, { headers: bearer("bob-token") });
    try {
      await alice.echo({ text: "hi", delay_ms: 0 });
      const timings = await alice.admin.timings();
      assert.ok((timings.echo?.calls ?? 0) >= 1, JSON.stringify(timings));
      await assert.rejects(bob.admin.timings(), (err: unknown) => {
        assert.ok(err instanceof VolleyError);
        assert.equal(err.codeName, "PERMISSION_DENIED");
        assert.match(err.message, /bob is not an admin/);
        return true;
      });
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  test("a wrong token is refused before the upgrade: the error names HTTP 401 and the server's reason", async () => {
    const started = Date.now();
    await assert.rejects(Client.connect(url, { headers: bearer("mallory-token") }), (err: unknown) => {
      assert.ok(err instanceof ConnectionError, String(err));
      assert.match(err.message, /HTTP 401/);
      assert.match(err.message, /UNAUTHENTICATED/);
      assert.match(err.message, /unknown token/, "the body of the refusal");
      assert.equal(err.status, 401);
      assert.equal(err.code, ErrorCode.UNAUTHENTICATED, "the code of the volley-error-code header");
      return true;
    });
    assert.ok(Date.now() - started < 5000, "failed at once, not by the connect timeout");
  });

  test("the headers are sent again on every reconnect", async () => {
    const proxy = await startProxy(url);
    const states: string[] = [];
    const alice = await Client.connect(proxy.url, {
      headers: bearer("alice-token"),
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      onStateChange: (state) => states.push(state),
    });
    try {
      assert.deepEqual(await alice.whoami(), { name: "alice", role: "admin" });
      proxy.cut();
      await eventually(() => states.includes("reconnecting") && alice.connection.state === "open", 5000);
      assert.equal(proxy.accepted, 2);
      assert.deepEqual(await alice.whoami(), { name: "alice", role: "admin" });
    } finally {
      await alice.close();
      await proxy.close();
    }
  });

  test("where there is a global WebSocket (Node 22+), headers still go through the `ws` package", async () => {
    const g = globalThis as { WebSocket?: unknown };
    const before = g.WebSocket;
    let used = 0;
    g.WebSocket = class NoHeaders {
      constructor() {
        used++;
        throw new Error("the global WebSocket cannot send headers");
      }
    };
    try {
      const alice = await Client.connect(url, { headers: bearer("alice-token") });
      try {
        assert.deepEqual(await alice.whoami(), { name: "alice", role: "admin" });
      } finally {
        await alice.close();
      }
      assert.equal(used, 0, "the global WebSocket was not used");
      // Asked for by name, the global WebSocket is refused with a reason.
      await assert.rejects(
        Client.connect(url, { headers: bearer("alice-token"), WebSocket: g.WebSocket as never }),
        (err: unknown) => {
          assert.ok(err instanceof TypeError, String(err));
          assert.match(err.message, /`headers`/);
          assert.match(err.message, /global WebSocket takes no headers/);
          return true;
        },
      );
      assert.equal(used, 0);
    } finally {
      g.WebSocket = before;
    }
  });
});
