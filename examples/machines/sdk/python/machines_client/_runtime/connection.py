"""One WebSocket connection to a volley server, shared by every call: unary calls,
reconnecting, and the seam the optional features (streams, calls from the server,
topics, shared state) plug into."""

from __future__ import annotations

import asyncio
import collections
import logging
from ssl import SSLContext
from typing import Any, Awaitable, Callable, Iterable, Mapping, TypeVar

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from .calls import Call, CallOptions, Response, UnaryCall, typed_error
from .codec import Codec
from .errors import DATA_LOSS, ErrorCode, VolleyConnectionError, VolleyError, VolleyWarning, code_name
from .frames import CALL, DEFAULT_WINDOW, ERROR, WARNING
from .reconnect import Backoff, retry
from .transport import open_websocket, ws_url

__all__ = ["Connection", "Extension"]

T = TypeVar("T")
E = TypeVar("E", bound="Extension")

log = logging.getLogger("volley")


class Extension:
    """A feature the core connection does not know: it sees the frames the core does
    not handle and the connection's ups and downs.

    A feature module defines a subclass and gets its instance with
    `connection.extension(Subclass)`, or installs it when connecting
    (`Connection.open(..., extensions=[...])`) when it must see frames from the start.
    Every method does nothing by default.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def on_frame(self, frame: list[Any]) -> bool:
        """A frame of a kind or call id the core does not handle: answers whether this
        extension took it."""
        return False

    def on_warning(self, warning: VolleyWarning) -> None:
        """A `WARNING` about the connection itself (id 0)."""

    def on_drop(self) -> None:
        """The connection was lost or closed (calls in flight have failed)."""

    async def on_reconnect(self) -> None:
        """The connection came back after a drop."""

    def on_end(self, error: BaseException | None) -> None:
        """The connection is down for good: closed (`None`) or lost without
        reconnecting (`error`)."""


class Connection:
    """One WebSocket connection to a volley server, shared by every call.

    Open it with `Connection.open` (the generated `Client.connect` does).
    """

    def __init__(
        self,
        url: str,
        encoding: str,
        reconnect: Backoff | None,
        open_timeout: float,
        on_warning: Callable[[VolleyWarning], None] | None = None,
        headers: Mapping[str, str] | None = None,
        ssl: SSLContext | None = None,
    ) -> None:
        self.url = url
        self._headers = dict(headers or {})
        self._ssl = ssl
        self.encoding = encoding
        self._codec = Codec(encoding)
        self._reconnect = reconnect
        self._open_timeout = open_timeout
        self._ws: ClientConnection | None = None
        self._calls: dict[int, Call] = {}
        self._next_id = 1
        self._reader: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closed = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_warning = on_warning
        self._extensions: dict[type[Extension], Extension] = {}
        self.lost: VolleyConnectionError | None = None
        """Why the connection is down, while it is (`None` while it is up)."""
        self.warnings: collections.deque[VolleyWarning] = collections.deque(maxlen=100)
        """The latest `WARNING` frames about the connection itself (id 0), such as
        `DATA_LOSS`; the 100 most recent are kept."""
        self.notifications_dropped = 0
        """How many notifications the server reported dropping for this connection
        (`DATA_LOSS` warnings, summed)."""

    @staticmethod
    async def open(
        url: str,
        *,
        encoding: str = "json",
        reconnect: Backoff | bool | None = None,
        open_timeout: float = 10.0,
        on_warning: Callable[[VolleyWarning], None] | None = None,
        headers: Mapping[str, str] | None = None,
        ssl: SSLContext | None = None,
        extensions: Iterable[Callable[[Connection], Extension]] = (),
    ) -> Connection:
        """Connects to `url` (`ws://host:port/`, `wss://` for TLS; `http://` and
        `https://` work too).

        `on_warning` is called with every `WARNING` the server sends about the
        connection itself (id 0), such as `DATA_LOSS` (code 299) when it dropped
        notifications for this client. `headers` are sent with the WebSocket upgrade
        request (and again on every reconnect), such as `Authorization`. `ssl` is the
        TLS context of a `wss://` connection; by default the system's
        (`ssl.create_default_context()`). `extensions` make the features that must see
        frames from the start, such as serving calls from the server.
        """
        codec = Codec(encoding)
        url = ws_url(url)
        if ssl is not None and not url.startswith("wss://"):
            raise ValueError(f"ssl= is for wss:// (or https://) URLs, not {url!r}")
        backoff = Backoff() if reconnect is True else (reconnect or None)
        conn = Connection(url, codec.name, backoff, open_timeout, on_warning, headers, ssl)
        for make in extensions:
            ext = make(conn)
            conn._extensions[type(ext)] = ext
        await conn._connect()
        return conn

    def extension(self, kind: type[E]) -> E:
        """The connection's extension of class `kind`, made on first use."""
        ext = self._extensions.get(kind)
        if ext is None:
            ext = self._extensions[kind] = kind(self)
        assert isinstance(ext, kind)
        return ext

    @property
    def is_open(self) -> bool:
        """Whether the WebSocket is up."""
        return self._ready.is_set()

    async def _connect(self) -> None:
        ws = await open_websocket(
            self.url,
            self._codec.subprotocol,
            headers=self._headers,
            ssl=self._ssl,
            open_timeout=self._open_timeout,
        )
        self._ws = ws
        self.lost = None
        self._ready.set()
        self._reader = asyncio.create_task(self._read(ws))

    async def close(self) -> None:
        """Closes the connection; calls in flight fail with `VolleyConnectionError`."""
        self._closed = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        ws = self._ws
        if ws is not None:
            await ws.close()
        if self._reader is not None:
            try:
                await self._reader
            except asyncio.CancelledError:
                pass
        self._drop("the connection was closed")

    async def _read(self, ws: ClientConnection) -> None:
        reason = "the connection was lost"
        try:
            async for data in ws:
                try:
                    frame = self._codec.decode(data)
                except ValueError as e:
                    log.warning("undecodable frame from the server: %s", e)
                    continue
                if not isinstance(frame, list) or not frame or not isinstance(frame[0], int):
                    log.warning("not a volley frame: %r", frame)
                    continue
                try:
                    self._dispatch(frame)
                except (IndexError, TypeError, ValueError) as e:
                    log.warning("bad frame %r: %s", frame, e)
        except ConnectionClosed as e:
            reason = f"the connection was lost ({e})"
        finally:
            if self._ws is ws:
                self._drop("the connection was closed" if self._closed else reason)

    def _drop(self, reason: str) -> None:
        """Fails every call in flight at once, then reconnects if asked to."""
        self._ready.clear()
        self._ws = None
        self.lost = VolleyConnectionError(reason)
        for call in list(self._calls.values()):
            call.finish(error=VolleyConnectionError(reason, call.method))
        for ext in list(self._extensions.values()):
            ext.on_drop()
        if self._reconnect is not None and not self._closed:
            if self._reconnecting is None:
                self._reconnecting = asyncio.create_task(self._reconnect_loop(self._reconnect))
        else:
            self._end(None if self._closed else VolleyConnectionError(reason))

    def _end(self, error: BaseException | None) -> None:
        for ext in list(self._extensions.values()):
            ext.on_end(error)

    async def _reconnect_loop(self, backoff: Backoff) -> None:
        try:
            if await retry(backoff, self._connect, stopped=lambda: self._closed):
                log.info("reconnected to %s", self.url)
                for ext in list(self._extensions.values()):
                    self._spawn(ext.on_reconnect())
                return
            if self._closed:
                return
            self._closed = True
            self._ready.set()  # wake waiting calls so they fail
            self._end(VolleyConnectionError(f"gave up reconnecting to {self.url}"))
        finally:
            self._reconnecting = None

    async def _ensure_open(self, method: str, deadline: float | None) -> ClientConnection:
        if self._ws is not None:
            return self._ws
        if self._closed or self._reconnecting is None:
            raise VolleyConnectionError(self.lost.message if self.lost else "the connection is closed", method)
        try:
            await asyncio.wait_for(self._ready.wait(), deadline)
        except asyncio.TimeoutError:
            raise VolleyError(ErrorCode.DEADLINE_EXCEEDED, "timed out waiting to reconnect", method=method) from None
        if self._ws is None:
            raise VolleyConnectionError(self.lost.message if self.lost else "the connection is closed", method)
        return self._ws

    async def _send(self, frame: list[Any]) -> None:
        ws = self._ws
        if ws is None:
            return
        try:
            await ws.send(self._codec.encode(frame))
        except ConnectionClosed:
            pass

    def _send_soon(self, frame: list[Any]) -> None:
        self._spawn(self._send(frame))

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- starting calls --

    async def _start(self, method: str, params: Mapping[str, Any], options: CallOptions) -> Call:
        """Sends a `CALL` frame; answers the call's state."""
        ws = await self._ensure_open(method, options.timeout)
        call_id = self._next_id
        self._next_id += 2
        window = options.window or DEFAULT_WINDOW
        call = Call(call_id, method, window, self._send_soon, self._forget)
        self._calls[call_id] = call
        ext: dict[str, Any] = {}
        if options.metadata:
            ext["m"] = dict(options.metadata)
        if options.timeout is not None:
            ext["t"] = max(1, int(options.timeout * 1000))
            loop = asyncio.get_running_loop()
            call.timer = loop.call_later(
                options.timeout,
                call.cancel,
                ErrorCode.DEADLINE_EXCEEDED,
                f"no answer within {options.timeout}s",
            )
        if options.window is not None:
            ext["w"] = window
        frame: list[Any] = [CALL, call_id, method, dict(params)]
        if ext:
            frame.append(ext)
        try:
            await ws.send(self._codec.encode(frame))
        except ConnectionClosed as e:
            call.finish(error=VolleyConnectionError(f"the connection was lost ({e})", method))
        return call

    def _forget(self, call_id: int) -> None:
        self._calls.pop(call_id, None)

    async def _answer(
        self,
        call: Call,
        decode: Callable[[Any], T],
        error: Callable[[VolleyError], VolleyError] | None,
    ) -> Response[T]:
        """Waits for the answer of `call`; cancelling the wait cancels the call."""
        try:
            value = await asyncio.shield(call.final)
        except asyncio.CancelledError:
            call.cancel()
            raise
        except VolleyError as e:
            typed = typed_error(e, error)
            if typed is e:
                raise
            raise typed from None
        return call.response(decode(value))

    async def call(
        self,
        method: str,
        params: Mapping[str, Any],
        options: CallOptions | None,
        decode: Callable[[Any], T],
        error: Callable[[VolleyError], VolleyError] | None = None,
    ) -> Response[T]:
        """Makes a unary call and waits for its answer."""
        call = await self._start(method, params, options or CallOptions())
        return await self._answer(call, decode, error)

    def unary(
        self,
        method: str,
        params: Mapping[str, Any],
        options: CallOptions | None,
        decode: Callable[[Any], T],
        error: Callable[[VolleyError], VolleyError] | None = None,
    ) -> UnaryCall[T]:
        """A unary call, started when awaited."""
        return UnaryCall(lambda: self.call(method, params, options, decode, error))

    # -- frames in --

    def _dispatch(self, frame: list[Any]) -> None:
        kind = frame[0]
        call_id = frame[1] if len(frame) > 1 else None
        if kind <= WARNING:
            if not isinstance(call_id, int):
                raise TypeError("the call id is not an integer")
            if call_id == 0:
                if kind == ERROR:
                    log.warning("the server reports: %s (%s) %s", code_name(int(frame[2])), frame[2], frame[3])
                elif kind == WARNING:
                    self._on_warning_frame(VolleyWarning(int(frame[2]), str(frame[3]), frame[4] if len(frame) > 4 else None))
                return
            if call_id % 2 == 1:
                call = self._calls.get(call_id)
                if call is not None:
                    call.on_frame(frame)
                # Otherwise stale: it crossed our CANCEL or the final frame (section 3).
                return
        for ext in list(self._extensions.values()):
            if ext.on_frame(frame):
                return
        if kind == CALL and isinstance(call_id, int):
            # Nothing serves calls from the server on this connection.
            method = str(frame[2]) if len(frame) > 2 else ""
            self._send_soon([ERROR, call_id, ErrorCode.UNIMPLEMENTED, f"this client does not serve {method}", {"method": method}])

    def _on_warning_frame(self, warning: VolleyWarning) -> None:
        self.warnings.append(warning)
        log.warning("the server warns: %s (%s) %s", code_name(warning.code), warning.code, warning.message)
        if warning.code == DATA_LOSS:
            dropped = warning.data.get("dropped") if isinstance(warning.data, Mapping) else None
            n = dropped if isinstance(dropped, int) and not isinstance(dropped, bool) else 1
            self.notifications_dropped += n
        for ext in list(self._extensions.values()):
            ext.on_warning(warning)
        if self._on_warning is not None:
            try:
                self._on_warning(warning)
            except Exception:
                log.exception("the on_warning callback failed")
