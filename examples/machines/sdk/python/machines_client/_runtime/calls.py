"""Calls this client makes: their options, their answer, and the state of one in
flight (PROTOCOL.md sections 3 to 6)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Generic,
    Iterable,
    Mapping,
    TypeVar,
    Union,
)

from .credit import Credit, Window
from .errors import ErrorCode, VolleyError, VolleyWarning
from .frames import CANCEL, CREDIT, END, ERROR, ITEM, META, RESULT, STOP, WARNING, Metadata, metadata

__all__ = ["Call", "CallOptions", "Input", "Response", "UnaryCall", "aiter_items", "typed_error"]

T = TypeVar("T")

log = logging.getLogger("volley")

Input = Union[AsyncIterable[T], Iterable[T]]
"""Items a client or bidirectional stream sends: any iterable or async iterable."""


@dataclass
class CallOptions:
    """Options of one call; every generated method takes them as `options=`.

    Attributes:
        timeout: Seconds the call may take. Sent to the server as the call's deadline
            (`ext.t`) and enforced here too: when it passes, the call fails with
            `VolleyError` code `DEADLINE_EXCEEDED` and is cancelled.
        metadata: Client metadata sent with the call (`ext.m`).
        window: For calls that stream items back: how many items the server may send
            ahead of what you consumed (default 32). Credit is granted as you read.
    """

    timeout: float | None = None
    metadata: Mapping[str, str] | None = None
    window: int | None = None


@dataclass
class Response(Generic[T]):
    """A call's answer with everything that came with it.

    Attributes:
        value: The result.
        metadata: The leading metadata the server sent (empty if none).
        trailers: The trailing metadata.
        warnings: `WARNING` frames received during the call.
    """

    value: T
    metadata: Metadata = field(default_factory=dict)
    trailers: Metadata = field(default_factory=dict)
    warnings: list[VolleyWarning] = field(default_factory=list)


def typed_error(error: VolleyError, typed: Callable[[VolleyError], VolleyError] | None) -> VolleyError:
    """An `APPLICATION` error as the method's own error class, when it has one and the
    data fits; otherwise the error as it is."""
    if typed is None or error.code != ErrorCode.APPLICATION:
        return error
    try:
        return typed(error)
    except (KeyError, TypeError, ValueError, IndexError):
        return error


class Call:
    """The state of one call this client started.

    `send_soon` queues a frame to the server; `forget` is called once with the call's
    id when it ends.
    """

    def __init__(
        self,
        call_id: int,
        method: str,
        window: int,
        send_soon: Callable[[list[Any]], None],
        forget: Callable[[int], None],
    ) -> None:
        self.id = call_id
        self.method = method
        self._send_soon = send_soon
        self._forget = forget
        self.final: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.items: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
        self.leading: Metadata | None = None
        self.leading_seen = asyncio.Event()
        self.trailers: Metadata = {}
        self.warnings: list[VolleyWarning] = []
        self.done = False
        # Credit for the items this client streams to the server.
        self.send = Credit()
        self.stop_requested = False
        # Credit granted to the server for the items it streams back.
        self.receive = Window(window)
        self.timer: asyncio.TimerHandle | None = None
        self.pump: asyncio.Task[None] | None = None

    def finish(self, value: Any = None, error: BaseException | None = None) -> None:
        """Ends the call: its result (or error) is known, nothing more is sent for it."""
        if self.done:
            return
        self.done = True
        self._forget(self.id)
        if self.timer is not None:
            self.timer.cancel()
        if self.pump is not None and not self.pump.done() and self.pump is not asyncio.current_task():
            self.pump.cancel()
        self.leading_seen.set()
        self.send.wake()
        if not self.final.done():
            if error is not None:
                self.final.set_exception(error)
                # Retrieved by whoever reads the stream; don't warn if nobody does.
                self.final.exception()
            else:
                self.final.set_result(value)
        if error is not None:
            self.items.put_nowait((ERROR, error))
        else:
            self.items.put_nowait((END, None))

    def cancel(self, code: int = ErrorCode.CANCELLED, message: str = "cancelled by the caller") -> None:
        """Cancels the call (PROTOCOL.md section 5): sends `CANCEL` and ends it here."""
        if self.done:
            return
        self.finish(error=VolleyError(code, message, method=self.method))
        self._send_soon([CANCEL, self.id, int(code), message])

    def on_frame(self, frame: list[Any]) -> None:
        """Takes a frame the server sent for this call."""
        kind = frame[0]
        if kind == RESULT:
            self.trailers = metadata(frame, 3)
            self.finish(frame[2] if len(frame) > 2 else None)
        elif kind == ERROR:
            self.trailers = metadata(frame, 5)
            error = VolleyError(
                int(frame[2]),
                str(frame[3]) if len(frame) > 3 else "",
                frame[4] if len(frame) > 4 else None,
                self.trailers,
                self.method,
            )
            self.finish(error=error)
        elif kind == ITEM:
            if not self.receive.take():
                self.cancel(ErrorCode.CREDIT_EXCEEDED, f"item without credit on call {self.id}")
                return
            self.leading_seen.set()
            self.items.put_nowait((ITEM, frame[2] if len(frame) > 2 else None))
        elif kind == END:
            self.trailers = metadata(frame, 2)
            self.finish(None)
        elif kind == CREDIT:
            self.send.grant(int(frame[2]))
        elif kind == META:
            if self.leading is None:
                self.leading = metadata(frame, 2)
            self.leading_seen.set()
        elif kind == WARNING:
            warning = VolleyWarning(int(frame[2]), str(frame[3]), frame[4] if len(frame) > 4 else None)
            self.warnings.append(warning)
            log.warning("%s: warning %s: %s", self.method, warning.code, warning.message)
        elif kind == STOP:
            self.stop_requested = True
            self.send.wake()

    def consumed_one(self) -> None:
        """Grants credit as items are consumed: once half the window is used up."""
        n = self.receive.consume()
        if n and not self.done:
            self._send_soon([CREDIT, self.id, n])

    def response(self, value: Any) -> Response[Any]:
        return Response(value, dict(self.leading or {}), dict(self.trailers), list(self.warnings))


class UnaryCall(Generic[T]):
    """A call that answers one value. `await` it for the value, or
    `await call.with_metadata()` for a `Response` with the metadata too.

    The call starts when awaited; cancelling the awaiting task sends `CANCEL`.
    """

    def __init__(self, run: Callable[[], Awaitable[Response[T]]]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, T]:
        return self._value().__await__()

    async def _value(self) -> T:
        return (await self._run()).value

    async def with_metadata(self) -> Response[T]:
        """Makes the call; answers the value with leading and trailing metadata."""
        return await self._run()


async def aiter_items(items: Input[T]) -> AsyncIterator[T]:
    """The items of an iterable or async iterable, asynchronously."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
