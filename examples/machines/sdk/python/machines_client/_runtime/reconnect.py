"""Reconnecting after the connection drops: exponential backoff with jitter.

The clock and the random source are parameters, so the schedule can be checked
without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Awaitable, Callable, Iterator

from .errors import VolleyConnectionError

__all__ = ["Backoff", "retry"]

log = logging.getLogger("volley")


@dataclass
class Backoff:
    """How to reconnect after the connection drops: exponential backoff with jitter.

    Attributes:
        initial: Seconds to wait before the first attempt.
        maximum: The longest wait between attempts.
        factor: How much the wait grows after each failed attempt.
        attempts: How many attempts before giving up (`None`: never give up).
    """

    initial: float = 0.1
    maximum: float = 5.0
    factor: float = 2.0
    attempts: int | None = None

    def delays(self, rand: Callable[[], float] = random.random) -> Iterator[float]:
        """The waits before each attempt: each between half and all of the current
        delay (`rand` answers a float in [0, 1)), which grows by `factor` up to
        `maximum`."""
        delay = self.initial
        n = 0
        while self.attempts is None or n < self.attempts:
            yield delay * (0.5 + rand() / 2)
            delay = min(self.maximum, delay * self.factor)
            n += 1


async def retry(
    backoff: Backoff,
    attempt: Callable[[], Awaitable[None]],
    *,
    stopped: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> bool:
    """Calls `attempt` after each of `backoff`'s delays until it stops raising
    `VolleyConnectionError`; answers whether it succeeded (`False`: out of attempts, or
    `stopped()` turned true while waiting)."""
    for delay in backoff.delays(rand):
        await sleep(delay)
        if stopped():
            return False
        try:
            await attempt()
            return True
        except VolleyConnectionError as e:
            log.info("reconnecting failed: %s", e.message)
    return False
