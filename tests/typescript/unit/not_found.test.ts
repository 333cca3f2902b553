// Unit tests of the METHOD_NOT_FOUND data a client serving calls answers with
// (templates/typescript/runtime/server_calls.ts; PROTOCOL.md section 7).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { methodNotFound } from "../../../templates/typescript/runtime/server_calls.js";

const served = ["add", "calc.add", "calc.sci.sin", "calc.sci.cos", "version", "volley.introspect"];

describe("methodNotFound", () => {
  it("says where the lookup stopped and what that namespace has", () => {
    assert.deepEqual(methodNotFound("calc.trig.sin", served), {
      method: "calc.trig.sin",
      namespace: "calc",
      missing: "trig",
      available: ["add", "sci."],
    });
    assert.deepEqual(methodNotFound("calc.sci.tan", served).available, ["cos", "sin"]);
    assert.deepEqual(methodNotFound("nope", served), {
      method: "nope",
      namespace: "",
      missing: "nope",
      available: ["add", "calc.", "version", "volley."],
    });
  });

  it("stops at a method the name goes on past, and at a namespace asked for as a method", () => {
    const past = methodNotFound("calc.add.x", served);
    assert.equal(past.namespace, "calc");
    assert.equal(past.missing, "add");
    const ns = methodNotFound("calc.sci", served);
    assert.equal(ns.namespace, "calc.sci");
    assert.equal(ns.missing, "");
  });

  it("bounds the names it quotes and caps the list", () => {
    const d = methodNotFound("x".repeat(1000), served);
    assert.equal(d.method, "x".repeat(128) + "...");
    const many = Array.from({ length: 100 }, (_, i) => `m${String(i).padStart(3, "0")}`);
    assert.equal(methodNotFound("nope", many).available.length, 64);
  });
});
