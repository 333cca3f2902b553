// Unit tests of the runtime's encodings (templates/typescript/runtime/codec.ts): frames
// survive a round trip in both, and 64-bit integers stay exact.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { codecFor, jsonCodec, msgpackCodec, parseJson, stringifyJson, SUBPROTOCOLS } from "../../../templates/typescript/runtime/codec.js";
import { ErrorCode, VolleyError } from "../../../templates/typescript/runtime/errors.js";
import { Kind } from "../../../templates/typescript/runtime/frames.js";

const big = 2n ** 63n - 1n;
const frames: unknown[][] = [
  [Kind.CALL, 1, "calc.add", { a: 1, b: -2.5, name: "ü \"q\"\n", list: [true, false, null] }, { t: 1000, m: { "x-id": "7" } }],
  [Kind.RESULT, 3, { max: big, min: -(2n ** 63n), safe: Number.MAX_SAFE_INTEGER, unsafe: 2n ** 53n }],
  [Kind.ITEM, 5, []],
  [Kind.END, 7],
];

describe("codec", () => {
  for (const [name, codec] of [["json", jsonCodec], ["msgpack", msgpackCodec()]] as const) {
    it(`${name}: frames round-trip, 64-bit integers exact`, () => {
      for (const frame of frames) assert.deepEqual(codec.decode(codec.encode(frame)), frame);
    });

    it(`${name}: integers that fit a double come back as numbers`, () => {
      const out = codec.decode(codec.encode([Kind.RESULT, 1, 42n])) as unknown[];
      assert.equal(out[2], 42);
    });

    it(`${name}: byte arrays go as lists, undefined fields are left out`, () => {
      const out = codec.decode(codec.encode([Kind.RESULT, 1, { bytes: new Uint8Array([1, 2, 255]), gone: undefined }])) as unknown[];
      assert.deepEqual(out[2], { bytes: [1, 2, 255] });
    });
  }

  it("rejects a frame of the wrong kind of WebSocket message", () => {
    assert.throws(() => jsonCodec.decode(new Uint8Array([0x90])), (e: unknown) => e instanceof VolleyError && e.code === ErrorCode.WRONG_ENCODING);
    assert.throws(() => msgpackCodec().decode("[]"), (e: unknown) => e instanceof VolleyError && e.code === ErrorCode.WRONG_ENCODING);
  });

  it("parseJson keeps long integers exact and reads everything JSON.parse does", () => {
    assert.equal(parseJson("18446744073709551615"), 18446744073709551615n);
    assert.deepEqual(parseJson(' { "a" : [ -9223372036854775808 , 1.5e3, "x\\"y", {} ], "b": null } '), { a: [-(2n ** 63n), 1500, 'x"y', {}], b: null });
    assert.equal(parseJson("1234567890123456.5"), 1234567890123456.5);
    assert.throws(() => parseJson("[12345678901234567,"), SyntaxError);
  });

  it("stringifyJson writes bigints as plain integers", () => {
    assert.equal(stringifyJson({ n: big, f: 0.5, skip: undefined, l: [undefined, 1n] }), `{"n":${big},"f":0.5,"l":[null,1]}`);
  });

  it("picks the codec of a negotiated subprotocol", () => {
    assert.equal(codecFor(SUBPROTOCOLS.json), jsonCodec);
    assert.equal(codecFor(SUBPROTOCOLS.msgpack)?.binary, true);
    assert.equal(codecFor("chat"), undefined);
  });
});
