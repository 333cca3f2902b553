"""Shared state (PROTOCOL.md section 11): mirrors of the server's state documents, kept
current with JSON Patch."""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any, AsyncIterator, Callable, Generic, TypeVar, cast

from .connection import Connection
from .errors import ErrorCode, VolleyError
from .frames import STATE
from .patch import PatchError, apply_patch
from .subscriptions import Registry
from .values import identity

__all__ = ["DEFAULT_STATE_BUFFER", "SharedState", "States"]

T = TypeVar("T")

log = logging.getLogger("volley")

#: Snapshots a shared state buffers for a slow reader by default (the oldest go first).
DEFAULT_STATE_BUFFER = 16


class States(Registry):
    """A connection's shared-state mirrors: applies each `STATE` frame's patch to the
    state's document once and hands the result to every mirror of it."""

    what = "states"

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.docs: dict[str, Any] = {}
        self._resyncing: set[str] = set()

    def _added(self, name: str, sub: Any) -> None:
        if name in self.docs:
            sub._set(self.docs[name])

    def _removed(self, name: str) -> None:
        self.docs.pop(name, None)

    def _renewing(self) -> None:
        # The server sends each state whole again; patches apply to that.
        self.docs.clear()

    def _removed_all(self) -> None:
        self.docs.clear()

    def on_frame(self, frame: list[Any]) -> bool:
        if frame[0] != STATE:
            return False
        name, patch = str(frame[1]), frame[2] if len(frame) > 2 else []
        subs = self.subs.get(name)
        if not subs:
            return True  # a patch that crossed our unsubscribe
        try:
            doc = apply_patch(self.docs.get(name), patch)
        except PatchError as e:
            if name not in self._resyncing:
                log.warning("cannot apply the patch of shared state %r (%s): asking for the whole document", name, e)
                self._resyncing.add(name)
                self.conn._spawn(self._resync(name))
            return True
        self.docs[name] = doc
        for mirror in list(subs):
            mirror._set(doc)
        return True

    async def _resync(self, name: str) -> None:
        """Asks for a state's whole document again: the server sends it to a new
        subscriber."""
        self.docs.pop(name, None)
        try:
            await self.conn.call("volley.unsubscribe", {"states": [name]}, None, identity)
            if self.subs.get(name):
                await self.conn.call("volley.subscribe", {"states": [name]}, None, identity)
        except VolleyError as e:
            log.warning("asking for the shared state %r again failed: %s", name, e.message)
        finally:
            self._resyncing.discard(name)


class SharedState(Generic[T]):
    """A mirror of one of the server's shared states (PROTOCOL.md section 11).

    Use it as `async with` (subscribes on entry, unsubscribes on exit). The server sends
    the whole document first and then JSON Patches, which are applied here in order;
    `value` is always the latest document, decoded to the state's type (`None` until the
    first document arrives: a server sends none for a state it never set). `async for`
    yields a snapshot per change: those not read yet, oldest first, or when there are
    none the current document to begin with. A reader that falls more than `buffer`
    snapshots behind skips the oldest ones, so it always gets the latest. `await wait_for(predicate)` waits for a
    document that satisfies a condition.

    After a reconnect the state is subscribed again and the server's full document
    replaces the mirror. A patch that cannot be applied (it should never happen) makes
    the mirror ask the server for the whole document again.

    Attributes:
        name: The state's name.
        version: How many documents (the first and every patched one) were received.
    """

    def __init__(
        self,
        conn: Connection,
        name: str,
        decode: Callable[[Any], T],
        buffer: int = DEFAULT_STATE_BUFFER,
    ) -> None:
        if buffer < 1:
            raise ValueError("a shared state buffers at least one snapshot")
        self._states = conn.extension(States)
        self.name = name
        self._decode = decode
        self._value: T | None = None
        self._snapshots: collections.deque[T] = collections.deque(maxlen=buffer)
        self._changed = asyncio.Event()
        self._opened = False
        self._ended = False
        self._error: BaseException | None = None
        self.version = 0

    @property
    def value(self) -> T | None:
        """The current document, or `None` before the first one."""
        return self._value

    async def open(self) -> None:
        """Subscribes (`volley.subscribe` with `states`); `async with` and `async for`
        call it."""
        if self._opened:
            return
        self._opened = True
        try:
            await self._states.subscribe(self.name, self)
        except BaseException:
            self._opened = False
            raise

    async def close(self) -> None:
        """Unsubscribes (`volley.unsubscribe` when no other mirror of the state is open);
        `value` keeps the last document."""
        if self._opened and not self._ended:
            self._ended = True
            self._changed.set()
            await self._states.unsubscribe(self.name, self)
        self._ended = True
        self._changed.set()

    async def __aenter__(self) -> SharedState[T]:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        if not self._opened and not self._ended:
            await self.open()
        if not self._snapshots and self.version > 0:
            yield cast(T, self._value)
        while True:
            while not self._snapshots:
                if self._error is not None:
                    raise self._error
                if self._ended:
                    return
                self._changed.clear()
                await self._changed.wait()
            yield self._snapshots.popleft()

    async def wait_for(self, predicate: Callable[[T], bool], timeout: float | None = None) -> T:
        """Waits until the document satisfies `predicate` (checked now and after each
        change) and answers it. A value that passes between two checks of a busy event
        loop may be missed; iterate to see every snapshot.

        Raises:
            asyncio.TimeoutError: `timeout` seconds passed first.
            VolleyConnectionError: The connection was lost for good.
        """

        async def wait() -> T:
            if not self._opened and not self._ended:
                await self.open()
            while True:
                value = cast(T, self._value)
                if self.version > 0 and predicate(value):
                    return value
                if self._error is not None:
                    raise self._error
                if self._ended:
                    raise VolleyError(ErrorCode.CANCELLED, f"the mirror of {self.name!r} is closed")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    def _set(self, doc: Any) -> None:
        if self._ended:
            return
        try:
            value = self._decode(doc)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            log.warning("the shared state %r does not fit its type: %r", self.name, e)
            return
        self._value = value
        self.version += 1
        self._snapshots.append(value)
        self._changed.set()

    def _end(self, error: BaseException | None) -> None:
        self._error = error
        self._ended = True
        self._changed.set()
