"""Calls the server makes to this client (PROTOCOL.md section 12): the handlers the
generated `ClientHandlers` reach, run with the same credit and deadlines as calls this
client makes."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Mapping, TypeVar

from .calls import aiter_items
from .connection import Connection, Extension
from .credit import Credit, Window
from .errors import ErrorCode, VolleyError
from .frames import CALL, CANCEL, CREDIT, DEFAULT_WINDOW, END, ERROR, ITEM, RESULT, STOP, WARNING

# Names quoted back in errors are cut at this many characters (PROTOCOL.md section 8.1).
QUOTE_LIMIT = 128


def _bounded(s: str) -> str:
    return s[:QUOTE_LIMIT] + "..." if len(s) > QUOTE_LIMIT else s


def method_not_found(method: str, served: list[str]) -> dict[str, Any]:
    """`METHOD_NOT_FOUND` data (PROTOCOL.md section 7) for `method` among the `served`
    method names: where along the dotted name the lookup stopped, and what is there."""
    segments = method.split(".")
    depth = 0
    while depth < len(segments) and any(m.startswith(".".join(segments[: depth + 1]) + ".") for m in served):
        depth += 1
    namespace = ".".join(segments[:depth])
    missing = segments[depth] if depth < len(segments) else ""
    under: set[str] = set()
    for m in served:
        if namespace and not m.startswith(namespace + "."):
            continue
        rest = m[len(namespace) + 1 :] if namespace else m
        head, dot, _ = rest.partition(".")
        under.add(head + dot)
    return {
        "method": _bounded(method),
        "namespace": _bounded(namespace),
        "missing": _bounded(missing),
        "available": sorted(under)[:64],
    }
from .values import to_wire

__all__ = ["Handler", "ServerCalls", "decode_items"]

T = TypeVar("T")

log = logging.getLogger("volley")


@dataclass
class Handler:
    """How the client serves one method the server calls: its call shape and a function
    of the raw params and, for client and bidirectional streams, the items."""

    kind: str
    run: Callable[[Mapping[str, Any], AsyncIterator[Any] | None], Any]


async def decode_items(items: AsyncIterator[Any] | None, decode: Callable[[Any], T]) -> AsyncIterator[T]:
    """The items of a stream the server sends to a handler, decoded."""
    if items is None:
        return
    async for item in items:
        yield decode(item)


class _Served:
    """The state of one call the server made to this client."""

    def __init__(self, call_id: int, method: str, credit: int) -> None:
        self.id = call_id
        self.method = method
        # Credit for the items this client streams to the server: the call's window.
        self.send = Credit(credit)
        self.stop = False
        # Credit granted to the server for the items it streams to the handler.
        self.items: asyncio.Queue[tuple[int, Any]] | None = None
        self.receive = Window(DEFAULT_WINDOW)
        self.task: asyncio.Task[None] | None = None
        self.deadline_passed = False


class ServerCalls(Extension):
    """Serves the server's calls (even call ids) with `handlers`, by method name.

    Install it when connecting: `Connection.open(..., extensions=[ServerCalls.of(handlers)])`.
    """

    def __init__(self, conn: Connection, handlers: Mapping[str, Handler] | None = None) -> None:
        super().__init__(conn)
        self._handlers = dict(handlers or {})
        self._served: dict[int, _Served] = {}
        self._highest = 0

    @staticmethod
    def of(handlers: Mapping[str, Handler]) -> Callable[[Connection], ServerCalls]:
        """The factory `Connection.open(extensions=...)` takes."""
        return lambda conn: ServerCalls(conn, handlers)

    def on_drop(self) -> None:
        for served in list(self._served.values()):
            if served.task is not None:
                served.task.cancel()
        self._served.clear()

    def on_frame(self, frame: list[Any]) -> bool:
        kind, call_id = frame[0], frame[1] if len(frame) > 1 else None
        if kind > WARNING or not isinstance(call_id, int) or call_id == 0 or call_id % 2 == 1:
            return False
        if kind == CALL:
            if call_id <= self._highest:
                self.conn._send_soon([ERROR, 0, ErrorCode.DUPLICATE_CALL_ID, f"call id {call_id} was used", {"id": call_id}])
                return True
            self._highest = call_id
            ext = frame[4] if len(frame) > 4 and isinstance(frame[4], Mapping) else {}
            params = frame[3] if len(frame) > 3 and isinstance(frame[3], Mapping) else {}
            self._serve(call_id, str(frame[2]), params, ext)
            return True
        served = self._served.get(call_id)
        if served is None:
            return True  # stale
        if kind == CANCEL:
            self._served.pop(call_id, None)
            if served.task is not None:
                served.task.cancel()
        elif kind == STOP:
            served.stop = True
        elif kind == CREDIT:
            served.send.grant(int(frame[2]))
        elif kind == ITEM and served.items is not None:
            if not served.receive.take():
                self._finish(served, [ERROR, call_id, ErrorCode.CREDIT_EXCEEDED, f"item without credit on call {call_id}"])
                return True
            served.items.put_nowait((ITEM, frame[2] if len(frame) > 2 else None))
        elif kind == END and served.items is not None:
            served.items.put_nowait((END, None))
        return True

    def _serve(self, call_id: int, method: str, params: Mapping[str, Any], ext: Mapping[str, Any]) -> None:
        handler = self._handlers.get(method)
        if handler is None:
            if not self._handlers:
                self.conn._send_soon([ERROR, call_id, ErrorCode.UNIMPLEMENTED, "this client serves no methods"])
                return
            data = method_not_found(method, list(self._handlers))
            self.conn._send_soon([ERROR, call_id, ErrorCode.METHOD_NOT_FOUND, f"no method named `{data['method']}` on this client", data])
            return
        w = ext.get("w")
        served = _Served(call_id, method, int(w) if isinstance(w, int) else DEFAULT_WINDOW)
        self._served[call_id] = served
        if handler.kind in ("client_stream", "bidi_stream"):
            served.items = asyncio.Queue()
            self.conn._send_soon([CREDIT, call_id, served.receive.window])
        served.task = asyncio.create_task(self._run(served, handler, params))
        t = ext.get("t")
        if isinstance(t, int):
            asyncio.get_running_loop().call_later(t / 1000, self._deadline, served)

    def _deadline(self, served: _Served) -> None:
        if self._served.get(served.id) is served and served.task is not None:
            served.deadline_passed = True
            served.task.cancel()

    def _finish(self, served: _Served, frame: list[Any]) -> None:
        if self._served.pop(served.id, None) is None:
            return
        if served.task is not None and served.task is not asyncio.current_task():
            served.task.cancel()
        self.conn._send_soon(frame)

    async def _items(self, served: _Served) -> AsyncIterator[Any]:
        assert served.items is not None
        while True:
            kind, value = await served.items.get()
            if kind == END:
                return
            n = served.receive.consume()
            if n:
                await self.conn._send([CREDIT, served.id, n])
            yield value

    async def _run(self, served: _Served, handler: Handler, params: Mapping[str, Any]) -> None:
        items = self._items(served) if served.items is not None else None
        try:
            if handler.kind in ("unary", "client_stream"):
                value = await handler.run(params, items)
                self._finish(served, [RESULT, served.id, to_wire(value)])
                return
            async for item in aiter_items(handler.run(params, items)):
                while served.send.available <= 0:
                    await served.send.wait()
                served.send.spend()
                await self.conn._send([ITEM, served.id, to_wire(item)])
                if served.stop:
                    break
            self._finish(served, [END, served.id])
        except asyncio.CancelledError:
            if served.deadline_passed:
                self._finish(served, [ERROR, served.id, ErrorCode.DEADLINE_EXCEEDED, "the call's deadline passed"])
            else:
                self._served.pop(served.id, None)
        except VolleyError as e:
            frame: list[Any] = [ERROR, served.id, e.code, e.message, to_wire(e.data)]
            if e.trailers:
                frame.append(e.trailers)
            self._finish(served, frame)
        except Exception as e:
            log.exception("the handler of %s failed", served.method)
            self._finish(served, [ERROR, served.id, ErrorCode.INTERNAL, f"the client's handler failed: {type(e).__name__}"])
