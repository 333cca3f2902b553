"""Credit-based flow control of streamed items (PROTOCOL.md section 4).

A receiver grants the sender a window of items; the sender sends no more than it was
granted, and the receiver grants more as items are consumed. Both sides of both kinds of
stream (calls this client makes and calls the server makes) count with these.
"""

from __future__ import annotations

import asyncio

__all__ = ["Credit", "Window"]


class Window:
    """The receiving side: how many items the peer may still send, and when to grant
    more.

    Credit is granted back once half the window has been consumed, in one `CREDIT`
    frame for all of them, so a reader that keeps up never stalls the sender and one
    that does not holds it to `window` items ahead.
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self.outstanding = window
        self.consumed = 0

    def take(self) -> bool:
        """Counts an item that arrived; `False` when the peer had no credit for it (a
        protocol violation: `CREDIT_EXCEEDED`)."""
        if self.outstanding <= 0:
            return False
        self.outstanding -= 1
        return True

    def consume(self) -> int:
        """Counts an item read; answers the credit to grant now (0: none yet)."""
        self.consumed += 1
        if self.consumed < max(1, self.window // 2):
            return 0
        n, self.consumed = self.consumed, 0
        self.outstanding += n
        return n


class Credit:
    """The sending side: credit the peer granted, waited for before each item."""

    def __init__(self, initial: int = 0) -> None:
        self.available = initial
        self.changed = asyncio.Event()

    def grant(self, n: int) -> None:
        """Adds credit from a `CREDIT` frame."""
        self.available += n
        self.changed.set()

    def wake(self) -> None:
        """Wakes a sender waiting for credit, to see that the call ended or stopped."""
        self.changed.set()

    async def wait(self) -> None:
        """Waits for the next grant or `wake`; check `available` (and whatever `wake`
        signals) before each wait."""
        self.changed.clear()
        await self.changed.wait()

    def spend(self) -> bool:
        """Takes one item's credit; `False` when there is none."""
        if self.available <= 0:
            return False
        self.available -= 1
        return True
