"""Topics (PROTOCOL.md section 10): subscriptions to notifications the server
publishes, by name or `prefix.*` pattern, buffered for a slow reader."""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass
from typing import Any, Callable, Generic, Literal, Mapping, TypeVar

from .connection import Connection
from websockets.exceptions import ConnectionClosed

from .errors import DATA_LOSS, VolleyConnectionError, VolleyWarning
from .frames import NOTIFY
from .subscriptions import Registry
from .values import identity

__all__ = [
    "DEFAULT_TOPIC_BUFFER",
    "Notification",
    "Overflow",
    "Subscription",
    "Topics",
    "notification",
    "payload",
    "publish",
    "topic_matches",
]

T = TypeVar("T")

log = logging.getLogger("volley")

#: What a topic subscription does when its buffer is full and another notification
#: arrives: `"drop_oldest"` discards the oldest buffered one (the reader sees the most
#: recent notifications), `"drop_newest"` discards the one arriving (the reader sees
#: the earliest). Either way `Subscription.dropped` counts it.
Overflow = Literal["drop_oldest", "drop_newest"]

#: Notifications a topic subscription buffers for a slow reader by default.
DEFAULT_TOPIC_BUFFER = 256


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether `topic` is one `pattern` subscribes to (PROTOCOL.md section 10): the
    name itself, or for `prefix.*` every topic below `prefix.`; `*` matches all."""
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        return len(topic) > len(prefix) and topic.startswith(prefix)
    return pattern == topic or pattern == "*"


@dataclass(frozen=True)
class Notification(Generic[T]):
    """A notification of a `topics.subscribe(pattern)` subscription: the topic it came
    on (useful with `prefix.*` patterns) and its value, decoded to the topic's type when
    the schema declares the topic."""

    topic: str
    value: T


async def publish(conn: Connection, topic: str, value: Any) -> None:
    """Sends the server a notification on `topic` (`NOTIFY`), waiting for a reconnect
    when the connection is reconnecting. Raises `VolleyConnectionError` once it is
    closed."""
    ws = await conn._ensure_open(topic, None)
    try:
        await ws.send(conn._codec.encode([NOTIFY, topic, value]))
    except ConnectionClosed:
        raise VolleyConnectionError("the connection closed before the notification was sent", topic) from None


def payload(decode: Callable[[Any], T]) -> Callable[[str, Any], T]:
    """The decoder of a subscription to one topic: the value alone."""
    return lambda topic, value: decode(value)


def notification(decoders: Mapping[str, Callable[[Any], Any]]) -> Callable[[str, Any], Notification[Any]]:
    """The decoder of a subscription to a pattern: topic and value, decoded with the
    topic's decoder when it has one."""
    return lambda topic, value: Notification(topic, decoders.get(topic, identity)(value))


class Topics(Registry):
    """A connection's topic subscriptions: delivers `NOTIFY` frames to them and counts
    the server's `DATA_LOSS` warnings on each."""

    what = "topics"

    def on_frame(self, frame: list[Any]) -> bool:
        if frame[0] != NOTIFY:
            return False
        topic, value = str(frame[1]), frame[2] if len(frame) > 2 else None
        for pattern, subs in list(self.subs.items()):
            if topic_matches(pattern, topic):
                for sub in list(subs):
                    sub._push(topic, value)
        return True

    def on_warning(self, warning: VolleyWarning) -> None:
        if warning.code != DATA_LOSS:
            return
        dropped = warning.data.get("dropped") if isinstance(warning.data, Mapping) else None
        n = dropped if isinstance(dropped, int) and not isinstance(dropped, bool) else 1
        for subs in self.subs.values():
            for sub in subs:
                sub.server_dropped += n


class Subscription(Generic[T]):
    """A subscription to a topic (or to every topic below a prefix with `prefix.*`).

    Use it as `async with` (subscribes on entry, unsubscribes on exit) and read the
    notifications with `async for`; iterating an unopened subscription opens it.
    Notifications that arrive while nobody reads wait in a buffer of `buffer` entries;
    when it is full, `overflow` says which one is discarded (`"drop_oldest"`, the
    default, or `"drop_newest"`) and `dropped` counts it. Notifications the *server*
    dropped for this connection (its `DATA_LOSS` warning, code 299) are counted in
    `server_dropped`: the server does not say which topic they were on, so every open
    subscription counts them.

    After a reconnect the subscription is renewed by itself; notifications sent while
    the connection was down are lost. Iteration ends when the subscription or the
    client is closed, and raises `VolleyConnectionError` once the connection is lost
    for good.

    Attributes:
        pattern: The topic name or `prefix.*` pattern subscribed to.
        dropped: Notifications this client discarded because the buffer was full.
        server_dropped: Notifications the server reported dropping while this
            subscription was open.
    """

    def __init__(
        self,
        conn: Connection,
        pattern: str,
        decode: Callable[[str, Any], T],
        buffer: int = DEFAULT_TOPIC_BUFFER,
        overflow: Overflow = "drop_oldest",
    ) -> None:
        if buffer < 1:
            raise ValueError("a subscription buffers at least one notification")
        if overflow not in ("drop_oldest", "drop_newest"):
            raise ValueError(f"unknown overflow {overflow!r}: use 'drop_oldest' or 'drop_newest'")
        self._topics = conn.extension(Topics)
        self.pattern = pattern
        self._decode = decode
        self._buffer: collections.deque[T] = collections.deque()
        self._size = buffer
        self._overflow = overflow
        self._wake = asyncio.Event()
        self._opened = False
        self._ended = False
        self._error: BaseException | None = None
        self.dropped = 0
        self.server_dropped = 0

    @property
    def lost(self) -> int:
        """Every notification known to be lost: `dropped + server_dropped`."""
        return self.dropped + self.server_dropped

    async def open(self) -> None:
        """Subscribes (`volley.subscribe`); `async with` and `async for` call it."""
        if self._opened:
            return
        self._opened = True
        try:
            await self._topics.subscribe(self.pattern, self)
        except BaseException:
            self._opened = False
            raise

    async def close(self) -> None:
        """Unsubscribes (`volley.unsubscribe` when no other subscription wants the
        pattern); reading ends after the notifications already buffered."""
        if self._opened and not self._ended:
            self._ended = True
            self._wake.set()
            await self._topics.unsubscribe(self.pattern, self)
        self._ended = True
        self._wake.set()

    async def __aenter__(self) -> Subscription[T]:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        if not self._opened and not self._ended:
            await self.open()
        while not self._buffer:
            if self._error is not None:
                raise self._error
            if self._ended:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        return self._buffer.popleft()

    def _push(self, topic: str, value: Any) -> None:
        if self._ended:
            return
        try:
            item = self._decode(topic, value)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            log.warning("a notification on %r does not fit its type: %r", topic, e)
            return
        if len(self._buffer) >= self._size:
            self.dropped += 1
            if self._overflow == "drop_newest":
                return
            self._buffer.popleft()
        self._buffer.append(item)
        self._wake.set()

    def _end(self, error: BaseException | None) -> None:
        self._error = error
        self._ended = True
        self._wake.set()
