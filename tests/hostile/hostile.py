"""Tools of the hostile-client suite: a hand-made WebSocket client that reads only when
told to, a well-behaved prober on its own connection, and a watch on a server's RSS.

The servers are the ones run.sh started; it exports their URLs and PIDs:

    VOLLEY_CALCULATOR_URL / VOLLEY_CALCULATOR_PID    the calculator example
    VOLLEY_STREAMS_URL    / VOLLEY_STREAMS_PID       the streams example
    VOLLEY_CAPPED_URL     / VOLLEY_CAPPED_PID        a calculator under `ulimit -n 256`
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import msgpack
from websockets.asyncio.client import connect as async_connect
from websockets.sync.client import connect as sync_connect
from websockets.typing import Subprotocol

try:  # websockets' C helper: masking megabytes in pure Python would be the bottleneck
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover
    def apply_mask(data: bytes, mask: bytes) -> bytes:
        return bytes(b ^ mask[i % 4] for i, b in enumerate(data))

MIB = 1 << 20
KIB = 1 << 10
FRAME_LIMIT = MIB  # volley's default frame size limit
HARD_LIMIT = 64 * MIB  # the WebSocket layer's hard cap
RSS_BOUND = 64 * MIB  # what no attack may make a server grow by
PROBE_BOUND = 3.0  # seconds a well-behaved call may take during an attack

CALL, RESULT, ERROR, ITEM, END, CANCEL, STOP, CREDIT, META, WARNING, NOTIFY, STATE = range(12)
METHOD_NOT_FOUND = 404
PROTOCOL_VIOLATION = 412
INVALID_PARAMS = 422
UNAVAILABLE = 503

SUBPROTOCOLS = {"json": "volley.v1.json", "msgpack": "volley.v1.msgpack"}


@dataclass
class Target:
    """One server run.sh started."""

    name: str
    url: str
    pid: int

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        port = urllib.parse.urlsplit(self.url).port
        assert port is not None, self.url
        return port


def target(name: str) -> Target:
    upper = name.upper()
    url = os.environ.get(f"VOLLEY_{upper}_URL")
    pid = os.environ.get(f"VOLLEY_{upper}_PID")
    if not url or not pid:
        raise RuntimeError(f"VOLLEY_{upper}_URL and VOLLEY_{upper}_PID must be set: run the suite with tests/hostile/run.sh")
    # The PID must be the server's own, not a shell's around it: its RSS is what we watch.
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        program = os.path.basename(f.read().split(b"\0")[0].decode())
    expected = "calculator" if name == "capped" else name
    assert program == expected, f"VOLLEY_{upper}_PID={pid} is `{program}`, not the {expected} server"
    return Target(name, url, int(pid))


# ---------------------------------------------------------------------------------------
# Memory


def rss(pid: int) -> int:
    """The resident set size of process `pid`, in bytes (VmRSS of /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * KIB
    raise RuntimeError(f"no VmRSS for pid {pid}")


def mib(n: int) -> str:
    return f"{n / MIB:.1f} MiB"


class RssWatch:
    """Samples a server's RSS every 20 ms, from a thread of its own, while an attack
    runs; prints the figures and checks the growth.

        with RssWatch(server, "what") as w:
            ...attack...
        w.check()    # peak - before < RSS_BOUND
    """

    def __init__(self, server: Target, label: str) -> None:
        self.server = server
        self.label = label
        self.before = 0
        self.after = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> int:
        now = rss(self.server.pid)
        self.peak = max(self.peak, now)
        return now

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.sample()

    def __enter__(self) -> "RssWatch":
        self.before = rss(self.server.pid)
        self.peak = self.before
        self._thread = threading.Thread(target=self._run, name=f"rss-{self.label}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(5)
        self.after = self.sample()
        RESULTS.append(self)
        print(
            f"\n[rss] {self.label} ({self.server.name}, pid {self.server.pid}): before {mib(self.before)}, "
            f"after {mib(self.after)}, peak {mib(self.peak)}, growth {mib(self.peak - self.before)}"
        )

    @property
    def growth(self) -> int:
        return self.peak - self.before

    def check(self) -> None:
        """The peak RSS seen during the attack is less than RSS_BOUND above the RSS before it."""
        self.checked = True
        assert self.growth < RSS_BOUND, (
            f"{self.label}: the server's RSS grew by {mib(self.growth)} (before {mib(self.before)}, "
            f"peak {mib(self.peak)}, after {mib(self.after)}), bound {mib(RSS_BOUND)}"
        )

    checked = False


# Every watch of the session, for the summary conftest.py prints.
RESULTS: list[RssWatch] = []


# ---------------------------------------------------------------------------------------
# Frames


def encode(enc: str, frame: Any) -> bytes:
    if enc == "json":
        return json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
    return msgpack.packb(frame, use_bin_type=True)


def decode(enc: str, payload: bytes) -> Any:
    if enc == "json":
        return json.loads(payload)
    return msgpack.unpackb(payload, raw=False, strict_map_key=False)


OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def ws_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """One masked client-to-server WebSocket frame (RFC 6455 section 5.2)."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head.append(0x80 | n)
    elif n < 1 << 16:
        head.append(0x80 | 126)
        head += struct.pack("!H", n)
    else:
        head.append(0x80 | 127)
        head += struct.pack("!Q", n)
    mask = os.urandom(4)
    return bytes(head) + mask + apply_mask(payload, mask)


def upgrade_request(host: str, port: int, *, protocol: str | None = "volley.v1.json", version: str | None = "13",
                    key: str | None = None) -> bytes:
    """The HTTP upgrade request of RFC 6455 section 4.1, with the headers under test."""
    lines = [
        "GET / HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key if key is not None else base64.b64encode(os.urandom(16)).decode()}",
    ]
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    if protocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    raw: bytes


def parse_http_head(raw: bytes) -> HttpAnswer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    headers: dict[str, str] = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return HttpAnswer(status, headers, body, raw)


async def http_exchange(server: Target, request: bytes, timeout: float = 5.0) -> HttpAnswer:
    """Sends `request` on a fresh TCP connection and reads the answer until the head is
    complete (and, for a short body, the body), the peer closes, or `timeout`."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(server.host, server.port), timeout)
    try:
        writer.write(request)
        await writer.drain()
        raw = b""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(65536), left)
            except (asyncio.TimeoutError, ConnectionError):
                break
            if not chunk:
                break
            raw += chunk
            if b"\r\n\r\n" in raw:
                answer = parse_http_head(raw)
                length = int(answer.headers.get("content-length", "0") or 0)
                if len(answer.body) >= length:
                    break
        return parse_http_head(raw)
    finally:
        writer.transport.abort()


def _hex_addr(addr: tuple[str, int]) -> str:
    ip = socket.inet_aton(addr[0])
    return f"{struct.unpack('<I', ip)[0]:08X}:{addr[1]:04X}"


def tcp_queues(local: tuple[str, int], remote: tuple[str, int]) -> tuple[int, int] | None:
    """(rx_queue, tx_queue) of the IPv4 TCP socket local -> remote, from /proc/net/tcp."""
    want_local, want_remote = _hex_addr(local), _hex_addr(remote)
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if cols[1] == want_local and cols[2] == want_remote:
                tx, rx = cols[4].split(":")
                return int(rx, 16), int(tx, 16)
    return None


class Closed(Exception):
    """The server closed the WebSocket: `code` and `reason` of its close frame (None
    when the TCP connection ended without one)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed by the server: code {code}, reason {reason!r}")
        self.code = code
        self.reason = reason


class RawWS:
    """A WebSocket client on a raw TCP stream. It never reads a byte unless a method
    that reads is called, so it can leave the server's answers unread for as long as a
    check wants; it writes whatever frames and bytes it is given."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, enc: str) -> None:
        self.reader = reader
        self.writer = writer
        self.enc = enc
        self.opcode = OP_TEXT if enc == "json" else OP_BINARY
        self._buf = bytearray()

    @classmethod
    async def open(cls, server: Target, enc: str = "json", *, rcvbuf: int | None = None, timeout: float = 5.0) -> "RawWS":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # A small receive buffer: what the server writes and we do not read stays
            # on the server's side, in its own memory, instead of in our kernel buffer.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.sock_connect(sock, (server.host, server.port)), timeout)
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 16)
        writer.write(upgrade_request(server.host, server.port, protocol=SUBPROTOCOLS[enc]))
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        answer = parse_http_head(head)
        if answer.status != 101:
            writer.transport.abort()
            raise AssertionError(f"upgrade refused: {head!r}")
        assert answer.headers.get("sec-websocket-protocol") == SUBPROTOCOLS[enc], head
        # asyncio would otherwise keep reading into its own buffer (up to 2 x limit):
        # reading happens only inside the receiving methods.
        writer.transport.pause_reading()  # type: ignore[attr-defined]
        return cls(reader, writer, enc)

    # -- writing

    def send(self, frame: Any) -> None:
        """Queues one volley frame (no waiting: call `drain`)."""
        self.writer.write(ws_frame(self.opcode, encode(self.enc, frame)))

    def send_message(self, payload: bytes, opcode: int | None = None, fin: bool = True) -> None:
        self.writer.write(ws_frame(self.opcode if opcode is None else opcode, payload, fin))

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    async def drain(self, timeout: float) -> bool:
        """Waits until what was queued is written; False if it is still not after
        `timeout` (the server stopped reading)."""
        try:
            await asyncio.wait_for(self.writer.drain(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def buffered(self) -> int:
        """Bytes queued in our own transport, not yet taken by the kernel."""
        return self.writer.transport.get_write_buffer_size()

    # -- reading

    async def _fill(self, n: int, deadline: float) -> None:
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError
            chunk = await asyncio.wait_for(self.reader.read(1 << 18), left)
            if not chunk:
                raise asyncio.IncompleteReadError(bytes(self._buf), n)
            self._buf += chunk

    async def _frame(self, deadline: float) -> tuple[bool, int, bytes]:
        await self._fill(2, deadline)
        b0, b1 = self._buf[0], self._buf[1]
        n, at = b1 & 0x7F, 2
        if n == 126:
            await self._fill(4, deadline)
            (n,) = struct.unpack_from("!H", self._buf, 2)
            at = 4
        elif n == 127:
            await self._fill(10, deadline)
            (n,) = struct.unpack_from("!Q", self._buf, 2)
            at = 10
        await self._fill(at + n, deadline)
        payload = bytes(self._buf[at:at + n])
        del self._buf[:at + n]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    async def recv_message(self, timeout: float) -> tuple[int, bytes]:
        """The next data or close message (answering pings), reassembling fragments."""
        deadline = time.monotonic() + timeout
        parts: list[bytes] = []
        first_op = None
        while True:
            fin, op, payload = await self._frame(deadline)
            if op == OP_PING:
                self.writer.write(ws_frame(OP_PONG, payload))
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                return op, payload
            if first_op is None:
                first_op = op
            parts.append(payload)
            if fin:
                return first_op, b"".join(parts)

    async def recv(self, timeout: float = 5.0) -> Any:
        """The next volley frame; raises Closed on a close frame or EOF."""
        transport: Any = self.writer.transport
        try:
            if not transport.is_closing():
                transport.resume_reading()
            op, payload = await self.recv_message(timeout)
        except (asyncio.IncompleteReadError, ConnectionError):
            raise Closed(None, "connection ended without a close frame") from None
        finally:
            if not transport.is_closing() and transport.is_reading():
                transport.pause_reading()
        if op == OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            raise Closed(code, payload[2:].decode("utf-8", "replace"))
        return decode(self.enc, payload)

    async def recv_until_quiet(self, quiet: float, limit: float) -> list[Any]:
        """Every frame that arrives until none came for `quiet` seconds (at most `limit`)."""
        frames: list[Any] = []
        end = time.monotonic() + limit
        while time.monotonic() < end:
            try:
                frames.append(await self.recv(min(quiet, max(end - time.monotonic(), 0.01))))
            except asyncio.TimeoutError:
                break
        return frames

    async def recv_for(self, call_id: int, timeout: float = 5.0) -> Any:
        """The next frame for `call_id`, skipping frames of other calls."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.recv(max(deadline - time.monotonic(), 0.01))
            if isinstance(frame, list) and len(frame) > 1 and frame[1] == call_id and frame[0] not in (NOTIFY, STATE):
                return frame

    async def recv_final(self, call_id: int, timeout: float = 5.0) -> Any:
        """The final frame (RESULT, ERROR or END) of `call_id`."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.recv_for(call_id, max(deadline - time.monotonic(), 0.01))
            if frame[0] in (RESULT, ERROR, END):
                return frame

    def abort(self) -> None:
        """Drops the TCP connection at once (no close handshake)."""
        self.writer.transport.abort()

    def server_side_queues(self) -> tuple[int, int] | None:
        """(receive queue, send queue) in bytes of the server's end of this TCP
        connection, from /proc/net/tcp: how much we sent that the server has not read,
        and how much it wrote that we have not taken."""
        local = self.writer.get_extra_info("sockname")
        peer = self.writer.get_extra_info("peername")
        return tcp_queues(peer, local)


# ---------------------------------------------------------------------------------------
# The well-behaved client


@dataclass
class Probe:
    started: float  # seconds since the prober started
    latency: float | None  # None: no good answer within the bound
    answer: Any


def ws_connect(server: Target, timeout: float) -> Any:
    """A well-behaved client: websockets' own (sync) client, JSON, no compression."""
    return sync_connect(server.url, subprotocols=[Subprotocol(SUBPROTOCOLS["json"])], compression=None, proxy=None,
                        open_timeout=timeout, close_timeout=1, ping_interval=None, max_size=None)


async def ws_connect_async(server: Target, timeout: float) -> Any:
    """The same client, websockets' asyncio flavour. (Its sync client mishandles an HTTP
    answer that arrives before it has sent its request, as the server's 503 over the
    connection cap does: it fails with an AssertionError or ConnectionClosedError
    instead of reporting the 503. The asyncio client reports the status.)"""
    return await async_connect(server.url, subprotocols=[Subprotocol(SUBPROTOCOLS["json"])], compression=None, proxy=None,
                               open_timeout=timeout, close_timeout=1, ping_interval=None, max_size=None)


class Prober:
    """A well-behaved client on another connection, in a thread of its own (so the
    attacker's event loop cannot delay it): calls `method(params)` every `every`
    seconds, each call bounded by `bound` seconds, and records what it saw. With
    `fresh`, every probe opens its own connection (the accept path is under test);
    otherwise one connection serves them all.

    `Prober.for_server` picks the cheap call of each example: `add(1, 2)` = 3 on the
    calculators, `sleep(ms=1)` = 1 on streams (which has no `add`).
    """

    def __init__(self, server: Target, method: str, params: dict[str, Any], expect: Any, *, bound: float = PROBE_BOUND,
                 every: float = 0.25, fresh: bool = False) -> None:
        self.server = server
        self.method = method
        self.params = params
        self.expect = expect
        self.bound = bound
        self.every = every
        self.fresh = fresh
        self.probes: list[Probe] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self._next_id = 1
        self._t0 = time.monotonic()

    @classmethod
    def for_server(cls, server: Target, **kw: Any) -> "Prober":
        if server.name == "streams":
            return cls(server, "sleep", {"ms": 1}, 1, **kw)
        return cls(server, "add", {"a": 1, "b": 2}, 3, **kw)

    def call_once(self) -> Probe:
        t = time.monotonic()
        started = t - self._t0
        try:
            answer = self._call(t + self.bound)
        except TimeoutError:
            return Probe(started, None, f"no answer within {self.bound} s")
        except Exception as e:  # noqa: BLE001 - recorded as the observation
            if self._conn is not None:
                self._drop()
            return Probe(started, None, f"{type(e).__name__}: {e}")
        latency = time.monotonic() - t
        if latency > self.bound:
            return Probe(started, None, f"answered after {latency:.2f} s, above the bound of {self.bound} s: {answer}")
        return Probe(started, latency, answer)

    def _drop(self) -> None:
        try:
            self._conn.socket.close()
        except Exception:  # noqa: BLE001
            pass
        self._conn = None

    def _call(self, deadline: float) -> Any:
        if self.fresh:
            ws = ws_connect(self.server, max(deadline - time.monotonic(), 0.01))
            try:
                return self._roundtrip(ws, 1, deadline)
            finally:
                ws.socket.close()
        if self._conn is None:
            self._conn = ws_connect(self.server, max(deadline - time.monotonic(), 0.01))
        self._next_id += 2
        return self._roundtrip(self._conn, self._next_id, deadline)

    def _roundtrip(self, ws: Any, call_id: int, deadline: float) -> Any:
        ws.send(json.dumps([CALL, call_id, self.method, self.params]))
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            frame = json.loads(ws.recv(timeout=left))
            if frame[1] == call_id and frame[0] in (RESULT, ERROR):
                return frame

    def _run(self) -> None:
        while not self._stop.is_set():
            self.probes.append(self.call_once())
            self._stop.wait(self.every)

    def __enter__(self) -> "Prober":
        self._t0 = time.monotonic()
        if not self.fresh:
            self._conn = ws_connect(self.server, self.bound)
        self._thread = threading.Thread(target=self._run, name=f"probe-{self.server.name}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(self.bound + 5)
        if self._conn is not None:
            self._drop()
        ok = [p for p in self.probes if self._good(p)]
        worst = max((p.latency for p in ok if p.latency is not None), default=None)
        print(f"[probe] {self.method}({self.params}) on {self.server.name}{' (fresh connections)' if self.fresh else ''}: "
              f"{len(ok)}/{len(self.probes)} answered correctly within {self.bound} s, "
              f"worst {'-' if worst is None else f'{worst:.3f} s'}")

    def _good(self, p: Probe) -> bool:
        return p.latency is not None and isinstance(p.answer, list) and p.answer == [RESULT, p.answer[1], self.expect]

    def check(self, min_probes: int = 1) -> None:
        """Every probe was answered correctly within the bound, and there were some."""
        bad = [p for p in self.probes if not self._good(p)]
        assert not bad, (
            f"the well-behaved client was not served: {len(bad)} of {len(self.probes)} probes failed, first ones "
            f"(seconds into the attack, what happened): {[(round(p.started, 2), p.answer) for p in bad[:5]]}"
        )
        assert len(self.probes) >= min_probes, f"only {len(self.probes)} probes ran during the attack"


def served_now(server: Target, bound: float = PROBE_BOUND) -> None:
    """Right after an attack: a fresh well-behaved client is answered within `bound`."""
    p = Prober.for_server(server, bound=bound, fresh=True)
    probe = p.call_once()
    assert p._good(probe), f"a fresh client right after the attack was not served: {probe.answer}"


# ---------------------------------------------------------------------------------------
# Bare TCP sockets


def open_files_limit(pid: int) -> int:
    """The soft limit on open files of process `pid` (/proc/PID/limits)."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise RuntimeError(f"no open-file limit for pid {pid}")


def connection_cap(pid: int) -> int:
    """The server's connection cap: 10,000, or its open-file soft limit minus 64."""
    return min(10_000, open_files_limit(pid) - 64)


async def open_sockets(server: Target, n: int, batch: int = 64) -> list[tuple[socket.socket, float]]:
    """`n` TCP connections to `server` that send nothing, with when each was opened.
    Opened a batch at a time: the server's listen backlog is 128."""
    loop = asyncio.get_running_loop()
    out: list[tuple[socket.socket, float]] = []
    for start in range(0, n, batch):
        chunk = []
        for _ in range(min(batch, n - start)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            chunk.append(s)
        await asyncio.gather(*(asyncio.wait_for(loop.sock_connect(s, (server.host, server.port)), 10) for s in chunk))
        now = time.monotonic()
        out += [(s, now) for s in chunk]
    return out


def socket_state(s: socket.socket) -> str:
    """'open' while the server keeps the connection; 'eof' or 'reset' once it closed it;
    'data:...' if it sent something (read, and kept for the caller)."""
    try:
        data = s.recv(65536)
    except BlockingIOError:
        return "open"
    except ConnectionResetError:
        return "reset"
    except OSError as e:
        return f"error:{e.errno}"
    return "eof" if not data else "data:" + data.decode("latin-1")


def parse_ws_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each complete unmasked server frame in `data`."""
    out = []
    at = 0
    while len(data) - at >= 2:
        b0, b1 = data[at], data[at + 1]
        n, head = b1 & 0x7F, 2
        if n == 126:
            if len(data) - at < 4:
                break
            (n,) = struct.unpack_from("!H", data, at + 2)
            head = 4
        elif n == 127:
            if len(data) - at < 10:
                break
            (n,) = struct.unpack_from("!Q", data, at + 2)
            head = 10
        if len(data) - at < head + n:
            break
        out.append((b0 & 0x0F, data[at + head:at + head + n]))
        at += head + n
    return out


@dataclass
class Blast:
    """What `blast` saw: how much of the message went out, what came back."""

    sent: int
    send_error: str | None
    received: bytes
    read_error: str | None
    frames: list[tuple[int, bytes]]

    @property
    def close_code(self) -> int | None:
        for op, payload in self.frames:
            if op == OP_CLOSE and len(payload) >= 2:
                return struct.unpack("!H", payload[:2])[0]
        return None


def blast(server: Target, pieces: list[bytes], enc: str = "json", read_for: float = 15.0) -> Blast:
    """Opens a WebSocket on a blocking socket, then writes `pieces` (raw WebSocket
    frames) while a second thread reads everything the server sends, so its close
    frame is seen even if the server resets the connection while we still write."""
    sock = socket.create_connection((server.host, server.port), timeout=5)
    sock.sendall(upgrade_request(server.host, server.port, protocol=SUBPROTOCOLS[enc]))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"no upgrade: {head!r}")
        head += chunk
    head, _, rest = head.partition(b"\r\n\r\n")
    assert parse_http_head(head + b"\r\n\r\n").status == 101, head
    received = bytearray(rest)
    read_error: list[str] = []

    def read() -> None:
        sock.settimeout(read_for)
        try:
            while True:
                chunk = sock.recv(1 << 16)
                if not chunk:
                    return
                received.extend(chunk)
                if any(op == OP_CLOSE for op, _ in parse_ws_frames(bytes(received))):
                    return
        except OSError as e:
            read_error.append(f"{type(e).__name__}: {e}")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent, send_error = 0, None
    try:
        for p in pieces:
            sock.sendall(p)
            sent += len(p)
    except OSError as e:
        send_error = f"{type(e).__name__}: {e}"
    reader.join(read_for + 1)
    sock.close()
    data = bytes(received)
    return Blast(sent, send_error, data, read_error[0] if read_error else None, parse_ws_frames(data))
