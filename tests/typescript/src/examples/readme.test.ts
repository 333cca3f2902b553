// The README's TypeScript snippets, run as written against the running example servers.
//
// The ```ts blocks are read from README.md when the test runs; only the server URLs and
// the package imports are rewritten (to the running servers and the generated SDKs).
// They are compiled with `tsc --strict` and run with node, and what they print is
// checked against the README's `// ...` comments, so the README cannot drift from the
// SDK without this failing.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { serverUrl } from "./helpers.js";

const suite = fileURLToPath(new URL("../../../", import.meta.url)); // tests/typescript/
const readme = join(suite, "../../README.md");
const work = join(suite, "dist/readme");

const servers: Record<string, { readmeUrl: string; name: string }> = {
  "calculator-client": { readmeUrl: "ws://127.0.0.1:8000/", name: "calculator" },
  "streams-client": { readmeUrl: "ws://127.0.0.1:8001/", name: "streams" },
  "device-client": { readmeUrl: "ws://127.0.0.1:8004/", name: "device" },
  "machines-client": { readmeUrl: "ws://127.0.0.1:8005/", name: "machines" },
};

function tsBlocks(): string[] {
  return [...readFileSync(readme, "utf8").matchAll(/```ts\n(.*?)```/gs)].map((m) => m[1]!);
}

function only(blocks: string[], marker: string): string {
  const found = blocks.filter((b) => b.includes(marker));
  assert.equal(found.length, 1, `README.md should have exactly one \`\`\`ts block with ${marker}`);
  return found[0]!;
}

/** Points the README's URLs at the running servers and its packages at the generated SDKs. */
function rewrite(code: string): string {
  for (const [pkg, { readmeUrl, name }] of Object.entries(servers)) {
    code = code.replaceAll(readmeUrl, serverUrl(name));
    code = code.replaceAll(`from "${pkg}"`, `from "../../generated/${name}/src/index.js"`);
  }
  return code;
}

/** The `// ...` comments of the block's `console.log` lines: what the README says they print. */
function commentedOutput(block: string): string[] {
  return block
    .split("\n")
    .filter((line) => line.includes("console.log("))
    .map((line) => /\/\/\s*(.*?)\s*$/.exec(line)?.[1])
    .filter((comment): comment is string => comment !== undefined);
}

/** Node prints strings inside objects with single quotes; the README writes double ones. */
const printed = (out: string) => out.trimEnd().split("\n").map((line) => line.replaceAll("'", '"'));

const blocks = tsBlocks();
const calculator = only(blocks, '"calculator-client"');
const streams = only(blocks, "client.countdown(");
const device = only(blocks, '"device-client"');
const machines = only(blocks, '"machines-client"');
const outputs: Record<string, string> = {};

describe("README TypeScript snippets", () => {
  before(() => {
    assert.ok(calculator.includes(servers["calculator-client"]!.readmeUrl), "the calculator snippet connects to the URL the README names");
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const sources: Record<string, string> = {
      calculator: rewrite(calculator),
      device: rewrite(device),
      machines: rewrite(machines),
      // The streams snippet uses a connected `client`: give it one, and report how its
      // last call (cancelled through the AbortSignal) ends.
      streams: rewrite(
        [
          'import { Client, VolleyError } from "streams-client";',
          "",
          'const client = await Client.connect("ws://127.0.0.1:8001/");',
          "async function snippet(): Promise<void> {",
          streams,
          "}",
          "try {",
          "  await snippet();",
          '  console.log("snippet finished");',
          "} catch (e) {",
          '  console.log("snippet rejected:", e instanceof VolleyError ? e.codeName : String(e));',
          "} finally {",
          "  await client.close();",
          "}",
        ].join("\n"),
      ),
    };
    for (const [name, source] of Object.entries(sources)) {
      assert.ok(!source.includes("-client\""), `every package import of the ${name} snippet is rewritten`);
      writeFileSync(join(work, `${name}.ts`), `// From a \`\`\`ts block of README.md.\n${source}`);
    }
    writeFileSync(
      join(work, "tsconfig.json"),
      JSON.stringify({
        extends: "../../tsconfig.json",
        compilerOptions: { strict: true, rootDir: "../..", outDir: "out" },
        include: Object.keys(sources).map((name) => `${name}.ts`),
      }),
    );
    const tsc = join(suite, "node_modules/typescript/bin/tsc");
    try {
      execFileSync(process.execPath, [tsc, "--strict", "-p", join(work, "tsconfig.json")], { encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      const { stdout, stderr } = e as { stdout: string; stderr: string };
      assert.fail(`the README's TypeScript snippets do not compile with tsc --strict:\n${stdout}${stderr}`);
    }
    for (const name of Object.keys(sources)) {
      outputs[name] = execFileSync(process.execPath, [join(work, `out/dist/readme/${name}.js`)], { encoding: "utf8", timeout: 20_000 });
    }
  });

  test("the calculator snippet prints what its comments say", () => {
    const out = printed(outputs.calculator!);
    assert.deepEqual(out, commentedOutput(calculator), "the output matches the README's comments");
    assert.deepEqual(out, ["3", "6", '1000 { kind: "DivisionByZero" }']);
  });

  test("the sessions snippet prints what its comments say", () => {
    const out = printed(outputs.device!);
    assert.deepEqual(out, commentedOutput(device), "the output matches the README's comments");
    assert.equal(out.length, 6);
  });

  test("the state-machine snippet prints what its comments say", () => {
    const out = printed(outputs.machines!);
    assert.deepEqual(out, commentedOutput(machines), "the output matches the README's comments");
    assert.equal(out.length, 3);
  });

  test("the streams snippet counts down and its sleep is cancelled by the AbortSignal", () => {
    assert.deepEqual(printed(outputs.streams!), ["3", "2", "1", "snippet rejected: CANCELLED"]);
  });
});
