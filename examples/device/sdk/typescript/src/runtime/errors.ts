// The volley runtime: error and warning codes, and the errors calls fail with
// (PROTOCOL.md section 7). Copied verbatim into every SDK by `volley generate
// typescript`: edit templates/typescript/runtime/ in the volley repository, not a copy.

import type { Frame, Metadata } from "./frames.js";

/** Error codes (PROTOCOL.md section 7). */
export const ErrorCode = {
  BAD_FRAME: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  METHOD_NOT_FOUND: 404,
  EVENT_NOT_ALLOWED: 405,
  TRANSITION_NOT_ALLOWED: 406,
  OPERATION_NOT_FOUND: 407,
  DEADLINE_EXCEEDED: 408,
  DUPLICATE_CALL_ID: 409,
  UNKNOWN_CALL: 410,
  PROTOCOL_VIOLATION: 412,
  FRAME_TOO_LARGE: 413,
  WRONG_ENCODING: 415,
  INVALID_PARAMS: 422,
  CREDIT_EXCEEDED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  APPLICATION: 1000,
} as const;

/** Warning codes (PROTOCOL.md section 7). */
export const WarningCode = { DATA_LOSS: 299, DEPRECATED: 298 } as const;

/** The name of a code, such as `METHOD_NOT_FOUND`, or `CODE_<n>` for one not listed. */
export function codeName(code: number): string {
  for (const [name, value] of Object.entries(ErrorCode)) if (value === code) return name;
  for (const [name, value] of Object.entries(WarningCode)) if (value === code) return name;
  return `CODE_${code}`;
}

/**
 * An error answered by the peer (an `ERROR` frame), or raised locally for a call that
 * timed out, was cancelled or lost its connection. `data` has the method's declared
 * error type when `code` is `APPLICATION` (1000): narrow it with the generated
 * `isMethodError(err, "method")`.
 */
export class VolleyError<D = unknown> extends Error {
  /** The numeric code (see `ErrorCode`). */
  readonly code: number;
  /** The code's name, such as `DEADLINE_EXCEEDED`. */
  readonly codeName: string;
  /** The error's data: the method's error type for `APPLICATION` errors. */
  readonly data: D;
  /** The callee's trailing metadata. */
  readonly trailers: Metadata;
  /** The method of the call that failed, when there was one. */
  readonly method: string | undefined;

  constructor(code: number, message: string, data?: D, trailers: Metadata = {}, method?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VolleyError";
    this.code = code;
    this.codeName = codeName(code);
    this.data = data as D;
    this.trailers = trailers;
    this.method = method;
  }
}

/**
 * The connection closed, or could not be opened, while a call needed it. Its code is
 * `UNAVAILABLE`, or, when the server refused the WebSocket upgrade with a
 * `volley-error-code` header, that code (such as `UNAUTHENTICATED` for HTTP 401).
 */
export class ConnectionError extends VolleyError<undefined> {
  /** The HTTP status the server refused the WebSocket upgrade with, when it did. */
  readonly status: number | undefined;

  constructor(message: string, method?: string, options?: { cause?: unknown; code?: number; status?: number }) {
    super(options?.code ?? ErrorCode.UNAVAILABLE, message, undefined, {}, method, options);
    this.name = "ConnectionError";
    this.status = options?.status;
  }
}

/** A `WARNING` frame: it carries an error's fields and ends nothing. */
export interface VolleyWarning {
  /** The code, such as 299 (`DATA_LOSS`). */
  code: number;
  /** The code's name. */
  codeName: string;
  /** What happened. */
  message: string;
  /** Details. */
  data: unknown;
}

/** The warning a `WARNING` frame carries. */
export function warningOf(frame: Frame): VolleyWarning {
  const code = typeof frame[2] === "number" ? frame[2] : 0;
  return { code, codeName: codeName(code), message: typeof frame[3] === "string" ? frame[3] : "", data: frame[4] ?? undefined };
}
