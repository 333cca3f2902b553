"""A deliberately raw volley client, written from PROTOCOL.md alone.

It opens a WebSocket with a chosen subprotocol, encodes and decodes frames in JSON (text
frames) and MessagePack (binary frames), sends any frame or any bytes, and reads frames
with a timeout. It keeps no call table and never answers anything by itself: the checks
decide every byte that goes out and look at every frame that comes in.

Every frame the server sends is checked against the layouts and field types of section 2
(and the message type of section 1) as it is read, so a malformed server frame fails the
check that reads it.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.parse
from typing import Any, Callable, Iterable

import msgpack
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

# Frame kinds (section 2).
CALL, RESULT, ERROR, ITEM, END, CANCEL, STOP, CREDIT, META, WARNING, NOTIFY, STATE = range(12)
KIND_NAMES = ["CALL", "RESULT", "ERROR", "ITEM", "END", "CANCEL", "STOP", "CREDIT", "META", "WARNING", "NOTIFY", "STATE"]
# Length of each kind's full layout, and the index of its first optional element.
LAYOUT_LEN = {CALL: 5, RESULT: 4, ERROR: 6, ITEM: 3, END: 3, CANCEL: 4, STOP: 2, CREDIT: 3, META: 3, WARNING: 5, NOTIFY: 3, STATE: 3}
FIRST_OPTIONAL = {CALL: 4, RESULT: 3, ERROR: 4, END: 2, CANCEL: 2, WARNING: 4}

# Error codes (section 7).
BAD_FRAME = 400
UNAUTHENTICATED = 401
PERMISSION_DENIED = 403
METHOD_NOT_FOUND = 404
DEADLINE_EXCEEDED = 408
DUPLICATE_CALL_ID = 409
UNKNOWN_CALL = 410
PROTOCOL_VIOLATION = 412
FRAME_TOO_LARGE = 413
WRONG_ENCODING = 415
INVALID_PARAMS = 422
CREDIT_EXCEEDED = 429
CANCELLED = 499
INTERNAL = 500
UNIMPLEMENTED = 501
UNAVAILABLE = 503
APPLICATION = 1000
DATA_LOSS = 299
DEPRECATED = 298

SUBPROTOCOLS = {"json": "volley.v1.json", "msgpack": "volley.v1.msgpack"}
ENCODINGS = ["json", "msgpack"]

# Bounded waits: a read that gets nothing within READ_TIMEOUT fails its check; a check
# that something does NOT arrive watches the wire for QUIET seconds.
READ_TIMEOUT = float(os.environ.get("VOLLEY_CONFORMANCE_READ_TIMEOUT", "3"))
QUIET = float(os.environ.get("VOLLEY_CONFORMANCE_QUIET", "0.15"))

MIB = 1024 * 1024
SIZE_LIMIT = MIB  # volley's default frame size limit (section 8)
HARD_LIMIT = 4 * MIB  # the WebSocket layer's hard limit (section 8): 4 x the frame limit
U32_MAX = 2**32 - 1
ID_LIMIT = 2**53


class ProtocolError(AssertionError):
    """A frame from the server broke a rule of PROTOCOL.md."""


# ---------------------------------------------------------------------------------------
# Encoding


def encode(enc: str, frame: Any) -> str | bytes:
    """One frame as the WebSocket message `enc` carries it: JSON text or MessagePack bytes."""
    if enc == "json":
        return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if enc == "msgpack":
        return msgpack.packb(frame, use_bin_type=True)
    raise ValueError(enc)


def _no_constant(name: str) -> Any:
    raise ProtocolError(f"JSON constant {name} is not JSON (RFC 8259)")


def decode(enc: str, message: str | bytes) -> Any:
    """Decodes one WebSocket message of `enc`, checking its message type (section 1)."""
    if enc == "json":
        if not isinstance(message, str):
            raise ProtocolError(f"binary message on volley.v1.json (must be text): {message[:64]!r}")
        try:
            return json.loads(message, parse_constant=_no_constant)
        except json.JSONDecodeError as e:
            raise ProtocolError(f"server sent undecodable JSON ({e}): {message[:200]!r}") from None
    if not isinstance(message, bytes):
        raise ProtocolError(f"text message on volley.v1.msgpack (must be binary): {message[:64]!r}")
    try:
        return msgpack.unpackb(message, raw=False, strict_map_key=False)
    except Exception as e:  # noqa: BLE001 - any decoding failure is the server's
        raise ProtocolError(f"server sent undecodable MessagePack ({e}): {message[:64].hex(' ')}") from None


# ---------------------------------------------------------------------------------------
# Validation of what the server sends (section 2 field types)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_str_map(v: Any, what: str, frame: Any) -> None:
    if v is None:
        return
    if not isinstance(v, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        raise ProtocolError(f"{what} must be a map from string to string, got {v!r} in {frame!r}")


def validate(frame: Any) -> None:
    """Raises ProtocolError unless `frame` is a well-formed volley frame (section 2)."""
    if not isinstance(frame, list) or not frame:
        raise ProtocolError(f"a frame is a non-empty array, got {frame!r}")
    kind = frame[0]
    if not _is_int(kind) or not 0 <= kind <= 11:
        raise ProtocolError(f"unknown frame kind from a v1 server: {frame!r}")
    name = KIND_NAMES[kind]
    need = FIRST_OPTIONAL.get(kind, LAYOUT_LEN[kind])
    if len(frame) < need:
        raise ProtocolError(f"{name} needs at least {need} elements: {frame!r}")
    if kind in (NOTIFY, STATE):
        if not isinstance(frame[1], str):
            raise ProtocolError(f"{name}'s topic/name must be a string: {frame!r}")
        if kind == STATE and not isinstance(frame[2], list):
            raise ProtocolError(f"STATE's patch must be a JSON Patch array: {frame!r}")
        return
    fid = frame[1]
    if not _is_int(fid) or not 0 <= fid < ID_LIMIT:
        raise ProtocolError(f"id must be an unsigned integer below 2^53: {frame!r}")
    at = lambda i: frame[i] if len(frame) > i else None  # noqa: E731
    if kind == CALL:
        if fid == 0 or fid % 2:
            raise ProtocolError(f"a server's CALL must have an even, non-zero id: {frame!r}")
        if not isinstance(frame[2], str):
            raise ProtocolError(f"CALL's method must be a string: {frame!r}")
        if at(3) is not None and not isinstance(at(3), (dict, list)):
            raise ProtocolError(f"CALL's params must be a map: {frame!r}")
        ext = at(4)
        if ext is not None:
            if not isinstance(ext, dict):
                raise ProtocolError(f"CALL's ext must be a map: {frame!r}")
            _check_str_map(ext.get("m"), "ext.m", frame)
            for k in ("t", "w"):
                if k in ext and ext[k] is not None and (not _is_int(ext[k]) or ext[k] < 0):
                    raise ProtocolError(f"ext.{k} must be a non-negative integer: {frame!r}")
    elif kind == RESULT:
        _check_str_map(at(3), "RESULT trailers", frame)
    elif kind == ERROR:
        if not _is_int(frame[2]) or not isinstance(frame[3], str):
            raise ProtocolError(f"ERROR needs an integer code and a string message: {frame!r}")
        _check_str_map(at(5), "ERROR trailers", frame)
    elif kind == END:
        _check_str_map(at(2), "END trailers", frame)
    elif kind == CANCEL:
        if at(2) is not None and not _is_int(at(2)):
            raise ProtocolError(f"CANCEL's code must be an integer: {frame!r}")
        if at(3) is not None and not isinstance(at(3), str):
            raise ProtocolError(f"CANCEL's message must be a string: {frame!r}")
    elif kind == CREDIT:
        if not _is_int(frame[2]) or not 1 <= frame[2] <= U32_MAX:
            raise ProtocolError(f"CREDIT's n must be a positive integer: {frame!r}")
    elif kind == META:
        _check_str_map(frame[2], "META metadata", frame)
    elif kind == WARNING:
        if not _is_int(frame[2]) or not isinstance(frame[3], str):
            raise ProtocolError(f"WARNING needs an integer code and a string message: {frame!r}")


def norm(frame: list) -> list:
    """The frame as a receiver reads it: unknown trailing elements dropped (section 2),
    and trailing optional elements that hold their default left out (null; or `{}` where
    the element is metadata/trailers or `ext`), so `[1,1,3,{}]`, `[1,1,3,null]` and
    `[1,1,3]` all read as `[1,1,3]`."""
    kind = frame[0]
    out = list(frame[: LAYOUT_LEN.get(kind, len(frame))])
    first = FIRST_OPTIONAL.get(kind)
    if first is None:
        return out
    map_default = {CALL: {4}, RESULT: {3}, ERROR: {5}, END: {2}}.get(kind, set())
    while len(out) > first and (out[-1] is None or (out[-1] == {} and len(out) - 1 in map_default)):
        out.pop()
    return out


def describe(frame: Any) -> str:
    if isinstance(frame, list) and frame and _is_int(frame[0]) and 0 <= frame[0] < len(KIND_NAMES):
        return f"{KIND_NAMES[frame[0]]} {json.dumps(frame, default=repr)[:400]}"
    return repr(frame)[:400]


# ---------------------------------------------------------------------------------------
# Raw HTTP (for the handshake refusals, /schema and /healthz)


class HttpResponse:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self) -> str:
        return f"HTTP {self.status} {self.headers} {self.body[:300]!r}"


def http_base(ws_url: str) -> tuple[str, int]:
    u = urllib.parse.urlparse(ws_url)
    assert u.hostname == "127.0.0.1", "the suite only talks to 127.0.0.1"
    return u.hostname, u.port or 80


async def http_request(ws_url: str, path: str, headers: Iterable[tuple[str, str]] = (), timeout: float = READ_TIMEOUT) -> HttpResponse:
    """Sends one raw HTTP/1.1 GET and reads the whole answer (the connection is closed by
    `Connection: close`, or after the body when the answer has a Content-Length)."""
    host, port = http_base(ws_url)

    async def go() -> HttpResponse:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
            lines += [f"{k}: {v}" for k, v in headers]
            if not any(k.lower() == "connection" for k, _ in headers):
                lines.append("Connection: close")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split()[1])
            hs = []
            for line in header_lines:
                if line:
                    k, _, v = line.partition(":")
                    hs.append((k.strip(), v.strip()))
            resp = HttpResponse(status, hs, b"")
            length = resp.header("content-length")
            if status == 101:
                return resp
            if length is not None:
                resp.body = await reader.readexactly(int(length))
            elif (resp.header("transfer-encoding") or "").lower() == "chunked":
                body = b""
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                    if size == 0:
                        break
                    body += await reader.readexactly(size)
                    await reader.readexactly(2)
                resp.body = body
            else:
                resp.body = await reader.read()
            return resp
        finally:
            writer.close()

    return await asyncio.wait_for(go(), timeout)


async def http_upgrade(ws_url: str, protocols: list[str] | None, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
    """A raw WebSocket upgrade request offering `protocols` (none when None), returning the
    HTTP answer without going on to speak WebSocket."""
    hs = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ]
    if protocols is not None:
        hs.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
    hs += list(headers)
    return await http_request(ws_url, urllib.parse.urlparse(ws_url).path or "/", hs)


# ---------------------------------------------------------------------------------------
# The connection


class Conn:
    """One WebSocket connection speaking one encoding. Ids are chosen by the checks
    (`new_id` hands out 1, 3, 5... above anything used so far)."""

    def __init__(self, ws: ClientConnection, enc: str, probe: Callable[["Conn"], Any] | None = None):
        self.ws = ws
        self.enc = enc
        self.highest = -1
        self.probe = probe
        self.received: list[Any] = []

    @classmethod
    async def open(
        cls,
        url: str,
        enc: str,
        *,
        protocols: list[str] | None = None,
        headers: Iterable[tuple[str, str]] = (),
        probe: Callable[["Conn"], Any] | None = None,
    ) -> "Conn":
        offered = protocols if protocols is not None else [SUBPROTOCOLS[enc]]
        ws = await connect(
            url,
            subprotocols=offered,  # type: ignore[arg-type]
            additional_headers=list(headers),
            compression=None,
            max_size=None,
            ping_interval=None,
            open_timeout=READ_TIMEOUT,
            close_timeout=1,
            max_queue=None,
        )
        if ws.subprotocol != SUBPROTOCOLS[enc]:
            await ws.close()
            raise ProtocolError(f"offered {offered}, server chose {ws.subprotocol!r}, expected {SUBPROTOCOLS[enc]!r}")
        return cls(ws, enc, probe)

    def new_id(self) -> int:
        """The next odd id above every id used so far."""
        n = self.highest + 1
        if n % 2 == 0:
            n += 1
        self.highest = n
        return n

    def use_id(self, n: int) -> int:
        self.highest = max(self.highest, n)
        return n

    async def send(self, frame: Any) -> None:
        """Encodes and sends one frame; a CALL's id counts as used."""
        if isinstance(frame, list) and len(frame) > 1 and frame[0] == CALL and _is_int(frame[1]) and 0 < frame[1] < ID_LIMIT:
            self.highest = max(self.highest, frame[1])
        await self.ws.send(encode(self.enc, frame))

    async def send_raw(self, data: str | bytes) -> None:
        """Sends `data` as is: a str as a text message, bytes as a binary message."""
        await self.ws.send(data)

    async def recv_message(self, timeout: float = READ_TIMEOUT) -> str | bytes:
        try:
            return await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no frame within {timeout}s (received so far: {[describe(f) for f in self.received[-8:]]})") from None

    async def recv(self, timeout: float = READ_TIMEOUT) -> list:
        """The next frame, decoded, validated and normalized (see `norm`)."""
        frame = decode(self.enc, await self.recv_message(timeout))
        validate(frame)
        frame = norm(frame)
        self.received.append(frame)
        return frame

    async def recv_n(self, n: int, timeout: float = READ_TIMEOUT) -> list[list]:
        return [await self.recv(timeout) for _ in range(n)]

    async def quiet(self, seconds: float = QUIET) -> None:
        """Asserts that nothing at all arrives for `seconds`."""
        try:
            msg = await asyncio.wait_for(self.ws.recv(), seconds)
        except asyncio.TimeoutError:
            return
        try:
            shown = describe(norm(decode(self.enc, msg)))
        except AssertionError:
            shown = repr(msg)[:200]
        raise AssertionError(f"expected silence for {seconds}s, got {shown}")

    async def until_final(self, call_id: int, timeout: float = READ_TIMEOUT) -> list[list]:
        """Reads frames of call `call_id` up to and including its final frame (RESULT,
        ERROR or END). Any frame of another id in between fails the check."""
        frames = []
        while True:
            f = await self.recv(timeout)
            if f[0] in (NOTIFY, STATE) or f[1] != call_id:
                raise AssertionError(f"while waiting for call {call_id}: unexpected {describe(f)}")
            frames.append(f)
            if f[0] in (RESULT, ERROR, END):
                return frames

    async def call(self, method: str, params: Any = None, ext: Any = None, *, timeout: float = READ_TIMEOUT) -> list[list]:
        """A unary call: sends CALL and returns its frames up to the final one."""
        cid = self.new_id()
        frame: list = [CALL, cid, method, {} if params is None else params]
        if ext is not None:
            frame.append(ext)
        await self.send(frame)
        return await self.until_final(cid, timeout)

    async def result(self, method: str, params: Any = None, ext: Any = None) -> Any:
        frames = await self.call(method, params, ext)
        last = frames[-1]
        assert last[0] == RESULT, f"{method} {params}: expected RESULT, got {[describe(f) for f in frames]}"
        return last[2]

    async def serving(self) -> None:
        """Asserts the connection still serves a normal call (section 8)."""
        assert self.probe is not None
        await self.probe(self)

    async def closed(self, timeout: float = READ_TIMEOUT) -> tuple[int | None, str | None]:
        """Waits for the connection to close, discarding frames; returns the close code and reason."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        except ConnectionClosed as e:
            rcvd = e.rcvd
            return (rcvd.code, rcvd.reason) if rcvd else (None, None)
        except TimeoutError:
            raise AssertionError(f"connection still open after {timeout}s") from None

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), 2)
        except Exception:  # noqa: BLE001
            pass


# ---------------------------------------------------------------------------------------
# Probes: one normal call per example server


async def probe_calculator(c: Conn) -> None:
    cid = c.new_id()
    await c.send([CALL, cid, "add", {"a": 1, "b": 2}])
    f = await c.recv()
    assert f == [RESULT, cid, 3], f"the connection no longer serves add(1,2): got {describe(f)}"


async def probe_streams(c: Conn) -> None:
    cid = c.new_id()
    await c.send([CALL, cid, "sleep", {"ms": 0}])
    f = await c.recv()
    assert f == [RESULT, cid, 0], f"the connection no longer serves sleep(0): got {describe(f)}"


async def probe_hooks(c: Conn) -> None:
    cid = c.new_id()
    await c.send([CALL, cid, "echo", {"text": "still here", "delay_ms": 0}])
    frames = await c.until_final(cid)
    assert frames[-1][:3] == [RESULT, cid, "still here"], f"the connection no longer serves echo: got {frames}"


async def probe_device(c: Conn) -> None:
    cid = c.new_id()
    await c.send([CALL, cid, "device.status", {}])
    f = await c.recv()
    assert f[:2] == [RESULT, cid] and "position" in f[2], f"the connection no longer serves device.status: got {describe(f)}"


async def probe_machines(c: Conn) -> None:
    cid = c.new_id()
    await c.send([CALL, cid, "volley.machine", {"machine": "light"}])
    f = await c.recv()
    assert f[:2] == [RESULT, cid] and "state" in f[2], f"the connection no longer serves volley.machine: got {describe(f)}"


PROBES = {"calculator": probe_calculator, "streams": probe_streams, "hooks": probe_hooks, "device": probe_device, "machines": probe_machines}


def server_url(name: str) -> str:
    url = os.environ.get(f"VOLLEY_{name.upper()}_URL")
    if not url:
        raise RuntimeError(f"VOLLEY_{name.upper()}_URL is not set: run the suite with tests/conformance/run.sh")
    return url


async def open_example(name: str, enc: str, **kw: Any) -> Conn:
    return await Conn.open(server_url(name), enc, probe=PROBES[name], **kw)


# ---------------------------------------------------------------------------------------
# Assertions shared by the checks


def assert_error(frame: list, call_id: int, code: int, data: Any = ..., *, what: str = "") -> None:
    """`frame` is `ERROR [2, call_id, code, <str>, data]`; `data` is compared exactly
    unless it is a callable (then it must return True) or omitted."""
    ctx = f" ({what})" if what else ""
    assert frame[0] == ERROR, f"expected ERROR {code} on id {call_id}{ctx}, got {describe(frame)}"
    assert frame[1] == call_id and frame[2] == code, f"expected ERROR {code} on id {call_id}{ctx}, got {describe(frame)}"
    assert isinstance(frame[3], str), f"ERROR message must be a string: {describe(frame)}"
    got = frame[4] if len(frame) > 4 else None
    if data is ...:
        return
    if callable(data):
        assert data(got), f"unexpected ERROR data{ctx}: {describe(frame)}"
    else:
        assert got == data, f"expected ERROR data {data!r}{ctx}, got {describe(frame)}"


def reason_data(d: Any) -> bool:
    """BAD_FRAME data: `{"reason": str}`."""
    return isinstance(d, dict) and set(d) == {"reason"} and isinstance(d["reason"], str)


def error_paths(frame: list) -> list[str]:
    """The `path`s of an INVALID_PARAMS error's data, checking its shape."""
    data = frame[4] if len(frame) > 4 else None
    assert isinstance(data, dict) and isinstance(data.get("errors"), list), f"INVALID_PARAMS data must be {{\"errors\": [...]}}: {describe(frame)}"
    for e in data["errors"]:
        assert isinstance(e, dict) and isinstance(e.get("path"), str) and isinstance(e.get("message"), str), f"each error is {{path, message}}: {describe(frame)}"
    return [e["path"] for e in data["errors"]]
