"""Credentials and TLS, over real sockets.

- `headers=`: the hooks example's generated SDK against the running hooks server, which
  authenticates connections by an `Authorization: Bearer` header (or a `token`
  cookie) and refuses a wrong token with HTTP 401 before the upgrade.
- `ssl=`: the calculator's SDK over `wss://` to calculators serving TLS with
  certificates run.sh made for this run, signed by its own test CA (VOLLEY_TEST_CA):
  one for 127.0.0.1 and one for another host name only.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time

import pytest
from calculator_client import Client as CalculatorClient
from calculator_client import VolleyConnectionError
from conftest import server_url
from hooks_client import Backoff, ErrorCode, User, VolleyError
from hooks_client import VolleyConnectionError as HooksConnectionError
from hooks_client import Client as HooksClient


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ca_file() -> str:
    path = os.environ.get("VOLLEY_TEST_CA")
    if not path:
        raise RuntimeError("VOLLEY_TEST_CA is not set: run the suite with tests/python/run.sh")
    return path


def trusting_test_ca() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file())


# ---- headers -------------------------------------------------------------------------


async def test_an_authorization_header_authenticates_the_connection(encoding: str) -> None:
    async with HooksClient.connect(server_url("hooks"), encoding=encoding, headers=bearer("alice-token")) as alice:
        async with HooksClient.connect(server_url("hooks"), encoding=encoding, headers=bearer("bob-token")) as bob:
            assert await alice.whoami() == User(name="alice", role="admin")
            assert await bob.whoami() == User(name="bob", role="user")


async def test_without_headers_the_connection_is_anonymous() -> None:
    async with HooksClient.connect(server_url("hooks")) as anonymous:
        assert await anonymous.whoami() is None


async def test_a_cookie_header_works_too() -> None:
    async with HooksClient.connect(server_url("hooks"), headers={"Cookie": "theme=dark; token=bob-token"}) as bob:
        assert await bob.whoami() == User(name="bob", role="user")


async def test_admin_methods_need_an_admin() -> None:
    async with HooksClient.connect(server_url("hooks"), headers=bearer("alice-token")) as alice:
        assert await alice.echo(text="hi", delay_ms=0) == "hi"
        timings = await alice.admin.timings()
        assert timings["echo"].calls >= 1
    async with HooksClient.connect(server_url("hooks"), headers=bearer("bob-token")) as bob:
        with pytest.raises(VolleyError) as caught:
            await bob.admin.timings()
        assert caught.value.code == ErrorCode.PERMISSION_DENIED
        assert "bob is not an admin" in caught.value.message


async def test_a_wrong_token_is_refused_with_http_401_and_the_servers_reason() -> None:
    started = time.monotonic()
    with pytest.raises(HooksConnectionError) as caught:
        await HooksClient.connect(server_url("hooks"), headers=bearer("mallory-token"))
    err = caught.value
    assert "HTTP 401" in err.message
    assert "UNAUTHENTICATED" in err.message
    assert "unknown token" in err.message, "the body of the refusal"
    assert err.status == 401
    assert err.code == ErrorCode.UNAUTHENTICATED, "the code of the volley-error-code header"
    assert time.monotonic() - started < 5, "failed at once, not by the open timeout"


class CuttingProxy:
    """A TCP proxy in front of a server whose connections can be cut, as if the network
    dropped them."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.accepted = 0
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()


async def test_the_headers_are_sent_again_on_every_reconnect() -> None:
    port = int(server_url("hooks").rstrip("/").rsplit(":", 1)[1])
    proxy = CuttingProxy(port)
    url = await proxy.start()
    try:
        async with HooksClient.connect(url, headers=bearer("alice-token"), reconnect=Backoff(initial=0.02, maximum=0.1)) as alice:
            assert await alice.whoami() == User(name="alice", role="admin")
            proxy.cut()
            for _ in range(200):
                if proxy.accepted == 2 and alice.connection.is_open:
                    break
                await asyncio.sleep(0.02)
            assert proxy.accepted == 2, "it reconnected once"
            assert await alice.whoami() == User(name="alice", role="admin")
    finally:
        await proxy.close()


# ---- TLS -----------------------------------------------------------------------------


async def test_wss_with_the_test_ca_works(encoding: str) -> None:
    url = server_url("calculator_tls")
    assert url.startswith("wss://127.0.0.1:")
    async with CalculatorClient.connect(url, encoding=encoding, ssl=trusting_test_ca()) as client:
        assert await client.add(a=2**62, b=1) == 2**62 + 1
        assert await client.divide(a=7, b=2) == 3.5


async def test_https_urls_become_wss() -> None:
    url = server_url("calculator_tls").replace("wss://", "https://")
    async with CalculatorClient.connect(url, ssl=trusting_test_ca()) as client:
        assert await client.add(a=40, b=2) == 42


async def test_without_the_ca_the_certificate_is_refused_and_the_error_says_why() -> None:
    with pytest.raises(VolleyConnectionError) as caught:
        await CalculatorClient.connect(server_url("calculator_tls"), open_timeout=5)
    message = caught.value.message
    assert "TLS certificate was not accepted" in message
    assert "unable to get local issuer certificate" in message
    assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)


async def test_a_certificate_for_another_host_is_refused_naming_the_mismatch() -> None:
    url = server_url("calculator_other_host")
    assert url.startswith("wss://127.0.0.1:")
    with pytest.raises(VolleyConnectionError) as caught:
        await CalculatorClient.connect(url, ssl=trusting_test_ca(), open_timeout=5)
    message = caught.value.message
    assert "TLS certificate was not accepted" in message
    assert "mismatch" in message and "127.0.0.1" in message, message


async def test_ssl_is_refused_for_a_plain_ws_url() -> None:
    with pytest.raises(ValueError, match="wss://"):
        await CalculatorClient.connect(server_url("calculator"), ssl=trusting_test_ca())
