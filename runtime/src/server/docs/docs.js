// The volley playground: reads the service's schema (GET schema, beside this page) and
// calls it over one WebSocket in the JSON encoding (PROTOCOL.md sections 1 to 6, 10, 11).
// Plain script, no build step; Ajv (docs/ajv.min.js) checks values against their schemas.
"use strict";

(() => {
  const CALL = 0, RESULT = 1, ERROR = 2, ITEM = 3, END = 4, CANCEL = 5, STOP = 6, CREDIT = 7, META = 8, WARNING = 9, NOTIFY = 10, STATE = 11;
  const WINDOW = 16; // credit granted for a server's stream, topped up at half
  const CODE_NAMES = {
    298: "DEPRECATED", 299: "DATA_LOSS", 400: "BAD_FRAME", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
    404: "METHOD_NOT_FOUND", 405: "EVENT_NOT_ALLOWED", 406: "TRANSITION_NOT_ALLOWED", 407: "OPERATION_NOT_FOUND",
    408: "DEADLINE_EXCEEDED", 409: "DUPLICATE_CALL_ID", 410: "UNKNOWN_CALL", 412: "PROTOCOL_VIOLATION",
    413: "FRAME_TOO_LARGE", 415: "WRONG_ENCODING", 422: "INVALID_PARAMS", 429: "CREDIT_EXCEEDED", 499: "CANCELLED",
    500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 1000: "APPLICATION",
  };

  let doc = null;
  let ajv = null;
  const views = new Map(); // "#kind/name" -> element kept across navigation, so calls run on
  const $ = (sel, root = document) => root.querySelector(sel);

  /** Creates an element: h("div.a.b", {attr}, children...). */
  function h(tag, attrs, ...children) {
    const [name, ...classes] = tag.split(".");
    const el = document.createElement(name || "div");
    if (classes.length) el.className = classes.join(" ");
    if (attrs) for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "text") el.textContent = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
    return el;
  }
  // Integers beyond 2^53 arrive with all their digits (PROTOCOL.md section 2): read as
  // BigInt from their source text where the browser gives it, and shown as they came.
  const exact = (key, value, context) => typeof value === "number" && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value;
  const MARK = "__volley_bigint__";
  const showJson = (v, indent) => {
    const text = JSON.stringify(v, (k, x) => typeof x === "bigint" ? MARK + x + MARK : x, indent);
    return text === undefined ? "undefined" : text.replace(new RegExp(`"${MARK}(-?\\d+)${MARK}"`, "g"), "$1");
  };
  const pretty = (v) => showJson(v, 2);
  const clock = () => new Date().toLocaleTimeString(undefined, { hour12: false });
  const codeName = (code) => (doc?.errors || []).find((e) => e.code === code)?.name || CODE_NAMES[code] || "code " + code;

  // ---- the connection -------------------------------------------------------------

  const conn = {
    ws: null, nextId: 1, calls: new Map(), topics: new Map(), states: new Map(), opening: null,
    url() {
      const wsPath = $('meta[name="volley-ws-path"]').content || "/";
      const base = location.pathname.replace(/\/docs\/?$/, "");
      let path = wsPath === "/" ? base || "/" : base + wsPath;
      const token = $("#token").value.trim();
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      return scheme + "//" + location.host + path + (token ? "?access_token=" + encodeURIComponent(token) : "");
    },
    setState(state, text) {
      const pill = $("#conn-state");
      pill.className = "pill " + state;
      pill.textContent = text;
    },
    open() {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) return Promise.resolve(this.ws);
      if (this.opening) return this.opening;
      this.setState("connecting", "connecting…");
      this.opening = new Promise((resolve, reject) => {
        const ws = new WebSocket(this.url(), ["volley.v1.json"]);
        ws.onopen = () => {
          this.ws = ws;
          this.opening = null;
          this.setState("open", "connected · " + ws.protocol);
          resolve(ws);
        };
        ws.onmessage = (ev) => this.receive(ev.data);
        ws.onclose = (ev) => {
          const why = ev.reason ? `closed ${ev.code}: ${ev.reason}` : `closed ${ev.code}`;
          if (this.opening) {
            this.opening = null;
            reject(new Error(ev.code === 1006 ? "could not connect (refused, or credentials wanted)" : why));
          }
          this.ws = null;
          this.setState("closed", why);
          for (const call of this.calls.values()) call.fail({ code: 0, name: "DISCONNECTED", message: "the connection closed (" + why + ")" });
          this.calls.clear();
          for (const t of this.topics.values()) t.closed();
          for (const s of this.states.values()) s.closed();
        };
      });
      return this.opening;
    },
    send(frame) {
      this.ws.send(JSON.stringify(frame));
    },
    async call(method, params, ext, handler) {
      await this.open();
      const id = this.nextId;
      this.nextId += 2;
      handler.id = id;
      this.calls.set(id, handler);
      this.send(ext ? [CALL, id, method, params, ext] : [CALL, id, method, params]);
      return id;
    },
    receive(text) {
      let frame;
      try { frame = JSON.parse(text, exact); } catch { return; }
      if (!Array.isArray(frame)) return;
      const [kind, id] = frame;
      if (kind === NOTIFY) {
        const t = this.topics.get(id);
        return t ? t.notify(frame[2]) : this.anyTopic(id, frame[2]);
      }
      if (kind === STATE) return this.states.get(id)?.patch(frame[2]);
      if (kind === CALL) {
        // The server calls a method of the client: the playground serves none.
        return this.send([ERROR, id, 501, "the volley playground serves no methods"]);
      }
      if (id === 0) return connectionNote(kind === WARNING ? "warning" : "error", frame[2], frame[3], frame[4]);
      const call = this.calls.get(id);
      if (!call) return; // stale: crossed a final frame
      switch (kind) {
        case RESULT: this.calls.delete(id); call.result(frame[2], frame[3] || {}); break;
        case ERROR: this.calls.delete(id); call.fail({ code: frame[2], name: codeName(frame[2]), message: frame[3], data: frame[4], trailers: frame[5] || {} }); break;
        case ITEM: call.item(frame[2]); break;
        case END: this.calls.delete(id); call.end(frame[2] || {}); break;
        case CREDIT: call.credit(frame[2]); break;
        case META: call.meta(frame[2] || {}); break;
        case WARNING: call.warning({ code: frame[2], name: codeName(frame[2]), message: frame[3], data: frame[4] }); break;
      }
    },
    anyTopic(topic, value) {
      // A wildcard subscription (`chat.*`): every subscription it matches sees it.
      for (const [name, t] of this.topics) if (name === "*" || (name.endsWith(".*") && topic.startsWith(name.slice(0, -1)))) t.notify(value, topic);
    },
    forget(id) { this.calls.delete(id); },
  };

  function connectionNote(kind, code, message, data) {
    const log = $("#conn-log");
    const text = `${clock()} ${kind} on the connection: ${codeName(code)} (${code}) ${message || ""}${data != null ? " " + JSON.stringify(data) : ""}`;
    if (log) log.append(h("div", null, text));
    console.warn(text);
  }

  // ---- schemas: types, examples, validation ---------------------------------------

  function resolve(schema) {
    let s = schema, seen = 0;
    while (s && s.$ref && seen++ < 32) {
      const name = decodeURIComponent(s.$ref.replace(/^#\/\$defs\//, ""));
      s = doc.$defs?.[name];
    }
    return s || {};
  }
  const refName = (schema) => schema?.$ref ? decodeURIComponent(schema.$ref.replace(/^#\/\$defs\//, "")) : null;

  /** A schema as a short type expression: `number`, `[Operation]`, `"a" | "b"`, `Batch | null`. */
  function typeEl(schema, depth = 0) {
    const out = h("span.type");
    const add = (cls, text) => out.append(h("span." + cls, null, text));
    const walk = (s, d) => {
      if (s === true || s == null || (typeof s === "object" && Object.keys(s).length === 0)) return add("t-prim", "any");
      if (s === false) return add("t-prim", "never");
      const ref = refName(s);
      if (ref) {
        const a = h("a.t-ref", { href: "#type/" + encodeURIComponent(ref) }, ref);
        return out.append(a);
      }
      if (s.const !== undefined) return add("t-lit", JSON.stringify(s.const));
      if (s.enum) return s.enum.forEach((v, i) => { if (i) out.append(" | "); add("t-lit", JSON.stringify(v)); });
      const alts = s.oneOf || s.anyOf;
      if (alts) return alts.forEach((a, i) => { if (i) out.append(" | "); walk(a, d + 1); });
      if (s.allOf && s.allOf.length === 1) return walk(s.allOf[0], d);
      let types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
      if (!types.length && s.properties) types = ["object"];
      types.forEach((t, i) => {
        if (i) out.append(" | ");
        if (t === "array") {
          if (s.prefixItems) {
            out.append("(");
            s.prefixItems.forEach((p, j) => { if (j) out.append(", "); walk(p, d + 1); });
            out.append(")");
          } else { out.append("["); walk(s.items, d + 1); out.append("]"); }
        } else if (t === "object" && s.properties && d < 2) {
          out.append("{ ");
          Object.entries(s.properties).forEach(([k, v], j) => {
            if (j) out.append(", ");
            out.append(k + ((s.required || []).includes(k) ? "" : "?") + ": ");
            walk(v, d + 1);
          });
          out.append(" }");
        } else if (t === "object" && s.additionalProperties && typeof s.additionalProperties === "object") {
          out.append("{ [string]: "); walk(s.additionalProperties, d + 1); out.append(" }");
        } else add("t-prim", t);
      });
      if (!types.length) add("t-prim", "any");
      const cons = constraints(s);
      if (cons) out.append(" ", h("span.t-cons", null, cons));
    };
    walk(schema, depth);
    return out;
  }

  function constraints(s) {
    const c = [];
    if (s.format) c.push(s.format);
    if (s.minimum !== undefined) c.push("≥ " + s.minimum);
    if (s.exclusiveMinimum !== undefined) c.push("> " + s.exclusiveMinimum);
    if (s.maximum !== undefined) c.push("≤ " + s.maximum);
    if (s.exclusiveMaximum !== undefined) c.push("< " + s.exclusiveMaximum);
    if (s.minLength !== undefined) c.push("length ≥ " + s.minLength);
    if (s.maxLength !== undefined) c.push("length ≤ " + s.maxLength);
    if (s.minItems !== undefined) c.push("items ≥ " + s.minItems);
    if (s.maxItems !== undefined) c.push("items ≤ " + s.maxItems);
    if (s.pattern) c.push("/" + s.pattern + "/");
    return c.join(", ");
  }

  /** A value that fits `schema`, to start the editor with. */
  function example(schema, depth = 0) {
    if (depth > 8 || schema == null || schema === true) return null;
    const ref = refName(schema);
    const s = ref ? resolve(schema) : schema;
    if (s.default !== undefined) return s.default;
    if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
    if (s.const !== undefined) return s.const;
    if (s.enum) return s.enum[0];
    const alts = s.oneOf || s.anyOf;
    if (alts) {
      const pick = alts.find((a) => a.type !== "null" && a.const !== null) || alts[0];
      return example(pick, depth + 1);
    }
    if (s.allOf && s.allOf.length) return example(s.allOf[0], depth + 1);
    let t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") || s.type[0] : s.type;
    if (!t && s.properties) t = "object";
    switch (t) {
      case "object": {
        const o = {};
        for (const [k, v] of Object.entries(s.properties || {})) {
          if ((s.required || []).includes(k) || depth === 0) o[k] = example(v, depth + 1);
        }
        return o;
      }
      case "array": {
        if (s.prefixItems) return s.prefixItems.map((p) => example(p, depth + 1));
        const n = Math.max(s.minItems || 0, 1);
        return Array.from({ length: n }, () => example(s.items, depth + 1));
      }
      case "string": {
        const fmt = { "date-time": new Date().toISOString(), date: new Date().toISOString().slice(0, 10), uuid: "00000000-0000-4000-8000-000000000000", email: "ann@example.com", uri: "https://example.com/" }[s.format];
        if (fmt) return fmt;
        const base = "text";
        let v = base.padEnd(s.minLength || 0, "x");
        if (s.maxLength !== undefined) v = v.slice(0, s.maxLength);
        return v;
      }
      case "integer": case "number": {
        let v = 1;
        if (s.minimum !== undefined) v = Math.max(v, s.minimum);
        if (s.exclusiveMinimum !== undefined) v = Math.max(v, s.exclusiveMinimum + 1);
        if (s.maximum !== undefined) v = Math.min(v, s.maximum);
        if (s.exclusiveMaximum !== undefined) v = Math.min(v, s.exclusiveMaximum - 1);
        return t === "integer" ? Math.ceil(v) : v;
      }
      case "boolean": return false;
      case "null": return null;
      default: return null;
    }
  }

  const validators = new Map();
  /** A check of values against `schema` (with the document's `$defs`), by Ajv. */
  function validator(schema) {
    if (validators.has(schema)) return validators.get(schema);
    let fn = () => true;
    if (ajv && schema && typeof schema === "object") {
      try { fn = ajv.compile({ ...schema, $defs: doc.$defs || {} }); }
      catch (e) { console.warn("cannot check against a schema:", e.message); }
    }
    validators.set(schema, fn);
    return fn;
  }

  /** Ajv's errors as the protocol's paths (section 7): `b`, `batch.label`, `user.tags[1]`. */
  function describeErrors(errors, prefix = "") {
    const seen = new Set();
    const out = [];
    for (const e of errors || []) {
      if (e.keyword === "if") continue;
      let path = prefix;
      for (const seg of e.instancePath.split("/").slice(1)) {
        const key = seg.replace(/~1/g, "/").replace(/~0/g, "~");
        path += /^\d+$/.test(key) ? `[${key}]` : (path ? "." : "") + key;
      }
      let message = e.message;
      if (e.keyword === "required") { path += (path ? "." : "") + e.params.missingProperty; message = "is required"; }
      if (e.keyword === "additionalProperties") message = `has no field \`${e.params.additionalProperty}\``;
      if (e.keyword === "enum") message = "must be one of " + e.params.allowedValues.map((v) => JSON.stringify(v)).join(", ");
      const line = (path || "the value") + "\u0000" + message;
      if (seen.has(line)) continue;
      seen.add(line);
      out.push({ path: path || "(the value)", message });
    }
    return out;
  }

  /**
   * A JSON editor checked against `schema` as it is typed, with the problems listed
   * under it. `value()` is the parsed value, or undefined while it has problems.
   */
  function jsonEditor(schema, initial, { label, root = "" } = {}) {
    const area = h("textarea.editor", { spellcheck: "false", "aria-label": label || "JSON", rows: 6 });
    area.value = pretty(initial);
    area.rows = Math.min(Math.max(area.value.split("\n").length + 1, 4), 18);
    const list = h("ul.errors");
    const ok = h("div.valid");
    const wrap = h("div.editor-wrap", null, area, list, ok);
    let current;
    const check = () => {
      list.replaceChildren();
      ok.textContent = "";
      let v;
      try { v = JSON.parse(area.value); }
      catch (e) {
        area.classList.add("invalid");
        list.append(h("li", null, "not JSON: " + e.message));
        current = undefined;
        wrap.dispatchEvent(new Event("validity"));
        return;
      }
      const fn = validator(schema);
      if (fn(v)) {
        area.classList.remove("invalid");
        ok.textContent = "✓ valid";
        current = v;
      } else {
        area.classList.add("invalid");
        for (const e of describeErrors(fn.errors, root)) list.append(h("li", null, h("code", null, e.path), ": " + e.message));
        current = undefined;
      }
      wrap.dispatchEvent(new Event("validity"));
    };
    area.addEventListener("input", check);
    area.addEventListener("keydown", (ev) => {
      if (ev.key === "Tab" && !ev.shiftKey) { ev.preventDefault(); area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end"); check(); }
    });
    queueMicrotask(check);
    return { el: wrap, area, value: () => current, check, set(v) { area.value = pretty(v); check(); } };
  }

  // ---- JSON Patch (RFC 6902), for shared states -------------------------------------

  function applyPatch(document, ops) {
    const parse = (p) => p === "" ? [] : p.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
    const clone = (v) => v === undefined ? v : structuredClone(v);
    const get = (d, path) => path.reduce((o, k) => (o == null ? undefined : o[k]), d);
    for (const op of ops) {
      const path = parse(op.path);
      if (op.op === "test") continue;
      let value = op.op === "copy" || op.op === "move" ? clone(get(document, parse(op.from))) : clone(op.value);
      if (op.op === "move") document = remove(document, parse(op.from));
      if (op.op === "remove") { document = remove(document, path); continue; }
      if (!path.length) { document = value; continue; }
      const parent = get(document, path.slice(0, -1));
      const key = path[path.length - 1];
      if (Array.isArray(parent)) {
        const i = key === "-" ? parent.length : Number(key);
        if (op.op === "replace") parent[i] = value; else parent.splice(i, 0, value);
      } else if (parent && typeof parent === "object") parent[key] = value;
    }
    return document;
    function remove(d, path) {
      if (!path.length) return undefined;
      const parent = get(d, path.slice(0, -1));
      const key = path[path.length - 1];
      if (Array.isArray(parent)) parent.splice(Number(key), 1); else if (parent) delete parent[key];
      return d;
    }
  }

  // ---- views ----------------------------------------------------------------------

  function header(title, badges, item) {
    const out = [h("h1", null, title), h("div.badges", null, badges.map(([cls, text]) => h("span.badge" + (cls ? "." + cls : ""), null, text)))];
    if (item?.deprecated != null) out.push(h("div.deprecation", null, h("strong", null, "Deprecated. "), item.deprecated || "Do not use in new code."));
    if (item?.description) out.push(h("p.desc", null, item.description));
    return out;
  }

  function fieldsTable(schema) {
    const s = resolve(schema);
    const props = Object.entries(s.properties || {});
    if (!props.length) return h("p.muted", null, "No parameters.");
    return h("table.fields", null,
      h("tr", null, h("th", null, "name"), h("th", null, "type"), h("th", null, "description")),
      props.map(([name, p]) => h("tr", null,
        h("td.name", null, name, (s.required || []).includes(name) ? h("span.req", { title: "required" }, "required") : null),
        h("td", null, typeEl(p)),
        h("td", null, resolve(p).description || p.description || ""))));
  }

  function signature(rows) {
    return h("dl.sig", null, rows.filter(([, s]) => s != null).flatMap(([label, s]) => [h("dt", null, label), h("dd", null, typeEl(s))]));
  }

  function kvList(map) {
    const entries = Object.entries(map || {});
    if (!entries.length) return null;
    return h("div.kv", null, entries.map(([k, v]) => h("div", null, h("span.key", null, k + ": "), v)));
  }

  function methodView(m) {
    const shape = m.kind;
    const el = h("section.method", { "data-method": m.name });
    el.append(...header(m.name, [["kind", shape.replace("_", " ")], [null, m.side === "client" ? "served by clients" : "server"], m.sequential ? [null, "sequential"] : null, m.operation ? [null, "operation"] : null, m.deprecated != null ? ["dep", "deprecated"] : null].filter(Boolean), m));
    el.append(h("h2", null, "Parameters"), fieldsTable(m.params));
    el.append(h("h2", null, "Returns"), signature([["result", m.result], ["streams in (input)", m.input], ["streams out (output)", m.output], ["error data (APPLICATION)", m.error], ["progress (operation)", m.operation?.progress]]));
    if (m.side === "client") {
      el.append(h("p.muted", null, "The server calls this method on its clients; the playground serves none of them."));
      return el;
    }
    const params = jsonEditor(m.params, example(m.params), { label: "parameters of " + m.name });
    const timeout = h("input.small", { type: "number", min: "0", placeholder: "none", "aria-label": "timeout in milliseconds" });
    const metadata = h("input", { placeholder: '{"key": "value"}', "aria-label": "client metadata", size: 24 });
    const callBtn = h("button.primary", { "data-action": "call" }, "Call");
    const cancelBtn = h("button", { "data-action": "cancel", disabled: true }, "Cancel");
    const stopBtn = h("button", { "data-action": "stop", disabled: true, title: "Ask the server to end its stream gracefully" }, "Stop");
    const actions = h("div.actions", null, callBtn,
      shape === "server_stream" || shape === "bidi_stream" ? [cancelBtn, stopBtn] : cancelBtn,
      h("label", null, "timeout ms ", timeout), h("label", null, "metadata ", metadata));
    params.el.addEventListener("validity", () => { callBtn.disabled = params.value() === undefined; });
    el.append(h("div.panel", null, h("h3", null, "Try it"), params.el, actions));

    // Items the caller streams: their own editor, Send and End.
    let input = null;
    let sendBtn = null, endBtn = null;
    if (shape === "client_stream" || shape === "bidi_stream") {
      input = jsonEditor(m.input, example(m.input), { label: "item for " + m.name, root: "[item]" });
      sendBtn = h("button", { "data-action": "send", disabled: true }, "Send item");
      endBtn = h("button", { "data-action": "end", disabled: true }, "End");
      el.append(h("div.panel", null, h("h3", null, "Stream items to the server"), input.el, h("div.actions", null, sendBtn, endBtn, h("span.muted.credit"))));
    }
    const outcome = h("div.outcome.panel", { hidden: true });
    el.append(outcome);

    let active = null;
    callBtn.addEventListener("click", async () => {
      const p = params.value();
      if (p === undefined) return;
      if (active) active.abandon();
      let meta = null;
      if (metadata.value.trim()) {
        try { meta = JSON.parse(metadata.value); } catch { meta = null; }
      }
      active = run(m, p, { timeout: timeout.value === "" ? null : Number(timeout.value), meta }, outcome, { cancelBtn, stopBtn, sendBtn, endBtn, input, credit: $(".credit", el) });
    });
    cancelBtn.addEventListener("click", () => active?.cancel());
    stopBtn.addEventListener("click", () => active?.stop());
    sendBtn?.addEventListener("click", () => { const v = input.value(); if (v !== undefined) active?.sendItem(v); });
    endBtn?.addEventListener("click", () => active?.end());
    return el;
  }

  /** One call of `m`, reported into `outcome`. */
  function run(m, params, opts, outcome, ui) {
    const shape = m.kind;
    const streamsOut = shape === "server_stream" || shape === "bidi_stream";
    const streamsIn = shape === "client_stream" || shape === "bidi_stream";
    const status = h("div.status.running", null, h("span.what", null, "calling…"), h("span.time"));
    const warnings = h("div");
    const leading = h("div");
    const items = h("ol.items", { hidden: true });
    const body = h("div");
    outcome.hidden = false;
    outcome.replaceChildren(status, warnings, leading, items, body);
    const started = performance.now();
    let done = false, received = 0, unacked = 0, credit = 0, sent = 0, ended = false;
    const queue = [];
    const elapsed = () => { const ms = performance.now() - started; return ms < 1000 ? ms.toFixed(1) + " ms" : (ms / 1000).toFixed(2) + " s"; };
    const setButtons = () => {
      ui.cancelBtn.disabled = done;
      if (ui.stopBtn) ui.stopBtn.disabled = done || !streamsOut;
      if (ui.sendBtn) ui.sendBtn.disabled = done || ended;
      if (ui.endBtn) ui.endBtn.disabled = done || ended;
      if (ui.credit) ui.credit.textContent = streamsIn && !done ? `credit ${credit}${queue.length ? `, ${queue.length} waiting` : ""}` : "";
    };
    const finish = (cls, what, extra) => {
      if (done) return;
      done = true;
      status.className = "status " + cls;
      status.replaceChildren(h("span.what", null, what), h("span.time", null, elapsed()));
      outcome.dataset.state = cls;
      if (extra) body.append(...extra.filter((x) => x != null));
      setButtons();
    };
    const addItem = (value, dir) => {
      items.hidden = false;
      const n = dir === "sent" ? ++sent : ++received;
      items.append(h("li." + (dir || "got"), null, h("span.n", null, "#" + n), h("span.at", null, clock()), h("span.v", null, showJson(value))));
      items.scrollTop = items.scrollHeight;
    };
    const flush = () => {
      while (credit > 0 && queue.length && !done) {
        const v = queue.shift();
        if (v === END_MARK) { conn.send([END, handler.id]); ended = true; continue; }
        credit--;
        conn.send([ITEM, handler.id, v]);
        addItem(v, "sent");
      }
      if (queue[0] === END_MARK && !done) { queue.shift(); conn.send([END, handler.id]); ended = true; }
      setButtons();
    };
    const END_MARK = {};
    const handler = {
      id: 0,
      result(value, trailers) {
        finish("ok", "OK", [h("div.sub", null, "result"), h("pre.json.result", null, pretty(value)), trailerBlock(trailers)]);
      },
      fail(e) {
        const extra = [h("div.error-line", null, h("strong.code-name", null, e.name), ` (${e.code}) `, h("span.message", null, e.message || ""))];
        if (e.data !== undefined && e.data !== null) extra.push(h("div.sub", null, "data"), h("pre.json.error-data", null, pretty(e.data)));
        extra.push(trailerBlock(e.trailers));
        finish("error", "Error: " + e.name, extra);
      },
      item(value) {
        addItem(value);
        unacked++;
        if (unacked >= WINDOW / 2 && !done) { conn.send([CREDIT, handler.id, unacked]); unacked = 0; }
      },
      end(trailers) { finish("ok", `Stream ended · ${received} item${received === 1 ? "" : "s"}`, [trailerBlock(trailers)]); },
      credit(n) { credit += n; flush(); },
      meta(map) { leading.replaceChildren(h("div.sub", null, "leading metadata"), kvList(map) || h("span.muted", null, "(none)")); },
      warning(w) { warnings.append(h("div.warning", null, `⚠ ${w.name} (${w.code}): ${w.message}`, w.data != null ? " " + JSON.stringify(w.data) : "")); },
    };
    const ext = {};
    if (opts.meta && typeof opts.meta === "object") ext.m = opts.meta;
    if (opts.timeout != null && !Number.isNaN(opts.timeout)) ext.t = opts.timeout;
    if (streamsOut) ext.w = WINDOW;
    conn.call(m.name, params, Object.keys(ext).length ? ext : null, handler)
      .then(() => { if (!done) status.replaceChildren(h("span.what", null, streamsOut ? "streaming…" : "waiting for the answer…"), h("span.time")); setButtons(); })
      .catch((e) => finish("error", "Not sent: " + e.message));
    setButtons();
    return {
      cancel() {
        if (done) return;
        conn.send([CANCEL, handler.id]);
        conn.forget(handler.id);
        finish("cancelled", `Cancelled · ${received} item${received === 1 ? "" : "s"} received`);
      },
      stop() { if (!done) conn.send([STOP, handler.id]); },
      sendItem(v) { if (done || ended) return; queue.push(v); flush(); },
      end() { if (done || ended) return; queue.push(END_MARK); flush(); },
      abandon() { if (!done) this.cancel(); },
    };
  }

  function trailerBlock(trailers) {
    const list = kvList(trailers);
    return list ? h("div", null, h("div.sub", null, "trailers"), list) : null;
  }

  function topicView(t) {
    const el = h("section.topic", { "data-topic": t.name });
    const pub = t.publisher || "server";
    el.append(...header(t.name, [["kind", "topic"], [null, pub === "client" ? "published by clients" : "published by the server"]], t));
    el.append(h("h2", null, "Payload"), signature([["payload", t.payload]]));
    if (pub === "client") {
      const editor = jsonEditor(t.payload, example(t.payload), { label: "notification on " + t.name });
      const send = h("button.primary", { "data-action": "publish" }, "Publish");
      const note = h("span.muted");
      send.addEventListener("click", async () => {
        const v = editor.value();
        if (v === undefined) return;
        try { await conn.open(); conn.send([NOTIFY, t.name, v]); note.textContent = "sent at " + clock(); }
        catch (e) { note.textContent = e.message; }
      });
      el.append(h("div.panel", null, h("h3", null, "Publish"), editor.el, h("div.actions", null, send, note)));
      return el;
    }
    el.append(subscription("topics", t.name, (list, value, topic) => {
      list.append(h("li", null, h("span.at", null, clock()), topic && topic !== t.name ? h("span.at", null, topic) : null, h("span.v", null, showJson(value))));
    }));
    return el;
  }

  /** Subscribe / Unsubscribe for a topic (`topics`) or a state (`states`), and what arrives. */
  function subscription(key, name, show) {
    const btn = h("button.primary", { "data-action": "subscribe" }, key === "topics" ? "Subscribe" : "Watch");
    const note = h("span.muted.sub-state", null, "not subscribed");
    const list = h("ol.items.notifications", { hidden: key !== "topics" });
    const docView = h("pre.json.state-doc", { hidden: true });
    const panel = h("div.panel", null, h("h3", null, key === "topics" ? "Notifications" : "Live document"), h("div.actions", null, btn, note), key === "topics" ? list : docView);
    const registry = key === "topics" ? conn.topics : conn.states;
    let on = false, count = 0, current;
    const entry = {
      notify(value, topic) {
        count++;
        list.hidden = false;
        show(list, value, topic);
        note.textContent = `subscribed · ${count} notification${count === 1 ? "" : "s"}`;
      },
      patch(ops) {
        count++;
        current = applyPatch(current, ops);
        docView.hidden = false;
        docView.textContent = current === undefined ? "(no value)" : pretty(current);
        note.textContent = `watching · ${count} patch${count === 1 ? "" : "es"} · ${clock()}`;
      },
      closed() { on = false; btn.textContent = key === "topics" ? "Subscribe" : "Watch"; note.textContent = "the connection closed"; registry.delete(name); },
    };
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      const wanted = !on;
      if (wanted) registry.set(name, entry); // before the answer: notifications may come first
      const handler = {
        result() {
          on = wanted;
          btn.disabled = false;
          btn.textContent = on ? (key === "topics" ? "Unsubscribe" : "Stop watching") : (key === "topics" ? "Subscribe" : "Watch");
          if (on) { note.textContent = key === "topics" ? "subscribed · waiting for notifications" : (count ? note.textContent : "watching · no value yet"); }
          else { registry.delete(name); note.textContent = "not subscribed"; }
          panel.dataset.subscribed = String(on);
        },
        fail(e) { btn.disabled = false; note.textContent = `${e.name}: ${e.message}`; if (wanted) registry.delete(name); },
        item() {}, end() {}, credit() {}, meta() {}, warning(w) { note.textContent = `⚠ ${w.name}: ${w.message}`; },
      };
      try { await conn.call(wanted ? "volley.subscribe" : "volley.unsubscribe", { [key]: [name] }, null, handler); }
      catch (e) { handler.fail({ name: "not connected", message: e.message }); }
    });
    return panel;
  }

  function stateView(s) {
    const el = h("section.state", { "data-state": s.name });
    el.append(...header(s.name, [["kind", "shared state"], [null, (s.scope || "server") === "connection" ? "one per connection" : "one for everyone"]], s));
    el.append(h("h2", null, "Document"), signature([["type", s.schema]]));
    el.append(subscription("states", s.name));
    return el;
  }

  function machineView(mc) {
    const el = h("section.machine");
    el.append(...header(mc.name, [["kind", "state machine"], [null, (mc.states || []).length + " states"]], mc));
    el.append(h("h2", null, "Data events"), signature([["transmit", mc.transmit]]));
    el.append(h("h2", null, "States"), h("p.muted", null, "The first is the initial state. A session's events are sent with the method volley.machine (PROTOCOL.md section 13)."));
    el.append(h("div.grid2", null, (mc.states || []).map((st, i) => h("div.card", null,
      h("h4", null, st.name, i === 0 ? h("span.muted", null, " · initial") : null),
      st.description ? h("p.desc", null, st.description) : null,
      signature([["data", st.data]]),
      h("div.muted", null, "goes to: ", st.targets == null ? "any state" : st.targets.length ? st.targets.join(", ") : "nothing (final)"),
      (st.events || []).length ? h("table.fields", null, h("tr", null, h("th", null, "event"), h("th", null, "data"), h("th", null, "result")),
        st.events.map((ev) => h("tr", null, h("td.name", { title: ev.description || "" }, ev.name), h("td", null, typeEl(ev.data)), h("td", null, typeEl(ev.result))))) : h("p.muted", null, "No events.")))));
    return el;
  }

  function typeView(name) {
    const s = doc.$defs?.[name] || {};
    const el = h("section.typedef");
    el.append(...header(name, [["kind", "type"]], s));
    const alts = s.oneOf || s.anyOf;
    if (s.properties) el.append(h("h2", null, "Fields"), fieldsTable(s));
    else if (alts) el.append(h("h2", null, "One of"), h("table.fields", null, alts.map((a) => h("tr", null, h("td", null, typeEl(a, 1)), h("td", null, a.description || "")))));
    else el.append(h("h2", null, "Type"), signature([["is", s]]));
    el.append(h("h2", null, "Example"), h("pre.json", null, pretty(example({ $ref: "#/$defs/" + name }))));
    el.append(h("details", null, h("summary.muted", null, "JSON Schema"), h("pre.json", null, pretty(s))));
    return el;
  }

  function overview() {
    const el = h("section.overview");
    el.append(...header(doc.name || "volley service", [["kind", "v" + (doc.version || "?")], ...(doc.encodings || []).map((e) => [null, e])], doc));
    const methods = (doc.methods || []).filter((m) => !m.name.startsWith("volley."));
    el.append(h("div.grid2", null,
      card("Methods", methods.length, "#method/" + encodeURIComponent(methods[0]?.name || "")),
      card("Topics", (doc.topics || []).length, doc.topics?.length ? "#topic/" + encodeURIComponent(doc.topics[0].name) : null),
      card("Shared states", (doc.states || []).length, doc.states?.length ? "#state/" + encodeURIComponent(doc.states[0].name) : null),
      card("State machines", (doc.machines || []).length, doc.machines?.length ? "#machine/" + encodeURIComponent(doc.machines[0].name) : null),
      card("Operations", methods.filter((m) => m.operation).length, null),
      card("Types", Object.keys(doc.$defs || {}).length, null)));
    el.append(h("p.muted", null, "Pick a method on the left to read its types and call it. Calls go over one WebSocket in the JSON encoding; the connection opens with the first call."));
    el.append(h("h2", null, "Error codes"), h("table.fields", null, h("tr", null, h("th", null, "code"), h("th", null, "name"), h("th", null, "meaning")),
      (doc.errors || []).map((e) => h("tr", null, h("td.name", null, e.code), h("td.name", null, e.name), h("td", null, e.description || "")))));
    el.append(h("div.conn-log", { id: "conn-log" }));
    return el;
    function card(title, n, href) {
      return h("div.card", null, h("h4", null, href ? h("a", { href }, title) : title), h("div", { style: "font-size:22px;font-weight:600" }, n));
    }
  }

  // ---- navigation -----------------------------------------------------------------

  function buildNav() {
    const nav = $("#nav");
    nav.replaceChildren();
    const link = (hash, label, kindLetter, item) => h("a" + (item?.deprecated != null ? ".deprecated" : ""), { href: hash, "data-name": label, title: item?.description || label },
      kindLetter ? h("span.k", null, kindLetter) : null, h("span.label", null, label));
    nav.append(link("#", "Overview"));
    const letters = { unary: "U", server_stream: "SS", client_stream: "CS", bidi_stream: "BI" };
    const methods = (doc.methods || []).slice().sort((a, b) => a.name.localeCompare(b.name));
    const groups = new Map();
    for (const m of methods) {
      const key = m.side === "client" ? "\u0001client" : m.name.startsWith("volley.") ? "\u0002volley" : m.name.includes(".") ? m.name.slice(0, m.name.lastIndexOf(".")) : "";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(m);
    }
    const order = [...groups.keys()].sort((a, b) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b)));
    nav.append(h("h3", null, "Methods"));
    for (const key of order) {
      if (key === "\u0001client") nav.append(h("h3", null, "Served by clients"));
      else if (key === "\u0002volley") nav.append(h("h3", null, "Protocol (volley.*)"));
      else if (key) nav.append(h("h4", null, key + "."));
      for (const m of groups.get(key)) nav.append(link("#method/" + encodeURIComponent(m.name), m.name, letters[m.kind], m));
    }
    const section = (title, list, kind, letter) => {
      if (!list?.length) return;
      nav.append(h("h3", null, title));
      for (const x of list) nav.append(link(`#${kind}/` + encodeURIComponent(x.name), x.name, letter, x));
    };
    section("Operations", methods.filter((m) => m.operation), "method", "OP");
    section("Topics", doc.topics, "topic", "T");
    section("Shared states", doc.states, "state", "S");
    section("State machines", doc.machines, "machine", "M");
    section("Types", Object.keys(doc.$defs || {}).sort().map((name) => ({ name, ...doc.$defs[name] })), "type", "{}");
  }

  function show() {
    const hash = location.hash || "#";
    const main = $("#main");
    let view = views.get(hash);
    if (!view) {
      const [kind, raw] = hash.slice(1).split(/\/(.*)/s);
      const name = decodeURIComponent(raw || "");
      const find = (list) => (list || []).find((x) => x.name === name);
      if (kind === "method" && find(doc.methods)) view = methodView(find(doc.methods));
      else if (kind === "topic" && find(doc.topics)) view = topicView(find(doc.topics));
      else if (kind === "state" && find(doc.states)) view = stateView(find(doc.states));
      else if (kind === "machine" && find(doc.machines)) view = machineView(find(doc.machines));
      else if (kind === "type" && doc.$defs?.[name]) view = typeView(name);
      else view = overview();
      views.set(hash, view);
    }
    main.replaceChildren(view);
    main.scrollTop = 0;
    for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("current", a.getAttribute("href") === hash || (hash === "#" && a.getAttribute("href") === "#"));
  }

  async function start() {
    const main = $("#main");
    try {
      const res = await fetch("schema", { headers: { accept: "application/json" } });
      if (!res.ok) throw new Error(`GET schema answered ${res.status} ${await res.text()}`);
      doc = await res.json();
    } catch (e) {
      main.replaceChildren(h("p.conn-log", null, "Could not read the schema: " + e.message));
      return;
    }
    if (window.volleyAjv) {
      ajv = new window.volleyAjv.Ajv2020({ allErrors: true, strict: false, validateFormats: true });
      window.volleyAjv.addFormats(ajv);
      // schemars' integer formats: the bounds are there as minimum and maximum already.
      for (const f of ["int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uint128", "int128", "float", "double"]) ajv.addFormat(f, true);
    }
    $("#service-name").textContent = doc.name || "volley";
    $("#service-version").textContent = doc.version ? "v" + doc.version : "";
    document.title = (doc.name || "volley") + " · volley playground";
    buildNav();
    $("#filter").addEventListener("input", (ev) => {
      const q = ev.target.value.trim().toLowerCase();
      for (const a of document.querySelectorAll("#nav a")) a.hidden = q !== "" && !a.dataset.name.toLowerCase().includes(q);
    });
    $("#token").addEventListener("change", () => conn.ws?.close(1000, "new token"));
    window.addEventListener("hashchange", show);
    show();
  }

  document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", start) : start();
})();
