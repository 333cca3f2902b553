"""Section 1: transport and handshake."""

from __future__ import annotations

import pytest

import volleyc
from volleyc import CALL, RESULT, SUBPROTOCOLS, Conn, http_request, http_upgrade, server_url


async def test_s1_subprotocol_echoed_and_frame_type(enc: str) -> None:
    """The server echoes the one subprotocol offered; JSON rides in text frames and
    MessagePack in binary frames, both ways."""
    c = await Conn.open(server_url("calculator"), enc, protocols=[SUBPROTOCOLS[enc]])
    try:
        assert c.ws.subprotocol == SUBPROTOCOLS[enc]
        await c.send([CALL, 1, "add", {"a": 1, "b": 2}])
        msg = await c.recv_message()
        assert isinstance(msg, str if enc == "json" else bytes), f"{enc} answer came as {type(msg).__name__}"
        assert volleyc.norm(volleyc.decode(enc, msg)) == [RESULT, 1, 3]
    finally:
        await c.close()


@pytest.mark.parametrize(
    "offered,chosen",
    [
        (["volley.v1.json", "volley.v1.msgpack"], "json"),
        (["volley.v1.msgpack", "volley.v1.json"], "msgpack"),
        (["graphql-ws", "volley.v1.msgpack", "volley.v1.json"], "msgpack"),
        (["volley.v2.json", "volley.v1.json"], "json"),
    ],
    ids=["json-first", "msgpack-first", "unknown-then-msgpack", "v2-then-json"],
)
async def test_s1_server_picks_first_supported_subprotocol(offered: list[str], chosen: str) -> None:
    c = await Conn.open(server_url("calculator"), chosen, protocols=offered)
    try:
        assert c.ws.subprotocol == SUBPROTOCOLS[chosen]
        await volleyc.probe_calculator(c)
    finally:
        await c.close()


@pytest.mark.parametrize("offered", [None, ["graphql-ws"], ["volley.v2.json", "volley.v1"]], ids=["none", "other", "wrong-versions"])
async def test_s1_handshake_without_volley_subprotocol_refused_400(offered: list[str] | None) -> None:
    """Refused with HTTP 400 and a plain-text body naming the supported subprotocols; no
    WebSocket is opened."""
    r = await http_upgrade(server_url("calculator"), offered)
    assert r.status == 400, r
    assert (r.header("content-type") or "").startswith("text/plain"), r
    body = r.body.decode()
    assert "volley.v1.json" in body and "volley.v1.msgpack" in body, r
    assert r.header("sec-websocket-accept") is None, r


async def test_s1_handshake_accepted_101() -> None:
    r = await http_upgrade(server_url("calculator"), ["volley.v1.json"])
    assert r.status == 101, r
    assert r.header("sec-websocket-protocol") == "volley.v1.json", r


@pytest.mark.parametrize(
    "headers",
    [[("Authorization", "Bearer nobody-token")], [("Authorization", "nobody-token")], [("Cookie", "a=b; token=nobody-token")]],
    ids=["bearer", "bare-authorization", "cookie"],
)
async def test_s1_refusal_before_upgrade_401(headers: list[tuple[str, str]]) -> None:
    """A connection the server refuses for its own reasons (the hooks example: an unknown
    token) gets HTTP 401 (UNAUTHENTICATED), a plain-text body `volley: <message>` and a
    `volley-error-code` header; no WebSocket is opened."""
    r = await http_upgrade(server_url("hooks"), ["volley.v1.json"], headers)
    assert r.status == 401, r
    assert (r.header("content-type") or "").startswith("text/plain"), r
    body = r.body.decode()
    assert body.startswith("volley: ") and body.removesuffix("\n").strip() != "volley:" and "\n" not in body.removesuffix("\n"), r
    assert r.header("volley-error-code") == "401", r
    assert r.header("sec-websocket-accept") is None, r


@pytest.mark.parametrize(
    "headers,user",
    [
        ([("Authorization", "Bearer bob-token")], {"name": "bob", "role": "user"}),
        ([("Cookie", "theme=dark; token=alice-token")], {"name": "alice", "role": "admin"}),
        ([], None),
    ],
    ids=["authorization", "cookie", "anonymous"],
)
async def test_s1_credentials_on_upgrade_request(enc: str, headers: list[tuple[str, str]], user: object) -> None:
    """Credentials travel on the upgrade request's HTTP headers (the hooks example reads a
    bearer token or a `token` cookie)."""
    c = await volleyc.open_example("hooks", enc, headers=headers)
    try:
        assert await c.result("whoami") == user
    finally:
        await c.close()


async def test_s1_healthz_ok() -> None:
    r = await http_request(server_url("calculator"), "/healthz")
    assert r.status == 200, r
    assert (r.header("content-type") or "").startswith("text/plain"), r
    # The body is `ok`; a single line end after it is accepted (plain text).
    assert r.body in (b"ok", b"ok\n"), r


def _upgrade_headers(version: str, key: str) -> list[tuple[str, str]]:
    return [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", version),
        ("Sec-WebSocket-Protocol", "volley.v1.json"),
    ]


@pytest.mark.parametrize("version", ["8", "12", "14", "thirteen"])
async def test_s1_upgrade_version_not_13_426(version: str) -> None:
    """`Sec-WebSocket-Version` MUST be 13: otherwise 426 with `Sec-WebSocket-Version: 13`."""
    r = await http_request(server_url("calculator"), "/", _upgrade_headers(version, "dGhlIHNhbXBsZSBub25jZQ=="))
    assert r.status == 426, r
    assert r.header("sec-websocket-version") == "13", r
    assert r.header("sec-websocket-accept") is None, r


@pytest.mark.parametrize("key", ["short", "dGhlIHNhbXBsZSBub25j", "!!!!!!!!!!!!!!!!!!!!!!!!", ""], ids=["short", "15-bytes", "not-base64", "empty"])
async def test_s1_upgrade_bad_key_400(key: str) -> None:
    """`Sec-WebSocket-Key` MUST be a 16-byte nonce in base64: otherwise 400."""
    r = await http_request(server_url("calculator"), "/", _upgrade_headers("13", key))
    assert r.status == 400, r
    assert r.header("sec-websocket-accept") is None, r
