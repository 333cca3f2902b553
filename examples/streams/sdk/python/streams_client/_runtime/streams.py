"""Streaming calls this client makes (PROTOCOL.md section 4): server streams read with
`async for`, client streams sent from any iterable, and bidirectional streams, both
directions held to the credit the peer granted."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Generic, Mapping, TypeVar

from .calls import Call, CallOptions, Input, UnaryCall, aiter_items, typed_error
from .connection import Connection
from .errors import ErrorCode, VolleyError, VolleyWarning
from .frames import END, ITEM, STOP, Metadata
from .values import to_wire

__all__ = ["Stream", "client_stream", "stream"]

T = TypeVar("T")

log = logging.getLogger("volley")


async def _open(conn: Connection, method: str, params: Mapping[str, Any], options: CallOptions, items: Input[Any] | None) -> Call:
    call = await conn._start(method, params, options)
    if items is not None and not call.done:
        call.pump = asyncio.create_task(_pump(conn, call, items))
    return call


async def _pump(conn: Connection, call: Call, items: Input[Any]) -> None:
    """Sends the caller's items, never beyond the credit the server granted."""
    try:
        async for item in aiter_items(items):
            while call.send.available <= 0 and not call.done and not call.stop_requested:
                await call.send.wait()
            if call.done:
                return
            call.send.spend()
            await conn._send([ITEM, call.id, to_wire(item)])
            if call.stop_requested:
                break
        if not call.done:
            await conn._send([END, call.id])
    except asyncio.CancelledError:
        raise
    except Exception as e:  # the caller's iterable failed: the call cannot go on
        log.warning("%s: the input stream failed: %r", call.method, e)
        call.cancel(ErrorCode.CANCELLED, f"the caller's input stream failed: {e!r}")


def client_stream(
    conn: Connection,
    method: str,
    params: Mapping[str, Any],
    options: CallOptions | None,
    decode: Callable[[Any], T],
    items: Input[Any],
    error: Callable[[VolleyError], VolleyError] | None = None,
) -> UnaryCall[T]:
    """A client-stream call: sends `items` and answers one value; started when
    awaited."""

    async def run() -> Any:
        call = await _open(conn, method, params, options or CallOptions(), items)
        return await conn._answer(call, decode, error)

    return UnaryCall(run)


def stream(
    conn: Connection,
    method: str,
    params: Mapping[str, Any],
    options: CallOptions | None,
    decode: Callable[[Any], T],
    items: Input[Any] | None = None,
    error: Callable[[VolleyError], VolleyError] | None = None,
) -> Stream[T]:
    """A server-stream (or, with `items`, bidirectional) call, started when first
    read."""
    return Stream(conn, method, params, options, decode, items, error)


class Stream(Generic[T]):
    """Items the server streams back (server and bidirectional streams).

    Read it with `async for`. Credit is granted as items are consumed, so the server
    never gets far ahead of the reader. Use it as `async with` to cancel the call when
    the block is left early, or call `cancel()`; cancelling the reading task cancels the
    call too.

    Attributes:
        trailers: The trailing metadata, once the stream has ended.
        warnings: `WARNING` frames received so far.
    """

    def __init__(
        self,
        conn: Connection,
        method: str,
        params: Mapping[str, Any],
        options: CallOptions | None,
        decode: Callable[[Any], T],
        items: Input[Any] | None,
        error: Callable[[VolleyError], VolleyError] | None,
    ) -> None:
        self._conn = conn
        self._method = method
        self._params = params
        self._options = options or CallOptions()
        self._decode = decode
        self._input = items
        self._error = error
        self._call: Call | None = None
        self._opening: asyncio.Future[Call] | None = None

    async def _open(self) -> Call:
        if self._call is not None:
            return self._call
        if self._opening is None:
            self._opening = asyncio.ensure_future(_open(self._conn, self._method, self._params, self._options, self._input))
        self._call = await asyncio.shield(self._opening)
        return self._call

    async def __aenter__(self) -> Stream[T]:
        await self._open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cancel()

    def __aiter__(self) -> Stream[T]:
        return self

    async def __anext__(self) -> T:
        call = await self._open()
        try:
            kind, payload = await call.items.get()
        except asyncio.CancelledError:
            call.cancel()
            raise
        if kind == ITEM:
            call.consumed_one()
            return self._decode(payload)
        # The end (or error) stays queued so every later read sees it too.
        call.items.put_nowait((kind, payload))
        if kind == END:
            raise StopAsyncIteration
        raise self._fail(payload)

    def _fail(self, error: BaseException) -> BaseException:
        if isinstance(error, VolleyError):
            return typed_error(error, self._error)
        return error

    async def metadata(self) -> Metadata:
        """The leading metadata: waits for it (or the first item, or the end)."""
        call = await self._open()
        await call.leading_seen.wait()
        return dict(call.leading or {})

    @property
    def trailers(self) -> Metadata:
        return dict(self._call.trailers) if self._call else {}

    @property
    def warnings(self) -> list[VolleyWarning]:
        return list(self._call.warnings) if self._call else []

    async def collect(self) -> list[T]:
        """Reads the stream to its end; answers every item."""
        return [item async for item in self]

    async def stop(self) -> None:
        """Asks the server to wind down gracefully (`STOP`): it finishes the item it is
        working on and ends the stream normally; keep reading to the end."""
        call = await self._open()
        if not call.done:
            await self._conn._send([STOP, call.id])

    async def cancel(self) -> None:
        """Cancels the call (`CANCEL`) unless it has ended; later reads raise
        `VolleyError` code `CANCELLED`."""
        if self._call is None and self._opening is None:
            return
        call = await self._open()
        call.cancel()
