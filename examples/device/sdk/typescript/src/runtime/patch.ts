// The volley runtime: JSON Patch (RFC 6902), which `STATE` frames carry. Included only
// in SDKs whose service has shared states. Copied verbatim into every SDK by `volley
// generate typescript`: edit templates/typescript/runtime/ in the volley repository,
// not a copy.

import { stringifyJson } from "./codec.js";
import { isRecord } from "./frames.js";

/** Applies a JSON Patch (RFC 6902) to a copy of `doc`. */
export function applyPatch(doc: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new Error("a patch must be a list of operations");
  let root = doc === undefined ? undefined : structuredClone(doc);
  const parse = (path: string): string[] => {
    if (path === "") return [];
    if (!path.startsWith("/")) throw new Error(`bad JSON pointer ${path}`);
    return path.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
  };
  const parentOf = (tokens: string[]): [unknown, string] => {
    let node: unknown = root;
    for (const t of tokens.slice(0, -1)) {
      if (Array.isArray(node)) node = node[Number(t)];
      else if (isRecord(node)) node = node[t];
      else throw new Error(`path not found: /${tokens.join("/")}`);
    }
    return [node, tokens[tokens.length - 1]!];
  };
  const get = (path: string): unknown => {
    let node: unknown = root;
    for (const t of parse(path)) node = Array.isArray(node) ? node[Number(t)] : isRecord(node) ? node[t] : undefined;
    return node;
  };
  const remove = (path: string): unknown => {
    const tokens = parse(path);
    if (tokens.length === 0) {
      const old = root;
      root = undefined;
      return old;
    }
    const [parent, key] = parentOf(tokens);
    if (Array.isArray(parent)) return parent.splice(Number(key), 1)[0];
    if (isRecord(parent)) {
      const old = parent[key];
      delete parent[key];
      return old;
    }
    throw new Error(`path not found: ${path}`);
  };
  const add = (path: string, value: unknown, replace: boolean): void => {
    const tokens = parse(path);
    if (tokens.length === 0) {
      root = value;
      return;
    }
    const [parent, key] = parentOf(tokens);
    if (Array.isArray(parent)) {
      const index = key === "-" ? parent.length : Number(key);
      if (replace) parent[index] = value;
      else parent.splice(index, 0, value);
    } else if (isRecord(parent)) parent[key] = value;
    else throw new Error(`path not found: ${path}`);
  };
  for (const op of patch) {
    if (!isRecord(op) || typeof op.path !== "string") throw new Error("bad patch operation");
    switch (op.op) {
      case "add":
        add(op.path, structuredClone(op.value), false);
        break;
      case "replace":
        add(op.path, structuredClone(op.value), true);
        break;
      case "remove":
        remove(op.path);
        break;
      case "move": {
        const v = remove(String(op.from));
        add(op.path, v, false);
        break;
      }
      case "copy":
        add(op.path, structuredClone(get(String(op.from))), false);
        break;
      case "test":
        if (stringifyJson(get(op.path)) !== stringifyJson(op.value)) throw new Error(`test failed at ${op.path}`);
        break;
      default:
        throw new Error(`unknown patch operation ${String(op.op)}`);
    }
  }
  return root;
}
