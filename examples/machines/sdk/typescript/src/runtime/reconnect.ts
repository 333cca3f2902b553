// The volley runtime: when to dial again after a connection drops — exponential backoff
// with jitter. The clock and the randomness are parameters, so the schedule can be
// tested. Copied verbatim into every SDK by `volley generate typescript`: edit
// templates/typescript/runtime/ in the volley repository, not a copy.

/** How the connection retries after it drops. */
export interface ReconnectOptions {
  /** The first delay, in milliseconds; default 100. */
  initialDelayMs?: number;
  /** The longest delay, in milliseconds; default 10000. */
  maxDelayMs?: number;
  /** How many attempts before giving up; default unlimited. */
  maxAttempts?: number;
}

/** What the backoff waits with. */
export interface Clock {
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1). */
  random(): number;
}

export const realClock: Clock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/**
 * The delay before attempt `attempt` (from 0): `initialDelayMs · 2^attempt`, capped at
 * `maxDelayMs`, times a jitter in [0.75, 1.25) so clients that lost the same server do
 * not all come back at once.
 */
export function backoffDelay(attempt: number, options: ReconnectOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelayMs ?? 100;
  const max = options.maxDelayMs ?? 10000;
  return Math.min(max, initial * 2 ** attempt) * (0.75 + random() / 2);
}

/**
 * Calls `dial` after each backoff delay until it succeeds (`"open"`), `stopped()` turns
 * true (`"stopped"`), or `maxAttempts` attempts failed (`"gave-up"`).
 */
export async function redial(
  options: ReconnectOptions,
  dial: () => Promise<void>,
  stopped: () => boolean,
  clock: Clock = realClock,
): Promise<"open" | "stopped" | "gave-up"> {
  const attempts = options.maxAttempts ?? Infinity;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (stopped()) return "stopped";
    await clock.sleep(backoffDelay(attempt, options, () => clock.random()));
    if (stopped()) return "stopped";
    try {
      await dial();
    } catch {
      continue;
    }
    return "open";
  }
  return stopped() ? "stopped" : "gave-up";
}
