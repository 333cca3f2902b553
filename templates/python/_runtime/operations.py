"""Long-running operations (PROTOCOL.md section 14): a call the server may accept and
answer later. Its id comes at once (leading metadata `volley-operation`), its progress
as notifications on `volley.operation`, and its outcome is kept by the server to be
awaited by id, after a reconnect or from another client."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable, Generic, Mapping, TypeVar

from .calls import CallOptions
from .connection import Connection, Extension
from .errors import VolleyConnectionError
from .frames import NOTIFY
from .readers import Backlog
from .values import identity

__all__ = ["OperationHandle", "Operations"]

R = TypeVar("R")
G = TypeVar("G")

#: The topic of progress notifications.
PROGRESS = "volley.operation"


class Operations(Extension):
    """The operations of one connection: routes progress by operation id, and lets
    waits lost with the connection resume once it is back."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.listeners: dict[str, list[Callable[[Any], None]]] = {}
        self.reopened = asyncio.Event()
        self.ended: BaseException | None = None

    def on_frame(self, frame: list[Any]) -> bool:
        if frame[0] != NOTIFY or len(frame) < 3 or frame[1] != PROGRESS:
            return False
        note = frame[2]
        if isinstance(note, Mapping) and isinstance(note.get("id"), str):
            for listener in list(self.listeners.get(note["id"], ())):
                listener(note.get("progress"))
        return True

    def on_drop(self) -> None:
        self.reopened.clear()

    async def on_reconnect(self) -> None:
        self.reopened.set()

    def on_end(self, error: BaseException | None) -> None:
        self.ended = error or VolleyConnectionError("the connection closed before the operation's result came")
        self.reopened.set()


class OperationHandle(Generic[R, G]):
    """A call that the server may answer at once or accept as an operation: `R` is its
    result, `G` its progress.

        op = client.device.calibrate(axes=3)
        print(await op.started())        # its id, or None if answered at once
        async for p in op.progress():
            print(p.axis)
        print(await op.result())

    The result survives a lost connection (with `reconnect=True`): once the connection
    is back, the handle waits for it by id (`volley.operation.wait`). Keep the id to
    resume it from another client with `client.operation(id)`.
    """

    def __init__(
        self,
        conn: Connection,
        decode: Callable[[Any], R],
        progress: Callable[[Any], G],
        method: str | None = None,
        params: Mapping[str, Any] | None = None,
        options: CallOptions | None = None,
        id: str | None = None,
    ) -> None:
        self._c = conn
        self._decode = decode
        self._decode_progress = progress
        self._ext = conn.extension(Operations)
        self.id: str | None = id
        """The operation's id once the server accepted the call; `None` before, or when
        it answered at once."""
        self._known = asyncio.Event()
        if id is not None:
            self._known.set()
        self._readers: list[Backlog[G]] = []
        self._listeners: list[Callable[[G], None]] = []
        if method is not None:
            self._task = asyncio.ensure_future(self._run(method, params or {}, options))
        else:
            self._task = asyncio.ensure_future(self._wait())
        self._task.add_done_callback(self._settled)
        if id is not None:
            self._route(id)

    # -- what the caller uses --

    async def started(self) -> str | None:
        """Its id, once the server accepted it; `None` when it answered at once."""
        waiter = asyncio.ensure_future(self._known.wait())
        await asyncio.wait([waiter, self._task], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        return self.id

    async def result(self) -> R:
        """Its result, or raises `VolleyError` with the error it ended with
        (`CANCELLED` when cancelled)."""
        return await asyncio.shield(self._task)

    def on_progress(self, listener: Callable[[G], None]) -> Callable[[], None]:
        """Calls `listener` with each progress update; returns a function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def progress(self) -> AsyncIterator[G]:
        """The progress updates from now on, ending when the operation does. A reader
        that falls 1024 behind gets those it has, then `OverflowError`."""
        reader: Backlog[G] = Backlog("an operation's progress")
        self._readers.append(reader)
        if self._task.done():
            reader.end()
        try:
            async for item in reader.drain():
                yield item
        finally:
            if reader in self._readers:
                self._readers.remove(reader)

    async def cancel(self) -> bool:
        """Cancels it (`volley.operation.cancel`): True when it was running, False when
        it had ended or the call was answered at once."""
        op = await self.started()
        if op is None:
            return False
        return bool(await self._c.unary("volley.operation.cancel", {"id": op}, None, identity))

    async def state(self) -> Any:
        """What the server says of it now (`volley.operation.get`): `{"id", "method",
        "done", "progress"?, "result"?, "error"?}`, as sent."""
        op = await self.started()
        if op is None:
            raise RuntimeError("the call was answered at once: there is no operation")
        return await self._c.unary("volley.operation.get", {"id": op}, None, identity)

    # -- how it works --

    async def _run(self, method: str, params: Mapping[str, Any], options: CallOptions | None) -> R:
        call = await self._c._start(method, params, options or CallOptions())
        watch = asyncio.ensure_future(self._learn(call))
        try:
            response = await self._c._answer(call, identity, None)
            return self._decode(response.value)
        except VolleyConnectionError:
            if self.id is None:
                raise
            return await self._resume()
        finally:
            watch.cancel()

    async def _learn(self, call: Any) -> None:
        await call.leading_seen.wait()
        op = (call.leading or {}).get("volley-operation")
        if isinstance(op, str) and self.id is None:
            self.id = op
            self._route(op)
            self._known.set()

    async def _wait(self) -> R:
        try:
            value = await self._c.unary("volley.operation.wait", {"id": self.id}, None, identity)
            return self._decode(value)
        except VolleyConnectionError:
            return await self._resume()

    async def _resume(self) -> R:
        """The connection is gone: wait for it to come back, then wait by id."""
        while True:
            if self._ext.ended is not None:
                raise self._ext.ended
            await self._ext.reopened.wait()
            if self._ext.ended is not None:
                raise self._ext.ended
            try:
                value = await self._c.unary("volley.operation.wait", {"id": self.id}, None, identity)
                return self._decode(value)
            except VolleyConnectionError:
                continue

    def _route(self, op: str) -> None:
        self._ext.listeners.setdefault(op, []).append(self._progressed)

    def _progressed(self, raw: Any) -> None:
        value = self._decode_progress(raw)
        for listener in list(self._listeners):
            listener(value)
        for reader in list(self._readers):
            reader.push(value)

    def _settled(self, _: object) -> None:
        if self.id is not None:
            listeners = self._ext.listeners.get(self.id, [])
            if self._progressed in listeners:
                listeners.remove(self._progressed)
            if not listeners:
                self._ext.listeners.pop(self.id, None)
        for reader in list(self._readers):
            reader.end()
        if not self._task.cancelled():
            self._task.exception()  # retrieved: an unread failure is not logged as lost
