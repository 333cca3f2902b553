// A tiny static HTTP server for the test page: `/` is page/index.html, `/vendor/msgpack/`
// is @msgpack/msgpack's ES modules, and everything else comes from build/www (the
// compiled SDKs and page). Requests it cannot answer are recorded in `missing`.

import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const browserDir = path.resolve(here, "..");

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
};

/** Maps a URL path onto a file inside `root`, or null if it would leave it. */
function inside(root, urlPath) {
  const file = path.resolve(root, "." + path.posix.normalize(urlPath));
  return file === root || file.startsWith(root + path.sep) ? file : null;
}

function locate(urlPath) {
  if (urlPath === "/" || urlPath === "/index.html") return path.join(browserDir, "page", "index.html");
  if (urlPath.startsWith("/vendor/msgpack/")) {
    return inside(path.join(browserDir, "node_modules", "@msgpack", "msgpack", "dist.esm"), urlPath.slice("/vendor/msgpack".length));
  }
  return inside(path.join(browserDir, "build", "www"), urlPath);
}

/** Starts the server on a free port of 127.0.0.1. */
export async function startStaticServer() {
  const missing = [];
  const server = http.createServer(async (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    const file = locate(urlPath);
    try {
      if (!file) throw new Error("outside the served folders");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(body);
    } catch {
      if (!urlPath.endsWith("favicon.ico")) missing.push(urlPath);
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    missing,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
