// The AsyncAPI export, read by the AsyncAPI project's own parser (@asyncapi/parser):
// for every example server run.sh started, the document the server answers at
// `GET /asyncapi.json` and the one `volley asyncapi --schema <server url>` prints must
// validate and parse with no error and no warning, name the server as it was reached,
// and have the operations its introspection document implies.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DiagnosticSeverity, Parser, type AsyncAPIDocumentInterface, type Diagnostic } from "@asyncapi/parser";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** The `volley` binary run.sh built: VOLLEY_BIN, or cargo's target directory's. */
function volleyBinary(): string {
  if (process.env.VOLLEY_BIN) return process.env.VOLLEY_BIN;
  const metadata = JSON.parse(execFileSync("cargo", ["metadata", "--format-version", "1", "--no-deps"], { cwd: root, encoding: "utf8" }));
  return join(metadata.target_directory as string, "debug", "volley");
}
const volley = volleyBinary();

/** A running server: its WebSocket URL, and what reaching it takes. */
interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
  ca?: string;
}

const targets: Target[] = [];
for (const name of ["calculator", "streams", "device", "machines", "hooks"]) {
  const url = process.env[`VOLLEY_${name.toUpperCase()}_URL`];
  // The hooks server lets anonymous clients in; a token says who one is.
  if (url) targets.push({ name, url, headers: name === "hooks" ? { Authorization: "Bearer alice-token" } : undefined });
}
if (process.env.VOLLEY_CALCULATOR_TLS_URL && process.env.VOLLEY_TEST_CA) {
  targets.push({ name: "calculator over TLS", url: process.env.VOLLEY_CALCULATOR_TLS_URL, ca: process.env.VOLLEY_TEST_CA });
}

/** `GET path` beside the target's endpoint: its status and body. */
async function fetchText(target: Target, path: string, headers = target.headers ?? {}): Promise<{ status: number; body: string }> {
  const url = target.url.replace(/^ws/, "http").replace(/\/$/, "") + path;
  if (!target.ca) {
    const res = await fetch(url, { headers });
    return { status: res.status, body: await res.text() };
  }
  // fetch cannot be told to trust another CA; https.get can.
  const ca = readFileSync(target.ca);
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

/** What `volley asyncapi --schema <url>` prints, with the target's headers and CA. */
function cliDocument(target: Target): string {
  const args = ["asyncapi", "--schema", target.url];
  for (const [name, value] of Object.entries(target.headers ?? {})) args.push("-H", `${name}: ${value}`);
  if (target.ca) args.push("--cacert", target.ca);
  return execFileSync(volley, args, { encoding: "utf8", timeout: 30_000 });
}

const severities: Record<number, string> = {
  [DiagnosticSeverity.Error]: "error",
  [DiagnosticSeverity.Warning]: "warning",
  [DiagnosticSeverity.Information]: "info",
  [DiagnosticSeverity.Hint]: "hint",
};

function show(diagnostics: Diagnostic[]): string {
  return diagnostics.map((d) => `  ${severities[d.severity]} ${d.code} at ${d.path.join("/")}: ${d.message}`).join("\n");
}

/** Validates and parses `text`; fails on any error or warning, printing them all. */
async function parseStrictly(label: string, text: string): Promise<AsyncAPIDocumentInterface> {
  const parser = new Parser();
  const validated = await parser.validate(text);
  const { document, diagnostics } = await parser.parse(text);
  // Information (such as "3.1.0 is out") and hints are not failures.
  const bad = [...validated, ...diagnostics].filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning);
  if (bad.length) console.log(`${label}: the parser's errors and warnings\n${show(bad)}`);
  assert.equal(bad.length, 0, `${label}: the parser reported errors or warnings:\n${show(bad)}`);
  assert.ok(document, `${label}: the parser made no document`);
  return document;
}

interface Schema {
  name: string;
  version: string;
  methods: { name: string; side: "server" | "client"; kind: string }[];
  topics?: { name: string; publisher?: "server" | "client" }[];
  states?: { name: string }[];
  machines?: { name: string; states: { events: { name: string }[] }[] }[];
}

/** Checks `document` against the service's introspection document `schema`. */
function checkAgainstSchema(label: string, document: AsyncAPIDocumentInterface, schema: Schema, target: Target) {
  assert.equal(document.version(), "3.0.0");
  assert.equal(document.info().title(), schema.name, label);
  const server = document.servers().get("volley");
  assert.ok(server, `${label}: no server`);
  assert.equal(server.protocol(), target.url.startsWith("wss:") ? "wss" : "ws", label);
  assert.equal(`${server.protocol()}://${server.host()}${server.pathname()}`, target.url, `${label}: the server is the endpoint`);

  // One operation per method, topic, state and machine, and per event of a machine.
  const operations = document.operations();
  const events = (schema.machines ?? []).reduce((n, m) => n + new Set(m.states.flatMap((s) => s.events.map((e) => e.name))).size, 0);
  const expected = schema.methods.length + (schema.topics ?? []).length + (schema.states ?? []).length + (schema.machines ?? []).length + events;
  assert.equal(operations.length, expected, `${label}: ${operations.all().map((o) => o.id()).join(", ")}`);
  assert.ok(operations.length >= schema.methods.length);
  for (const method of schema.methods) {
    const op = operations.get(method.name);
    assert.ok(op, `${label}: no operation for the method ${method.name}`);
    assert.equal(op.action(), method.side === "server" ? "send" : "receive", `${label}: ${method.name}`);
    const reply = op.reply();
    assert.ok(reply && reply.messages().length > 0, `${label}: ${method.name} has no reply`);
    const call = op.messages().all()[0];
    assert.equal(call.name(), `${method.name}.call`);
    // The CALL frame: kind 0, an id, the method's name.
    const items = call.payload()?.items();
    assert.ok(Array.isArray(items), `${label}: ${method.name}'s CALL is a tuple`);
    assert.equal(items[0].const(), 0);
    assert.equal(items[2].const(), method.name);
  }
  for (const topic of schema.topics ?? []) {
    const op = operations.all().find((o) => o.messages().all().some((m) => m.name() === `${topic.name}.notify`));
    assert.ok(op, `${label}: no operation for the topic ${topic.name}`);
    assert.equal(op.action(), topic.publisher === "client" ? "send" : "receive", `${label}: ${topic.name}`);
  }
}

describe("AsyncAPI documents of the example servers", () => {
  test("run.sh started the servers", () => {
    assert.ok(targets.length >= 5, `servers found: ${targets.map((t) => t.name).join(", ")}`);
  });

  for (const target of targets) {
    test(`${target.name}: GET /asyncapi.json and volley asyncapi validate and match the schema`, async () => {
      const schemaAnswer = await fetchText(target, "/schema");
      assert.equal(schemaAnswer.status, 200);
      const schema = JSON.parse(schemaAnswer.body) as Schema;

      const served = await fetchText(target, "/asyncapi.json");
      assert.equal(served.status, 200, served.body);
      const raw = JSON.parse(served.body);
      assert.equal(raw.asyncapi, "3.0.0");
      for (const method of schema.methods) assert.ok(raw.operations[method.name], `GET /asyncapi.json lists ${method.name}`);
      checkAgainstSchema(`${target.name} (GET /asyncapi.json)`, await parseStrictly(`${target.name} (GET /asyncapi.json)`, served.body), schema, target);

      const printed = cliDocument(target);
      checkAgainstSchema(`${target.name} (volley asyncapi)`, await parseStrictly(`${target.name} (volley asyncapi)`, printed), schema, target);
      assert.deepEqual(JSON.parse(printed), raw, "the CLI prints what the server serves");
    });
  }

  test("hooks: the document is refused a wrong token, as the schema is", async () => {
    const hooks = targets.find((t) => t.name === "hooks");
    assert.ok(hooks);
    for (const path of ["/schema", "/asyncapi.json"]) {
      assert.equal((await fetchText(hooks, path, { Authorization: "Bearer wrong" })).status, 401, path);
    }
  });
});
