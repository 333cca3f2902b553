// Unit tests of the runtime's reconnect backoff (templates/typescript/runtime/reconnect.ts),
// with a clock and randomness the test controls.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { backoffDelay, redial, type Clock } from "../../../templates/typescript/runtime/reconnect.js";

function fakeClock(random = 0.5): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, sleep: async (ms) => void slept.push(ms), random: () => random };
}

describe("backoff", () => {
  it("doubles from the first delay up to the longest, with no jitter at 0.5", () => {
    const delays = Array.from({ length: 9 }, (_, i) => backoffDelay(i, { initialDelayMs: 100, maxDelayMs: 10000 }, () => 0.5));
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000]);
  });

  it("jitters within [0.75, 1.25) of the delay", () => {
    assert.equal(backoffDelay(2, {}, () => 0), 300);
    assert.ok(backoffDelay(2, {}, () => 0.999999) < 500);
  });

  it("redial stops at the first successful dial", async () => {
    const clock = fakeClock();
    let dials = 0;
    const outcome = await redial({}, async () => {
      if (++dials < 3) throw new Error("refused");
    }, () => false, clock);
    assert.equal(outcome, "open");
    assert.equal(dials, 3);
    assert.deepEqual(clock.slept, [100, 200, 400]);
  });

  it("redial gives up after maxAttempts", async () => {
    const clock = fakeClock(0);
    let dials = 0;
    const outcome = await redial({ initialDelayMs: 10, maxAttempts: 4 }, async () => {
      dials++;
      throw new Error("refused");
    }, () => false, clock);
    assert.equal(outcome, "gave-up");
    assert.equal(dials, 4);
    assert.deepEqual(clock.slept, [7.5, 15, 30, 60]);
  });

  it("redial stops when the connection is closed meanwhile, without dialling", async () => {
    let closed = false;
    const clock: Clock = { sleep: async () => void (closed = true), random: () => 0.5 };
    let dials = 0;
    const outcome = await redial({}, async () => void dials++, () => closed, clock);
    assert.equal(outcome, "stopped");
    assert.equal(dials, 0);
  });
});
