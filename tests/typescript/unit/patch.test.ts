// Unit tests of the runtime's JSON Patch (templates/typescript/runtime/patch.ts), which
// shared states are mirrored with.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { applyPatch } from "../../../templates/typescript/runtime/patch.js";

describe("applyPatch", () => {
  it("applies every RFC 6902 operation", () => {
    const doc = { a: 1, list: [1, 2, 3], nested: { "x/y": { "~k": true } } };
    const out = applyPatch(doc, [
      { op: "add", path: "/b", value: { c: [] } },
      { op: "add", path: "/list/1", value: 9 },
      { op: "add", path: "/list/-", value: 4 },
      { op: "replace", path: "/a", value: "one" },
      { op: "remove", path: "/list/0" },
      { op: "move", from: "/nested/x~1y/~0k", path: "/moved" },
      { op: "copy", from: "/b", path: "/b2" },
      { op: "test", path: "/a", value: "one" },
    ]);
    assert.deepEqual(out, { a: "one", list: [9, 2, 3, 4], nested: { "x/y": {} }, b: { c: [] }, moved: true, b2: { c: [] } });
  });

  it("leaves the original document alone", () => {
    const doc = { list: [1] };
    applyPatch(doc, [{ op: "add", path: "/list/-", value: 2 }]);
    assert.deepEqual(doc, { list: [1] });
  });

  it("replaces the whole document at the root and starts from nothing", () => {
    assert.deepEqual(applyPatch(undefined, [{ op: "add", path: "", value: { jobs: {} } }]), { jobs: {} });
    assert.equal(applyPatch({ a: 1 }, [{ op: "remove", path: "" }]), undefined);
  });

  it("compares 64-bit integers exactly in test", () => {
    assert.doesNotThrow(() => applyPatch({ n: 2n ** 63n }, [{ op: "test", path: "/n", value: 2n ** 63n }]));
    assert.throws(() => applyPatch({ n: 2n ** 63n }, [{ op: "test", path: "/n", value: 2n ** 63n - 1n }]), /test failed/);
  });

  it("rejects what is not a patch", () => {
    assert.throws(() => applyPatch({}, { op: "add" }), /list of operations/);
    assert.throws(() => applyPatch({}, [{ op: "frobnicate", path: "/a" }]), /unknown patch operation/);
    assert.throws(() => applyPatch({}, [{ op: "add", path: "a", value: 1 }]), /bad JSON pointer/);
    assert.throws(() => applyPatch({}, [{ op: "add", path: "/x/y", value: 1 }]), /path not found/);
  });
});
