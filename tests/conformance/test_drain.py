"""Draining (sections 1 and 5): a server shutting down on SIGINT/SIGTERM answers
`GET /healthz` with 503, refuses new upgrades with HTTP 503 and `Retry-After`, lets
in-flight calls finish, and then closes open WebSockets with close code 1001.

Each check starts its own streams server (VOLLEY_STREAMS_BIN, set by run.sh) and
signals that process, and only that one."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from typing import AsyncIterator

import pytest

import volleyc
from volleyc import CALL, RESULT, UNAVAILABLE, Conn, assert_error, http_request, http_upgrade

SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, proc: asyncio.subprocess.Process, url: str):
        self.proc = proc
        self.url = url


@pytest.fixture
async def own_server() -> AsyncIterator[Server]:
    binary = os.environ.get("VOLLEY_STREAMS_BIN")
    if not binary:
        raise RuntimeError("VOLLEY_STREAMS_BIN is not set: run the suite with tests/conformance/run.sh")
    port = free_port()
    log = open(f"/tmp/volley-conformance-drain-{port}.log", "wb")
    proc = await asyncio.create_subprocess_exec(binary, "--addr", f"127.0.0.1:{port}", stdout=log, stderr=log)
    url = f"ws://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if (await http_request(url, "/healthz", timeout=1)).status == 200:
                    break
            except OSError:
                pass
            assert proc.returncode is None, "the streams server exited"
            assert time.monotonic() < deadline, "the streams server did not start"
            await asyncio.sleep(0.05)
        yield Server(proc, url)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        log.close()


LONG = 1  # the id of the long `sleep(1500)` in flight while the server drains


async def start_long_call(server: Server, enc: str) -> Conn:
    c = await Conn.open(server.url, enc, probe=volleyc.probe_streams)
    await c.send([CALL, LONG, "sleep", {"ms": 1500}])
    await asyncio.sleep(0.1)
    return c


async def healthz_status(url: str) -> int | str:
    try:
        return (await http_request(url, "/healthz", timeout=1)).status
    except (OSError, asyncio.TimeoutError) as e:
        return f"no answer ({type(e).__name__})"


@pytest.mark.parametrize("sig", list(SIGNALS))
async def test_s1_drain_healthz_503_upgrade_503_then_close_1001(enc: str, own_server: Server, sig: str) -> None:
    c = await start_long_call(own_server, enc)
    try:
        own_server.proc.send_signal(SIGNALS[sig])
        status: int | str = "not polled"
        for _ in range(20):
            status = await healthz_status(own_server.url)
            if status == 503:
                break
            await asyncio.sleep(0.05)
        assert status == 503, f"GET /healthz while draining after {sig}: {status}"
        r = await http_upgrade(own_server.url, [volleyc.SUBPROTOCOLS[enc]])
        assert r.status == 503, f"a new upgrade while draining: {r}"
        retry = r.header("retry-after")
        assert retry is not None and retry.strip().isdigit(), f"503 without Retry-After in seconds: {r}"
        assert r.header("volley-error-code") == "503", f"refusal without volley-error-code 503: {r}"
        assert r.body.decode().startswith("volley: "), f"refusal body is not `volley: <message>`: {r}"
        assert await c.recv(3) == [RESULT, LONG, 1500], "the in-flight call finishes"
        code, _ = await c.closed(3)
        assert code == 1001, f"close code {code} when the drain ended"
    finally:
        await c.close()


@pytest.mark.parametrize("sig", list(SIGNALS))
async def test_s5_call_while_draining_unavailable(enc: str, own_server: Server, sig: str) -> None:
    """A callee that will not take more calls (shutting down) answers CALL with
    ERROR UNAVAILABLE; the in-flight call still finishes."""
    c = await start_long_call(own_server, enc)
    try:
        own_server.proc.send_signal(SIGNALS[sig])
        await asyncio.sleep(0.2)
        await c.send([CALL, 3, "sleep", {"ms": 0}])
        assert_error(await c.recv(2), 3, UNAVAILABLE)
        assert await c.recv(3) == [RESULT, LONG, 1500]
    finally:
        await c.close()
