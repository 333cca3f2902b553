// The playground a volley server serves at GET /docs, in headless Chromium: the page
// reads the example servers' schemas and calls them over its own WebSocket. Clicks
// through a unary call, a typed error, a server stream cancelled halfway and a topic
// subscription, and saves a screenshot of each step in screenshots/ (not checked in).
//
// Needs VOLLEY_CALCULATOR_URL and VOLLEY_STREAMS_URL (ws://...): run it through run.sh.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const shots = new URL("../screenshots/", import.meta.url).pathname;
mkdirSync(shots, { recursive: true });

function docsUrl(name) {
  const url = process.env[`VOLLEY_${name.toUpperCase()}_URL`];
  assert.ok(url, `VOLLEY_${name.toUpperCase()}_URL is not set: run tests/browser/run.sh`);
  return url.replace(/^ws/, "http").replace(/\/?$/, "/docs");
}

let browser;
let page;
const problems = [];

before(async () => {
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-dev-shm-usage"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  page.on("pageerror", (err) => problems.push(`uncaught: ${err.message}`));
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
});

after(async () => {
  await browser?.close();
  assert.deepEqual(problems, [], "the page reported problems");
});

async function open(server, hash) {
  await page.goto(docsUrl(server) + hash);
  await page.locator("main section").waitFor();
}

test("a unary call shows its result and the time it took", async () => {
  await open("calculator", "#method/add");
  const editor = page.locator("main textarea.editor").first();
  assert.deepEqual(Object.keys(JSON.parse(await editor.inputValue())).sort(), ["a", "b"], "the editor starts with an example of the parameters");
  // Validated as typed: a string where a number belongs names the field.
  await editor.fill('{"a": "two", "b": 3}');
  await page.locator("main ul.errors li", { hasText: "a" }).first().waitFor();
  assert.match(await page.locator("main ul.errors").innerText(), /a: must be (number|integer)/);
  await page.screenshot({ path: shots + "1-invalid-params.png" });
  await editor.fill('{"a": 2, "b": 3}');
  await page.locator("main .valid", { hasText: "valid" }).waitFor();
  await page.locator('main button[data-action="call"]').click();
  await page.locator('main .outcome[data-state="ok"]').waitFor();
  assert.equal((await page.locator("main pre.result").innerText()).trim(), "5");
  assert.match(await page.locator("main .outcome .time").innerText(), /\d+(\.\d+)? m?s/);
  await page.screenshot({ path: shots + "2-unary.png" });
});

test("a typed error shows its code name and its data", async () => {
  await open("calculator", "#method/divide");
  await page.locator("main textarea.editor").first().fill('{"a": 1, "b": 0}');
  await page.locator('main button[data-action="call"]').click();
  await page.locator('main .outcome[data-state="error"]').waitFor();
  assert.equal(await page.locator("main .outcome .code-name").innerText(), "APPLICATION");
  const data = JSON.parse(await page.locator("main pre.error-data").innerText());
  assert.ok(data && typeof data === "object", "the error's data is shown as JSON");
  assert.match(JSON.stringify(data), /DivisionByZero|zero/i);
  await page.screenshot({ path: shots + "3-typed-error.png" });
});

test("a server stream shows items as they arrive and can be cancelled", async () => {
  await open("streams", "#method/countdown");
  const params = JSON.parse(await page.locator("main textarea.editor").first().inputValue());
  // Long and slow enough to cancel halfway through.
  params.from = 1000;
  params.interval_ms = 50;
  await page.locator("main textarea.editor").first().fill(JSON.stringify(params));
  await page.locator('main button[data-action="call"]').click();
  await page.waitForFunction(() => document.querySelectorAll("main ol.items li").length >= 3, null, { timeout: 20_000 });
  await page.locator('main button[data-action="cancel"]').click();
  await page.locator('main .outcome[data-state="cancelled"]').waitFor();
  const shown = await page.locator("main ol.items li").count();
  assert.ok(shown >= 3 && shown < 1000, `items before the cancel: ${shown}`);
  assert.match(await page.locator("main .outcome .status").innerText(), /Cancelled/);
  await page.screenshot({ path: shots + "4-stream-cancelled.png" });
});

test("a topic subscription shows notifications as they come", async () => {
  await open("streams", "#topic/jobs.finished");
  await page.locator('main button[data-action="subscribe"]').click();
  await page.locator('main .panel[data-subscribed="true"]').waitFor();
  // A job publishes its result on the topic when it finishes.
  // The same document (only the hash changes), so the subscription stays.
  await page.evaluate(() => { location.hash = "#method/job.run"; });
  await page.locator("main section[data-method='job.run']").waitFor();
  const editor = page.locator("main textarea.editor").first();
  const params = JSON.parse(await editor.inputValue());
  for (const [k, v] of Object.entries(params)) if (typeof v === "number") params[k] = 1;
  await editor.fill(JSON.stringify(params));
  await page.locator('main button[data-action="call"]').click();
  await page.locator('main .outcome[data-state]:not([data-state="running"])').waitFor({ timeout: 20_000 });
  await page.evaluate(() => { location.hash = "#topic/jobs.finished"; });
  await page.locator("main ol.notifications li").first().waitFor({ timeout: 20_000 });
  assert.match(await page.locator("main .sub-state").innerText(), /1 notification/);
  await page.screenshot({ path: shots + "5-topic.png" });
});
