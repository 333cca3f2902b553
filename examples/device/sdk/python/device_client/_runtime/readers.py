"""A bounded backlog for one `async for` reader of pushed values (a state machine's
transitions, an operation's progress): what arrives while the reader is busy waits,
up to a limit; a reader that falls further behind gets what it has, then an error,
rather than the SDK holding an ever-growing buffer for it."""

from __future__ import annotations

import asyncio
import collections
from typing import AsyncIterator, Generic, TypeVar

__all__ = ["Backlog", "BACKLOG_LIMIT"]

T = TypeVar("T")

#: Values a reader may fall behind by before it is stopped.
BACKLOG_LIMIT = 1024


class Backlog(Generic[T]):
    """The values waiting for one reader, ended by `end()`."""

    def __init__(self, what: str, limit: int = BACKLOG_LIMIT) -> None:
        self.what = what
        self.limit = limit
        self.items: collections.deque[T] = collections.deque()
        self.wake = asyncio.Event()
        self.error: BaseException | None = None
        self.ended = False

    def push(self, item: T) -> None:
        if self.ended:
            return
        if len(self.items) >= self.limit:
            self.error = OverflowError(f"the reader of {self.what} fell {self.limit} behind and was stopped")
            self.ended = True
        else:
            self.items.append(item)
        self.wake.set()

    def end(self, error: BaseException | None = None) -> None:
        self.ended = True
        self.error = self.error or error
        self.wake.set()

    async def drain(self) -> AsyncIterator[T]:
        """Yields the values as they come; raises the error it ended with, if any."""
        while True:
            while self.items:
                yield self.items.popleft()
            if self.ended:
                if self.error is not None:
                    raise self.error
                return
            self.wake.clear()
            await self.wake.wait()
