// The calculator example's generated SDK against the running calculator server, in both
// encodings: unary calls, a namespaced method, typed errors, integers beyond 2^53,
// adjacently tagged enums, validation errors.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, isMethodError, VolleyError, type Encoding, type Operation } from "../../generated/calculator/src/index.js";
import { callId, framesOf, recordingWebSocket, serverUrl, type Seen } from "./helpers.js";

const url = serverUrl("calculator");

for (const encoding of ["json", "msgpack"] as Encoding[]) {
  describe(`calculator over ${encoding}`, () => {
    let client: Client;
    const log: Seen[] = [];

    before(async () => {
      client = await Client.connect(url, { encoding: [encoding], WebSocket: recordingWebSocket(log) });
    });

    after(async () => {
      await client.close();
    });

    test("negotiates the encoding it asked for", () => {
      assert.equal(client.connection.encoding, encoding);
    });

    test("add", async () => {
      assert.equal(await client.add({ a: 1, b: 2 }), 3);
      assert.equal(await client.add({ a: -40, b: -2 }), -42);
      const id = callId(log, "add");
      const [call] = framesOf(log, id);
      assert.deepEqual(call!.frame.slice(0, 3), [0, id, "add"], "a unary CALL carries id and method");
      assert.equal(id % 2, 1, "client call ids are odd");
    });

    test("integers beyond 2^53 keep every digit", async () => {
      assert.equal(await client.add({ a: 2n ** 60n, b: 1 }), 2n ** 60n + 1n);
      assert.equal(await client.add({ a: -(2n ** 62n), b: -(2n ** 62n) }), -(2n ** 63n));
      // A result that fits a double comes back as a number, whatever was sent.
      assert.equal(await client.add({ a: 2n ** 60n, b: -(2n ** 60n) + 5n }), 5);
    });

    test("divide, and its typed error", async () => {
      assert.equal(await client.divide({ a: 7, b: 2 }), 3.5);
      await assert.rejects(client.divide({ a: 1, b: 0 }), (err: unknown) => {
        assert.ok(isMethodError(err, "divide"));
        assert.equal(err.code, 1000);
        assert.equal(err.codeName, "APPLICATION");
        assert.equal(err.message, "division by zero");
        assert.deepEqual(err.data, { kind: "DivisionByZero" });
        return true;
      });
      await assert.rejects(client.divide({ a: 1e308, b: 1e-308 }), (err: unknown) => {
        assert.ok(isMethodError(err, "divide"));
        const data = err.data;
        assert.equal(data.kind, "Overflow");
        if (data.kind === "Overflow") assert.equal(data.dividend, 1e308);
        return true;
      });
    });

    test("calc.evaluate: a namespace, maps and adjacently tagged enums", async () => {
      const operations: Record<string, Operation> = {
        total: { op: "sum", args: [1, 2, 3.5] },
        cube: { op: "power", args: { value: 2, exponent: 3 } },
        minus: { op: "negate", args: 4 },
        third: { op: "power", args: { value: 3, exponent: -1 } },
        huge: { op: "power", args: { value: 10, exponent: 400 } },
      };
      const report = await client.calc.evaluate({ batch: { label: "mixed", operations, precision: 3 } });
      assert.equal(report.label, "mixed");
      assert.equal(report.succeeded, 4);
      assert.deepEqual(report.outcomes.total, { value: 6.5, error: null });
      assert.deepEqual(report.outcomes.cube, { value: 8, error: null });
      assert.deepEqual(report.outcomes.minus, { value: -4, error: null });
      assert.deepEqual(report.outcomes.third, { value: 0.333, error: null });
      assert.equal(report.outcomes.huge?.value, null);
      assert.match(report.outcomes.huge?.error ?? "", /finite/);
      const unrounded = await client.calc.evaluate({ batch: { label: "raw", operations: { third: operations.third! }, tags: ["a"] } });
      assert.equal(unrounded.outcomes.third?.value, 1 / 3);
    });

    test("invalid parameters are reported field by field", async () => {
      await assert.rejects(client.calc.evaluate({ batch: { label: "", operations: {} } }), (err: unknown) => {
        assert.ok(err instanceof VolleyError);
        assert.equal(err.codeName, "INVALID_PARAMS");
        const errors = (err.data as { errors: Array<{ path: string; message: string }> }).errors;
        assert.ok(errors.some((e) => e.path.includes("label")), JSON.stringify(errors));
        return true;
      });
    });

    test("an unknown method", async () => {
      await assert.rejects(client.connection.unary("calc.nope", {}), (err: unknown) => {
        assert.ok(err instanceof VolleyError);
        assert.equal(err.codeName, "METHOD_NOT_FOUND");
        assert.ok(!isMethodError(err, "divide"));
        // Where the lookup stopped, and what the namespace has (PROTOCOL.md section 7).
        assert.deepEqual(err.data, { method: "calc.nope", namespace: "calc", missing: "nope", available: ["evaluate"] });
        return true;
      });
    });

    test("many calls in flight at once", async () => {
      const sums = await Promise.all(Array.from({ length: 200 }, (_, i) => client.add({ a: i, b: i })));
      assert.deepEqual(sums, Array.from({ length: 200 }, (_, i) => 2 * i));
    });
  });
}
