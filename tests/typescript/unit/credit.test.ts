// Unit tests of the runtime's credit accounting (templates/typescript/runtime/credit.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Credit, ReceiveWindow } from "../../../templates/typescript/runtime/credit.js";

describe("ReceiveWindow", () => {
  it("lets the sender send a window's worth, then refuses", () => {
    const w = new ReceiveWindow(4);
    for (let i = 0; i < 4; i++) assert.equal(w.receive(), true);
    assert.equal(w.receive(), false);
    assert.equal(w.available, 0);
  });

  it("grants credit back in batches of half the window as items are read", () => {
    const w = new ReceiveWindow(5);
    for (let i = 0; i < 5; i++) w.receive();
    assert.deepEqual([w.consume(), w.consume(), w.consume()], [0, 0, 3]);
    assert.equal(w.available, 3);
    assert.deepEqual([w.consume(), w.consume()], [0, 0]);
    // Never more than the window in flight.
    assert.ok(w.available <= w.size);
  });

  it("a window of 1 grants one for every item", () => {
    const w = new ReceiveWindow(1);
    assert.equal(w.receive(), true);
    assert.equal(w.receive(), false);
    assert.equal(w.consume(), 1);
    assert.equal(w.receive(), true);
  });

  it("starts closed when the first grant is sent later", () => {
    const w = new ReceiveWindow(8, 0);
    assert.equal(w.receive(), false);
    assert.equal(w.grant(w.size), 8);
    assert.equal(w.available, 8);
  });
});

describe("Credit", () => {
  it("counts what the receiver granted and wakes a waiting sender", async () => {
    const c = new Credit();
    assert.equal(c.take(), false);
    let woke = false;
    const waiting = c.wait().then(() => (woke = true));
    await Promise.resolve();
    assert.equal(woke, false);
    c.add(2);
    await waiting;
    assert.equal(woke, true);
    assert.deepEqual([c.take(), c.take(), c.take()], [true, true, false]);
  });

  it("wake() releases a waiter without credit (the call ended or was stopped)", async () => {
    const c = new Credit();
    const waiting = c.wait();
    c.wake();
    await waiting;
    assert.equal(c.take(), false);
  });
});
