// The volley runtime: one connection — dialling, the subprotocol, heartbeats,
// reconnecting, routing frames to calls, and unary calls (PROTOCOL.md sections 1 to 5).
// Optional features (streams, calls from the server, topics, shared state) live in
// their own modules and plug in through `Feature`; this module imports none of them.
// Copied verbatim into every SDK by `volley generate typescript`: edit
// templates/typescript/runtime/ in the volley repository, not a copy.

import { OutgoingCall, type CallHost, type CallOptions } from "./calls.js";
import { codecFor, jsonCodec, SUBPROTOCOLS, type Codec } from "./codec.js";
import { codeName, ConnectionError, ErrorCode, VolleyError, warningOf, type VolleyWarning } from "./errors.js";
import { DEFAULT_WINDOW, isCallId, Kind, KIND_NAMES, type Encoding, type Frame, type Metadata, type MethodKind } from "./frames.js";
import { redial, type ReconnectOptions } from "./reconnect.js";
import {
  chooseWebSocket,
  readBody,
  reportsPings,
  reportsRefusals,
  socketFailure,
  socketOptions,
  webSocketUrl,
  type Pem,
  type WebSocketConstructor,
  type WebSocketLike,
  type WebSocketOptions,
} from "./socket.js";

/** Where a connection is. */
export type ConnectionState = "open" | "reconnecting" | "closed";

/** Options of `Client.connect`. */
export interface ConnectOptions<H = object> {
  /** Encodings to offer, most wanted first; default `["msgpack", "json"]`. */
  encoding?: Encoding | Encoding[];
  /**
   * The WebSocket class. Default: the global `WebSocket` (browsers, Node 22+), else the
   * `ws` package, loaded on demand (Node 20).
   */
  WebSocket?: WebSocketConstructor;
  /**
   * HTTP headers sent with the WebSocket upgrade request, such as
   * `{ Authorization: "Bearer ..." }` or a `Cookie`. Node only: it needs a WebSocket
   * class that takes options, which the `ws` package's does, so with `headers` the
   * runtime loads `ws` even where there is a global WebSocket (Node 22+). A browser's
   * WebSocket cannot send headers, and connecting with `headers` there fails: in a
   * browser, authenticate with a cookie the browser sends to the server's host, or a
   * token in the URL's query string (`wss://host/?access_token=...`), whichever the
   * server reads.
   */
  headers?: Record<string, string>;
  /**
   * The certificate authorities (PEM) to trust for `wss://`, in place of Node's
   * default ones: for a server whose certificate a private CA signed. Node only (the
   * `ws` package, like `headers`); browsers trust what the system trusts. Setting the
   * `NODE_EXTRA_CA_CERTS` environment variable to a PEM file instead adds to Node's
   * default CAs.
   */
  ca?: Pem;
  /**
   * Whether to verify the server's TLS certificate for `wss://`; default `true`.
   * `false` accepts any certificate, so anyone on the path can read and change the
   * traffic: for tests only, and prefer `ca`. Node only, like `ca`.
   */
  rejectUnauthorized?: boolean;
  /** Serves the methods the server calls on this client. */
  handlers?: H;
  /** Client metadata sent with every call. */
  metadata?: Metadata;
  /** A time limit applied to every call that sets none. */
  timeoutMs?: number;
  /** The credit window for streams this client receives; default 32. */
  window?: number;
  /** Reconnect with exponential backoff when the connection drops. */
  reconnect?: boolean | ReconnectOptions;
  /** Called when the connection's state changes. */
  onStateChange?: (state: ConnectionState, error?: Error) => void;
  /** Called for `WARNING` frames that belong to no call, such as `DATA_LOSS`. */
  onWarning?: (warning: VolleyWarning) => void;
  /** Called for `ERROR` frames that belong to no call (id 0). */
  onError?: (error: VolleyError) => void;
  /** How long to wait for the WebSocket to open; default 10000 ms. */
  connectTimeoutMs?: number;
  /**
   * How long the server may stay silent (no frame, no ping) before the connection is
   * taken for dead, closed and, with `reconnect`, dialled again; default 45000 ms (a
   * volley server pings every 20 s). Needs a WebSocket that reports pings, as the `ws`
   * package does in Node; browsers answer the server's pings themselves but do not
   * show them to the page, so there only frames count and the check is off unless set.
   * `0` turns it off.
   */
  heartbeatTimeoutMs?: number;
}

/** Silence from the server, in ms, after which a Node connection is taken for dead. */
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 45000;

/**
 * What an optional runtime module (calls from the server, topics, shared state) adds
 * to a connection. The connection offers it the frames that belong to none of its own
 * calls, and tells it when the connection drops and when it is dialled again.
 */
export interface Extension {
  /** A frame the core does not route itself; returns whether this extension took it. */
  receive?(frame: Frame): boolean;
  /** The connection closed or dropped: end what depends on it. */
  lost?(): void;
  /** The connection was dialled again after a drop: restore what the server forgot. */
  reopened?(): Promise<void>;
}

/** An optional runtime module's entry point: makes its extension of one connection. */
export type Feature<E extends Extension = Extension> = (connection: Connection) => E;

/**
 * One volley connection: the call table of both directions, and the features plugged
 * into it. The generated `Client` wraps it with typed methods; use it directly for
 * untyped calls.
 */
export class Connection implements CallHost {
  readonly defaultMetadata: Metadata;
  readonly defaultTimeoutMs: number | undefined;
  readonly defaultWindow: number;
  private socket: WebSocketLike | undefined;
  private codec: Codec = jsonCodec;
  private nextId = 1;
  /** The highest id of a call the server opened (even ids). @internal */
  highestIncoming = 0;
  private readonly calls = new Map<number, OutgoingCall>();
  private readonly extensions = new Map<Feature<Extension>, Extension>();
  private stateValue: ConnectionState = "open";
  private closedByUser = false;
  private closeWaiters: Array<() => void> = [];

  private constructor(
    private readonly url: string,
    /** @internal */
    readonly options: ConnectOptions<object>,
    private readonly WebSocketImpl: WebSocketConstructor,
    private readonly socketOptions: WebSocketOptions | undefined,
  ) {
    this.defaultMetadata = options.metadata ?? {};
    this.defaultTimeoutMs = options.timeoutMs;
    this.defaultWindow = options.window ?? DEFAULT_WINDOW;
  }

  /**
   * Opens a connection with the optional `features` the service needs (the generated
   * `Client` passes them); fails with a `ConnectionError` if the server cannot be
   * reached.
   */
  static async open(url: string, options: ConnectOptions<object> = {}, features: Array<Feature<Extension>> = []): Promise<Connection> {
    const wanted = socketOptions(options);
    const impl = await chooseWebSocket(options, wanted);
    const connection = new Connection(webSocketUrl(url), options, impl, wanted);
    for (const feature of features) connection.extensions.set(feature, feature(connection));
    await connection.dial();
    return connection;
  }

  /** The extension `feature` made for this connection, if it was opened with it. @internal */
  extension<E extends Extension>(feature: Feature<E>): E | undefined {
    return this.extensions.get(feature as Feature<Extension>) as E | undefined;
  }

  /** The negotiated encoding. */
  get encoding(): Encoding {
    return this.codec.binary ? "msgpack" : "json";
  }

  /** Where the connection is. */
  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Whether a socket is open. @internal */
  get connected(): boolean {
    return this.socket !== undefined;
  }

  private dial(): Promise<void> {
    const wanted = this.options.encoding ?? ["msgpack", "json"];
    const encodings = Array.isArray(wanted) ? wanted : [wanted];
    const protocols = encodings.map((e) => SUBPROTOCOLS[e]);
    return new Promise((resolve, reject) => {
      let settled = false;
      let socket: WebSocketLike;
      try {
        socket = this.socketOptions ? new this.WebSocketImpl(this.url, protocols, this.socketOptions) : new this.WebSocketImpl(this.url, protocols);
      } catch (e) {
        reject(new ConnectionError(`cannot connect to ${this.url}: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e }));
        return;
      }
      socket.binaryType = "arraybuffer";
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        socket.close();
        reject(new ConnectionError(`cannot connect to ${this.url}: no answer within ${this.options.connectTimeoutMs ?? 10000} ms`));
      }, this.options.connectTimeoutMs ?? 10000);
      socket.onopen = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const chosen = socket.protocol;
        const codec = codecFor(chosen);
        if (!codec) {
          socket.close(1002, "no volley subprotocol");
          reject(new ConnectionError(`${this.url} chose no volley subprotocol (got "${chosen}")`));
          return;
        }
        this.codec = codec;
        this.socket = socket;
        this.nextId = 1;
        this.highestIncoming = 0;
        const watchdog = this.watch(socket);
        socket.onmessage = (event) => {
          watchdog.heard();
          this.onMessage(event.data);
        };
        socket.onclose = (event) => {
          watchdog.stop();
          this.onClose(socket, `connection closed (code ${event.code}${event.reason ? `: ${event.reason}` : ""})`);
        };
        socket.onerror = () => {
          // onclose follows and does the work.
        };
        resolve();
      };
      const failed = (why: string, details?: { cause?: unknown; code?: number; status?: number }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new ConnectionError(`cannot connect to ${this.url}: ${why}`, undefined, details));
      };
      socket.onerror = (event) => {
        const { why, cause } = socketFailure(event);
        failed(why, { cause });
      };
      if (reportsRefusals(socket)) {
        // A refusal before the upgrade (PROTOCOL.md section 1): an HTTP status, a
        // `volley-error-code` header and a plain-text body that says why.
        socket.on("unexpected-response", (_request, response) => {
          const status = response.statusCode ?? 0;
          const header = response.headers["volley-error-code"];
          const code = Number(Array.isArray(header) ? header[0] : header);
          void readBody(response, 4096).then((body) => {
            const text = body.trim();
            const named = Number.isInteger(code) && code > 0 ? ` (${codeName(code)})` : "";
            failed(`the server refused the WebSocket upgrade with HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ""}${named}${text ? `: ${text}` : ""}`, {
              code: Number.isInteger(code) && code > 0 ? code : undefined,
              status,
            });
            socket.close();
          });
        });
      }
      socket.onclose = (event) => failed(`closed with code ${event.code}${event.reason ? ` (${event.reason})` : ""}`);
    });
  }

  /** Closes the connection; calls in flight fail with a `ConnectionError`. */
  close(): Promise<void> {
    this.closedByUser = true;
    const socket = this.socket;
    if (!socket || this.stateValue === "closed") {
      this.setState("closed");
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.failAll(new ConnectionError("the connection was closed by the client"));
      try {
        socket.close(1000);
      } catch {
        this.onClose(socket, "closed");
      }
    });
  }

  private setState(state: ConnectionState, error?: Error): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.options.onStateChange?.(state, error);
  }

  private failAll(error: ConnectionError): void {
    for (const call of [...this.calls.values()]) {
      call.finish(new ConnectionError(error.message, call.method));
    }
    for (const extension of this.extensions.values()) extension.lost?.();
  }

  /**
   * Heartbeats: takes the connection for dead when the server has sent nothing, not
   * even a ping, for `heartbeatTimeoutMs`, and closes it as lost.
   */
  private watch(socket: WebSocketLike): { heard(): void; stop(): void } {
    const limit = this.options.heartbeatTimeoutMs ?? (reportsPings(socket) ? DEFAULT_HEARTBEAT_TIMEOUT_MS : 0);
    let last = Date.now();
    const heard = () => {
      last = Date.now();
    };
    if (limit <= 0) return { heard, stop: () => {} };
    if (reportsPings(socket)) {
      socket.on("ping", heard);
      socket.on("pong", heard);
    }
    const timer = setInterval(() => {
      if (Date.now() - last <= limit) return;
      clearInterval(timer);
      const why = `heartbeat timeout: nothing from the server for ${limit} ms`;
      if (reportsPings(socket) && socket.terminate) socket.terminate();
      else socket.close(4000, "heartbeat timeout");
      this.onClose(socket, why);
    }, Math.max(10, Math.floor(limit / 4)));
    // A timer must not keep a Node process alive by itself.
    (timer as { unref?: () => void }).unref?.();
    return { heard, stop: () => clearInterval(timer) };
  }

  private onClose(socket: WebSocketLike, why: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    const error = new ConnectionError(this.closedByUser ? "the connection was closed by the client" : `the connection was lost: ${why}`);
    this.failAll(error);
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    waiters.forEach((w) => w());
    if (this.closedByUser || !this.options.reconnect) {
      this.setState("closed", this.closedByUser ? undefined : error);
      return;
    }
    this.setState("reconnecting", error);
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const settings: ReconnectOptions = this.options.reconnect === true ? {} : this.options.reconnect || {};
    const outcome = await redial(settings, () => this.dial(), () => this.closedByUser);
    if (outcome === "open") {
      this.setState("open");
      for (const extension of this.extensions.values()) {
        try {
          await extension.reopened?.();
        } catch (e) {
          this.reportError(e);
        }
      }
    } else if (outcome === "gave-up") {
      this.setState("closed", new ConnectionError(`could not reconnect to ${this.url}`));
    }
  }

  /** Hands an error that belongs to no call to `onError`. @internal */
  reportError(e: unknown): void {
    this.options.onError?.(e instanceof VolleyError ? e : new VolleyError(ErrorCode.INTERNAL, String(e)));
  }

  /** Encodes and sends one frame. */
  send(frame: Frame): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1) {
      throw new ConnectionError(this.stateValue === "reconnecting" ? "not connected (reconnecting)" : "the connection is closed");
    }
    socket.send(this.codec.encode(frame));
  }

  /** Sends a frame if it can; a frame lost to a closing connection does not matter. @internal */
  reply(frame: Frame): void {
    try {
      this.send(frame);
    } catch {
      // The connection is going away.
    }
  }

  /** @internal */
  track(call: OutgoingCall): void {
    this.calls.set(call.id, call);
  }

  /** @internal */
  untrack(call: OutgoingCall): void {
    if (this.calls.get(call.id) === call) this.calls.delete(call.id);
  }

  /** A new call with the next odd id, not yet started. @internal */
  newCall(method: string, shape: MethodKind, options: CallOptions): OutgoingCall {
    const id = this.nextId;
    this.nextId += 2;
    return new OutgoingCall(this, id, method, shape, options);
  }

  /** A unary call. */
  unary<R>(method: string, params: unknown, options: CallOptions = {}): Promise<R> {
    const call = this.newCall(method, "unary", options);
    call.start(params);
    return call.result as Promise<R>;
  }

  private offer(frame: Frame): boolean {
    for (const extension of this.extensions.values()) if (extension.receive?.(frame)) return true;
    return false;
  }

  private onMessage(data: unknown): void {
    let frame: unknown;
    try {
      const raw = typeof data === "string" ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : String(data);
      frame = this.codec.decode(raw);
    } catch (e) {
      const code = e instanceof VolleyError ? e.code : ErrorCode.BAD_FRAME;
      this.reply([Kind.ERROR, 0, code, e instanceof Error ? e.message : "undecodable frame", code === ErrorCode.BAD_FRAME ? { reason: String(e) } : null]);
      return;
    }
    if (!Array.isArray(frame) || typeof frame[0] !== "number") {
      this.reply([Kind.ERROR, 0, ErrorCode.BAD_FRAME, "a frame must be an array starting with its kind", { reason: "not a frame" }]);
      return;
    }
    const kind = frame[0];
    // Topics and states (absent from services that have none) take these; else they are dropped.
    if (kind === Kind.NOTIFY || kind === Kind.STATE) {
      this.offer(frame);
      return;
    }
    if (kind > Kind.STATE || !Number.isInteger(kind) || kind < 0 || !isCallId(frame[1])) {
      this.reply([Kind.ERROR, 0, ErrorCode.BAD_FRAME, `not a volley frame (kind ${String(kind)})`, { reason: "unknown kind or bad id" }]);
      return;
    }
    const id = frame[1];
    if (id === 0) {
      if (kind === Kind.ERROR) {
        const code = typeof frame[2] === "number" ? frame[2] : ErrorCode.INTERNAL;
        this.options.onError?.(new VolleyError(code, typeof frame[3] === "string" ? frame[3] : codeName(code), frame[4] ?? undefined));
      } else if (kind === Kind.WARNING) this.options.onWarning?.(warningOf(frame));
      return;
    }
    if (kind === Kind.CALL) return this.onCall(frame, id);
    if (id % 2 === 1) {
      // A frame for one of our calls.
      const call = this.calls.get(id);
      if (call) return call.receive(frame);
      if (id >= this.nextId) this.unknownCall(id, kind);
      return; // stale: it crossed our call's end on the wire
    }
    // A frame for a call the server opened: the server-calls module has it, if any.
    if (this.offer(frame)) return;
    if (id > this.highestIncoming) this.unknownCall(id, kind);
  }

  private unknownCall(id: number, kind: number): void {
    const frameName = KIND_NAMES[kind] ?? String(kind);
    this.reply([Kind.ERROR, 0, ErrorCode.UNKNOWN_CALL, `${frameName} for call ${id}, which was never opened`, { id, frame: frameName }]);
  }

  private onCall(frame: Frame, id: number): void {
    if (id % 2 === 1) {
      this.reply([Kind.ERROR, 0, ErrorCode.PROTOCOL_VIOLATION, `CALL with the client's parity (id ${id})`, { reason: "odd id from the server" }]);
      return;
    }
    if (id <= this.highestIncoming) {
      this.reply([Kind.ERROR, 0, ErrorCode.DUPLICATE_CALL_ID, `call id ${id} is not above the highest one used`, { id }]);
      return;
    }
    this.highestIncoming = id;
    if (typeof frame[2] !== "string") {
      this.reply([Kind.ERROR, id, ErrorCode.BAD_FRAME, "CALL without a method name", { reason: "method is not a string" }]);
      return;
    }
    // The server-calls module serves it, when the service has client-side methods.
    if (this.offer(frame)) return;
    this.reply([Kind.ERROR, id, ErrorCode.UNIMPLEMENTED, "this client serves no methods"]);
  }
}
