// `wss://`: the calculator example's generated SDK against calculator servers serving
// TLS with certificates that run.sh made for this run, signed by its own test CA
// (VOLLEY_TEST_CA): one for 127.0.0.1 (VOLLEY_CALCULATOR_TLS_URL) and one for another
// host name only (VOLLEY_CALCULATOR_OTHER_HOST_URL).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { Client, ConnectionError, ErrorCode } from "../../generated/calculator/src/index.js";
import { serverUrl } from "./helpers.js";

const tlsUrl = serverUrl("calculator_tls");
const otherHostUrl = serverUrl("calculator_other_host");
const caFile = process.env.VOLLEY_TEST_CA;
if (!caFile) throw new Error("VOLLEY_TEST_CA is not set: run these tests through tests/typescript/run.sh");
const ca = readFileSync(caFile);

/** Asserts that connecting fails with a ConnectionError whose message matches all of `patterns`. */
async function refused(options: Parameters<typeof Client.connect>[1], url: string, ...patterns: RegExp[]) {
  await assert.rejects(Client.connect(url, { connectTimeoutMs: 5000, ...options }), (err: unknown) => {
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.code, ErrorCode.UNAVAILABLE);
    assert.match(err.message, /TLS certificate was not accepted/);
    for (const p of patterns) assert.match(err.message, p);
    assert.ok(err.cause instanceof Error, "the TLS error is the cause");
    return true;
  });
}

describe("calculator over wss://", () => {
  assert.match(tlsUrl, /^wss:\/\/127\.0\.0\.1:\d+\/$/);

  test("trusting the test CA (`ca` as a Buffer), calls work in both encodings", async () => {
    for (const encoding of ["json", "msgpack"] as const) {
      const client = await Client.connect(tlsUrl, { encoding, ca });
      try {
        assert.equal(client.connection.encoding, encoding);
        assert.equal(await client.add({ a: 2n ** 60n, b: 1 }), 2n ** 60n + 1n);
        assert.equal(await client.divide({ a: 7, b: 2 }), 3.5);
      } finally {
        await client.close();
      }
    }
  });

  test("`ca` as a list of PEM strings, and an https:// URL", async () => {
    const client = await Client.connect(tlsUrl.replace(/^wss:/, "https:"), { ca: [ca.toString("utf8")], rejectUnauthorized: true });
    try {
      assert.equal(await client.add({ a: 40, b: 2 }), 42);
    } finally {
      await client.close();
    }
  });

  test("without the CA the certificate is refused, and the error says why", async () => {
    await refused({}, tlsUrl, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/, /unable to verify the first certificate/);
  });

  test("a certificate for another host name is refused, and the error names the mismatch", async () => {
    await refused({ ca }, otherHostUrl, /ERR_TLS_CERT_ALTNAME_INVALID/, /Hostname\/IP does not match/, /IP: 127\.0\.0\.1 is not in the cert's list/);
  });

  test("rejectUnauthorized: false reaches the TLS layer (it accepts the unknown CA)", async () => {
    const client = await Client.connect(tlsUrl, { rejectUnauthorized: false });
    try {
      assert.equal(await client.add({ a: 1, b: 2 }), 3);
    } finally {
      await client.close();
    }
  });

  test("a plain ws:// client of the TLS server fails instead of hanging", async () => {
    const plain = tlsUrl.replace(/^wss:/, "ws:");
    const started = Date.now();
    await assert.rejects(Client.connect(plain, { connectTimeoutMs: 5000 }), ConnectionError);
    assert.ok(Date.now() - started < 4000, "failed before the connect timeout");
  });
});
