"""Opening the WebSocket (PROTOCOL.md section 1): the URL, the subprotocol, headers
and TLS on the upgrade, heartbeats, and what a refused upgrade means."""

from __future__ import annotations

import asyncio
from ssl import SSLCertVerificationError, SSLContext
from typing import Any, Mapping

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.typing import Subprotocol

from .errors import ErrorCode, VolleyConnectionError, code_name

__all__ = ["HEARTBEAT_INTERVAL", "HEARTBEAT_TIMEOUT", "MAX_MESSAGE", "open_websocket", "refused", "ws_url"]

# Seconds between pings, and how long past one a silent server is given (PROTOCOL.md
# section 1: a volley server does the same).
HEARTBEAT_INTERVAL = 20.0
HEARTBEAT_TIMEOUT = 20.0

#: The largest message accepted from the server, in bytes.
MAX_MESSAGE = 64 * 1024 * 1024

# OpenSSL's verify codes of a certificate whose issuer is not trusted: depth zero self
# signed, self signed in the chain, unable to get the local issuer, unable to verify the
# leaf's signature.
_UNKNOWN_ISSUER = (18, 19, 20, 21)


def ws_url(url: str) -> str:
    """`url` with `http://` and `https://` as `ws://` and `wss://`."""
    if url.startswith("http://"):
        return "ws://" + url[len("http://"):]
    if url.startswith("https://"):
        return "wss://" + url[len("https://"):]
    return url


async def open_websocket(
    url: str,
    subprotocol: str,
    *,
    headers: Mapping[str, str] | None = None,
    ssl: SSLContext | None = None,
    open_timeout: float = 10.0,
) -> ClientConnection:
    """Opens a WebSocket to `url` (`ws://` or `wss://`) speaking `subprotocol`.

    Raises:
        VolleyConnectionError: The server cannot be reached, refused the upgrade (with
            its `status` and code), did not accept the subprotocol, or its TLS
            certificate was not accepted.
    """
    wanted = Subprotocol(subprotocol)
    tls: dict[str, Any] = {} if ssl is None else {"ssl": ssl}
    try:
        ws = await ws_connect(
            url,
            **tls,
            additional_headers=dict(headers) if headers else None,
            subprotocols=[wanted],
            max_size=MAX_MESSAGE,
            open_timeout=open_timeout,
            compression=None,
            # Heartbeats, as the server does them: ping every 20 s and take the
            # connection for lost (and reconnect, if set to) when no pong comes
            # within 20 s more.
            ping_interval=HEARTBEAT_INTERVAL,
            ping_timeout=HEARTBEAT_TIMEOUT,
        )
    except InvalidStatus as e:
        raise refused(url, e) from e
    except SSLCertVerificationError as e:
        message = f"cannot connect to {url}: the server's TLS certificate was not accepted: {e.verify_message or e}"
        if e.verify_code in _UNKNOWN_ISSUER:
            message += " (to trust a private CA, pass ssl=ssl.create_default_context(cafile=...))"
        raise VolleyConnectionError(message) from e
    except (OSError, WebSocketException, asyncio.TimeoutError) as e:
        raise VolleyConnectionError(f"cannot connect to {url}: {e}") from e
    if ws.subprotocol != wanted:
        await ws.close()
        raise VolleyConnectionError(f"the server at {url} did not accept {subprotocol}")
    return ws


def refused(url: str, e: InvalidStatus) -> VolleyConnectionError:
    """The error of a refusal before the upgrade (PROTOCOL.md section 1): an HTTP
    status, a `volley-error-code` header and a plain-text body that says why."""
    response = e.response
    status = response.status_code
    text = (response.body or b"")[:4096].decode("utf-8", errors="replace").strip()
    code: int = ErrorCode.UNAVAILABLE
    named = ""
    header = response.headers.get("volley-error-code")
    if header is not None and header.strip().isdigit() and int(header) > 0:
        code = int(header)
        named = f" ({code_name(code)})"
    reason = f" {response.reason_phrase}" if response.reason_phrase else ""
    message = f"cannot connect to {url}: the server refused the WebSocket upgrade with HTTP {status}{reason}{named}"
    if text:
        message += f": {text}"
    return VolleyConnectionError(message, code=code, status=status)
