// The volley runtime: credit-based flow control (PROTOCOL.md section 6). A sender waits
// on `Credit`; a receiver counts with `ReceiveWindow` and grants more as its reader
// takes items. Copied verbatim into every SDK by `volley generate typescript`: edit
// templates/typescript/runtime/ in the volley repository, not a copy.

/** A credit counter the sender of a stream waits on. */
export class Credit {
  private available = 0;
  private waiters: Array<() => void> = [];

  add(n: number): void {
    this.available += n;
    this.wake();
  }

  take(): boolean {
    if (this.available <= 0) return false;
    this.available--;
    return true;
  }

  /** Resolves once there is credit, or `wake()` is called. */
  wait(): Promise<void> {
    if (this.available > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/**
 * The receiving side of a stream's credit: how many items the sender may still send,
 * and when to grant more. Credit is granted back in batches of half the window, as the
 * reader takes items, so a sender never has more than `size` items in flight.
 */
export class ReceiveWindow {
  private outstanding: number;
  private consumed = 0;

  /** `size` is the window; `granted` the credit the sender starts with. */
  constructor(readonly size: number, granted = size) {
    this.outstanding = granted;
  }

  /** The credit the sender has left. */
  get available(): number {
    return this.outstanding;
  }

  /** Grants `n` more (sent in a `CREDIT` frame by the caller); returns `n`. */
  grant(n: number): number {
    this.outstanding += n;
    return n;
  }

  /** An item arrived: spends one credit, or returns false if the sender had none. */
  receive(): boolean {
    if (this.outstanding <= 0) return false;
    this.outstanding--;
    return true;
  }

  /** The reader took an item: returns the credit to grant now (a `CREDIT` frame), or 0. */
  consume(): number {
    this.consumed++;
    if (this.consumed < Math.ceil(this.size / 2)) return 0;
    const n = this.consumed;
    this.consumed = 0;
    return this.grant(n);
  }
}
