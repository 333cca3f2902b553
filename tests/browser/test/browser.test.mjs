// The checked-in example SDKs in headless Chromium: the test page imports them as
// plain ES modules and drives the running example servers over the browser's native
// WebSocket, in both encodings; this file asserts on what the page reports, and on the
// frames Chromium itself saw on the wire.
//
// Needs VOLLEY_CALCULATOR_URL, VOLLEY_STREAMS_URL and VOLLEY_MACHINES_URL (ws://...), the TLS calculators
// VOLLEY_CALCULATOR_TLS_URL and VOLLEY_CALCULATOR_UNTRUSTED_URL (wss://...), the
// base64 SHA-256 of the trusted one's public key (VOLLEY_TEST_SPKI, which Chromium is
// told to accept, as if a private CA signed it that the system trusts), and the page
// compiled into build/www: run it through run.sh.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { startStaticServer } from "./static-server.mjs";

const executablePath = "/usr/bin/chromium";
/** How long one scenario may run in the page before the test gives up on it. */
const scenarioTimeoutMs = 60_000;

function serverUrl(name) {
  const url = process.env[`VOLLEY_${name.toUpperCase()}_URL`];
  assert.ok(url, `VOLLEY_${name.toUpperCase()}_URL is not set: run tests/browser/run.sh`);
  return url;
}

let browser;
let page;
let site;
/** What went wrong in the page: uncaught errors, console errors, failed requests. */
const problems = [];
/** Every WebSocket the page opened, with the kinds of frames that went each way. */
const sockets = [];

before(async () => {
  site = await startStaticServer();
  const spki = process.env.VOLLEY_TEST_SPKI;
  assert.ok(spki, "VOLLEY_TEST_SPKI is not set: run tests/browser/run.sh");
  browser = await chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-dev-shm-usage", `--ignore-certificate-errors-spki-list=${spki}`],
  });
  page = await browser.newPage();
  page.on("pageerror", (err) => problems.push(`uncaught: ${err.name}: ${err.message || "(no message)"}${err.stack ? `\n${err.stack}` : ""}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("requestfailed", (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on("websocket", (ws) => {
    const seen = { url: ws.url(), sent: { text: 0, binary: 0 }, received: { text: 0, binary: 0 }, closed: false };
    sockets.push(seen);
    ws.on("framesent", ({ payload }) => seen.sent[typeof payload === "string" ? "text" : "binary"]++);
    ws.on("framereceived", ({ payload }) => seen.received[typeof payload === "string" ? "text" : "binary"]++);
    ws.on("close", () => (seen.closed = true));
    ws.on("socketerror", (error) => {
      seen.closed = true;
      seen.error = error;
    });
  });
  await page.goto(site.url);
  try {
    await page.waitForFunction(() => window.volley !== undefined, null, { timeout: 15000 });
  } catch (err) {
    throw new Error(`the test page did not load its modules: ${err.message}\n${problems.join("\n")}\nmissing: ${site.missing.join(", ")}`);
  }
});

after(async () => {
  await browser?.close();
  await site?.close();
});

/** Runs one of the page's scenarios and returns its report and the sockets it opened. */
async function scenario(name, url, encoding) {
  const from = sockets.length;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} over ${encoding} did not finish within ${scenarioTimeoutMs} ms\n${problems.join("\n")}`)), scenarioTimeoutMs);
  });
  const running = page.evaluate(({ name, url, encoding }) => window.volley[name](url, encoding), { name, url, encoding });
  const report = await Promise.race([running, timeout]).finally(() => clearTimeout(timer));
  return { report, sockets: sockets.slice(from) };
}

/** Checks that the page's sockets went to `url` and carried frames of the encoding only. */
function checkWire(opened, url, encoding) {
  assert.ok(opened.length >= 1, "the page opened a WebSocket that Chromium saw");
  for (const ws of opened) {
    assert.equal(ws.url, url);
    const other = encoding === "json" ? "binary" : "text";
    const own = encoding === "json" ? "text" : "binary";
    assert.equal(ws.sent[other] + ws.received[other], 0, `no ${other} frames over ${encoding}: ${JSON.stringify(ws)}`);
    assert.ok(ws.sent[own] > 0 && ws.received[own] > 0, `${own} frames both ways: ${JSON.stringify(ws)}`);
  }
}

function value(outcome, what) {
  assert.ok(outcome, `${what}: no outcome reported`);
  assert.ok(outcome.ok, `${what} failed: ${JSON.stringify(outcome.error)}`);
  return outcome.value;
}

function failure(outcome, what) {
  assert.ok(outcome, `${what}: no outcome reported`);
  assert.ok(!outcome.ok, `${what} should have failed but returned ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

test("the page loads the SDKs as ES modules, with nothing missing or failing", () => {
  assert.deepEqual(site.missing, [], "every module the page asked for was served");
  assert.deepEqual(problems, []);
});

for (const encoding of ["json", "msgpack"]) {
  describe(`calculator in Chromium over ${encoding}`, () => {
    const url = serverUrl("calculator");
    let r;
    let opened;

    before(async () => {
      ({ report: r, sockets: opened } = await scenario("runCalculator", url, encoding));
    });

    test("uses the browser's native WebSocket and negotiates the encoding", () => {
      assert.equal(r.nativeWebSocket, true);
      assert.equal(r.encoding, encoding);
      checkWire(opened, url, encoding);
    });

    test("add", () => {
      assert.equal(value(r.add, "add"), 3);
      assert.equal(value(r.addNegative, "add"), -42);
      assert.deepEqual(value(r.addWide, "add beyond 2^53"), { bigint: (2n ** 60n + 1n).toString() });
      assert.deepEqual(value(r.parallel, "50 adds at once"), Array.from({ length: 50 }, (_, i) => 2 * i));
    });

    test("divide, and division by zero as a typed error", () => {
      assert.equal(value(r.divide, "divide"), 3.5);
      const err = failure(r.divideByZero, "divide by zero");
      assert.equal(err.isVolleyError, true);
      assert.equal(err.methodError, true, "isMethodError(err, 'divide')");
      assert.equal(err.code, 1000);
      assert.equal(err.codeName, "APPLICATION");
      assert.equal(err.message, "division by zero");
      assert.deepEqual(err.data, { kind: "DivisionByZero" });
    });

    test("calc.evaluate", () => {
      const report = value(r.evaluate, "calc.evaluate");
      assert.equal(report.label, "browser");
      assert.equal(report.succeeded, 4);
      assert.deepEqual(report.outcomes, {
        total: { value: 6.5, error: null },
        cube: { value: 8, error: null },
        minus: { value: -4, error: null },
        third: { value: 0.333, error: null },
      });
    });
  });

  describe(`streams in Chromium over ${encoding}`, () => {
    const url = serverUrl("streams");
    let r;
    let opened;

    before(async () => {
      ({ report: r, sockets: opened } = await scenario("runStreams", url, encoding));
    });

    test("uses the browser's native WebSocket and negotiates the encoding", () => {
      assert.equal(r.nativeWebSocket, true);
      assert.equal(r.encoding, encoding);
      checkWire(opened, url, encoding);
    });

    test("countdown: a server stream read with for await", () => {
      assert.deepEqual(value(r.countdown, "countdown"), {
        items: [5, 4, 3, 2, 1],
        metadata: { "countdown-from": "5" },
        trailers: { "countdown-finished": "true" },
      });
      assert.deepEqual(value(r.countdownWindowed, "countdown under a window of 4"), { count: 100, last: 1 });
    });

    test("sum: a client stream", () => {
      assert.deepEqual(value(r.sum, "sum"), { total: 5050, trailers: { count: "100" } });
      assert.equal(value(r.sumArray, "sum of an array, scaled by metadata"), 3);
    });

    test("chat: a bidirectional stream", () => {
      const replies = value(r.chat, "chat");
      assert.equal(replies.length, 20);
      replies.forEach((reply, i) => assert.deepEqual(reply, { from: "echo", text: `ada: HELLO ${i}` }));
    });

    test("cancel with an AbortSignal: a unary call, observed by the server", () => {
      const { outcome, elapsedMs, before, after } = r.cancelSleep;
      const err = failure(outcome, "a cancelled sleep");
      assert.equal(err.isVolleyError, true);
      assert.equal(err.codeName, "CANCELLED");
      assert.ok(elapsedMs < 2000, `rejected ${elapsedMs} ms after the call, not when the sleep ended`);
      assert.equal(after, before + 1, "the server's stats count the cancelled handler");
    });

    test("cancel with an AbortSignal: a server stream, observed by the server", () => {
      const { outcome, items, before, after } = r.cancelCountdown;
      const err = failure(outcome, "a cancelled countdown");
      assert.equal(err.isVolleyError, true);
      assert.equal(err.codeName, "CANCELLED");
      assert.deepEqual(items, [1000, 999]);
      assert.equal(after, before + 1, "the server's stats count the cancelled stream");
    });

    test("a time limit: DEADLINE_EXCEEDED from the server", () => {
      const { outcome, elapsedMs, before, after } = r.timeout;
      const err = failure(outcome, "a sleep past its time limit");
      assert.equal(err.isVolleyError, true);
      assert.equal(err.codeName, "DEADLINE_EXCEEDED");
      assert.doesNotMatch(err.message, /no answer within/, "the server's ERROR came before the SDK's own fallback timer");
      assert.ok(elapsedMs >= 100 && elapsedMs < 2000, `rejected after ${elapsedMs} ms for a limit of 150 ms`);
      assert.equal(after, before + 1, "the server stopped the handler at its deadline");
      assert.deepEqual(value(r.withinTimeout, "a sleep within its time limit"), 5);
    });
  });
}

for (const encoding of ["json", "msgpack"]) {
  describe(`a state machine in Chromium over ${encoding}`, () => {
    const url = serverUrl("machines");
    let r;
    let opened;

    before(async () => {
      ({ report: r, sockets: opened } = await scenario("runMachines", url, encoding));
    });

    test("the light goes round: red, green, yellow, red, each transition pushed before its result", () => {
      assert.equal(r.nativeWebSocket, true);
      checkWire(opened, url, encoding);
      assert.equal(r.initial, "red");
      assert.equal(value(r.go, "light.go"), 12);
      assert.deepEqual(r.states, ["green", "yellow", "red"]);
      assert.deepEqual(r.iterated, ["green", "yellow", "red"], "the async iterator saw every transition");
      assert.equal(r.synced, "red", "the server agrees where the session is");
    });

    test("a data event without a transition, then the refusals", () => {
      const pings = value(r.pings, "light.ping");
      assert.deepEqual(r.pushes, [
        { state: "green", status: 200, data: { seconds: 12 } },
        { status: 200, data: { pings } },
        { state: "yellow", status: 200, data: null },
        { state: "red", status: 200, data: null },
      ]);
      const skip = failure(r.skip, "light.skip");
      assert.equal(skip.codeName, "TRANSITION_NOT_ALLOWED");
      assert.deepEqual(skip.data, { machine: "light", from: "green", to: "red", targets: ["yellow"] });
      const wrong = failure(r.wrongEvent, "light.go in green");
      assert.equal(wrong.codeName, "EVENT_NOT_ALLOWED");
      assert.deepEqual(wrong.data.events, ["ping", "skip", "slow"]);
    });
  });
}

describe("calculator in Chromium over wss://", () => {
  const url = serverUrl("calculator_tls");
  let r;
  let opened;

  before(async () => {
    assert.match(url, /^wss:\/\/127\.0\.0\.1:\d+\/$/);
    ({ report: r, sockets: opened } = await scenario("runCalculator", url, "msgpack"));
  });

  test("connects with the browser's native WebSocket, trusting the server's certificate", () => {
    assert.equal(r.nativeWebSocket, true);
    assert.equal(r.encoding, "msgpack");
    checkWire(opened, url, "msgpack");
  });

  test("calls work", () => {
    assert.equal(value(r.add, "add"), 3);
    assert.deepEqual(value(r.addWide, "add beyond 2^53"), { bigint: (2n ** 60n + 1n).toString() });
    assert.equal(value(r.divide, "divide"), 3.5);
    assert.equal(failure(r.divideByZero, "divide by zero").message, "division by zero");
    assert.equal(value(r.evaluate, "calc.evaluate").succeeded, 4);
  });
});

describe("what a browser cannot do", () => {
  test("headers and TLS options fail at once, pointing to the browser's ways, with no socket opened", async () => {
    const { report: r, sockets: opened } = await scenario("runBrowserOnlyRefusals", serverUrl("calculator"), "json");
    const headers = failure(r.headers, "connect with headers");
    assert.equal(headers.ctor, "TypeError");
    assert.match(headers.message, /cannot send HTTP headers/);
    assert.match(headers.message, /cookie/);
    assert.match(headers.message, /\?access_token=/);
    const ca = failure(r.ca, "connect with ca");
    assert.equal(ca.ctor, "TypeError");
    assert.match(ca.message, /`ca`/);
    assert.match(ca.message, /takes no TLS options/);
    assert.deepEqual(opened, [], "no WebSocket was opened");
  });

  test("a certificate it does not trust fails the connection", async () => {
    const url = serverUrl("calculator_untrusted");
    const { report: r, sockets: opened } = await scenario("runUntrusted", url, "json");
    const err = failure(r.outcome, "connect to an untrusted server");
    assert.equal(err.ctor, "ConnectionError");
    assert.equal(err.codeName, "UNAVAILABLE");
    assert.match(err.message, /^cannot connect to wss:\/\/127\.0\.0\.1:/);
    assert.ok(r.elapsedMs < 4000, `failed at once, not by the connect timeout (${r.elapsedMs} ms)`);
    assert.equal(opened.length, 1);
    // Chromium says why on the console (the page cannot know): the certificate. That
    // error was expected, so it is not one of the page's problems.
    const said = problems.filter((p) => p.includes(url.replace(/\/$/, "")));
    assert.ok(said.some((p) => /ERR_CERT_/.test(p)), `Chromium named a certificate error: ${JSON.stringify(said)}`);
    for (const p of said) problems.splice(problems.indexOf(p), 1);
  });
});

test("the page's sockets were all closed, and nothing failed in the page", async () => {
  const deadline = Date.now() + 3000;
  while (sockets.some((s) => !s.closed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(sockets.length >= 6, `one socket per scenario: ${sockets.length}`);
  assert.deepEqual(sockets.filter((s) => !s.closed).map((s) => s.url), [], "client.close() closed every socket");
  assert.deepEqual(problems, []);
  assert.deepEqual(site.missing, []);
});
