"""Section 8.1: what a peer may make the other hold. Each bound's crossing has an answer
a client can act on, and the connection goes on."""

from __future__ import annotations

import pytest

import volleyc
from volleyc import CALL, CANCEL, CREDIT, END, ITEM, META, PROTOCOL_VIOLATION, RESULT, UNAVAILABLE, Conn, assert_error, describe, error_paths

MAX_PENDING = 4096
MAX_RUNNING = 256
MAX_HELD = 8 * 1024 * 1024
MAX_WINDOW = 1024
MAX_SUBSCRIPTIONS = 65536


def retry_hint(d: object) -> bool:
    return isinstance(d, dict) and set(d) == {"retry_after_ms"} and volleyc._is_int(d["retry_after_ms"]) and d["retry_after_ms"] >= 0


def held_hint(d: object) -> bool:
    return isinstance(d, dict) and set(d) == {"limit", "retry_after_ms"} and d["limit"] == MAX_HELD and volleyc._is_int(d["retry_after_ms"])


async def test_s8_1_calls_accepted_cap_unavailable(streams: Conn) -> None:
    """4096 calls accepted (running or waiting): the next CALL is UNAVAILABLE on its id
    with data {"retry_after_ms"}; once they are cancelled the connection serves again."""
    c = streams
    ids = [c.new_id() for _ in range(MAX_PENDING)]
    for i in ids:
        await c.send([CALL, i, "sleep", {"ms": 5000}])
    extra = c.new_id()
    await c.send([CALL, extra, "sleep", {"ms": 0}])
    assert_error(await c.recv(), extra, UNAVAILABLE, retry_hint)
    for i in ids:
        await c.send([CANCEL, i])
    await c.quiet()
    await c.serving()


async def test_s8_1_held_bytes_unavailable(streams: Conn) -> None:
    """Parameters of calls not yet started count against 8 MiB: with 256 calls running,
    the waiting CALL that crosses it fails with UNAVAILABLE, data {"limit", "retry_after_ms"}."""
    c = streams
    running = [c.new_id() for _ in range(MAX_RUNNING)]
    for i in running:
        await c.send([CALL, i, "sleep", {"ms": 5000}])
    waiting = [c.new_id() for _ in range(9)]  # 9 x ~1 MB: the 9th crosses 8 MiB
    for i in waiting:
        await c.send([CALL, i, "sleep", {"ms": 0, "pad": "x" * 1_000_000}])
    assert_error(await c.recv(), waiting[-1], UNAVAILABLE, held_hint)
    await c.quiet()
    for i in waiting[:-1] + running:  # the waiting ones first, so none gets a slot
        await c.send([CANCEL, i])
    await c.quiet()
    await c.serving()


async def test_s8_1_credit_honoured_up_to_1024(streams: Conn) -> None:
    """Credit beyond 1024 items per stream is not an error; the producer does not use it."""
    c = streams
    await c.send([CALL, 1, "countdown", {"from": MAX_WINDOW + 6, "interval_ms": 0}, {"w": volleyc.U32_MAX}])
    assert await c.recv() == [META, 1, {"countdown-from": str(MAX_WINDOW + 6)}]
    assert await c.recv_n(MAX_WINDOW) == [[ITEM, 1, n] for n in range(MAX_WINDOW + 6, 6, -1)]
    await c.quiet()
    await c.send([CREDIT, 1, 6])
    assert await c.recv_n(7) == [[ITEM, 1, n] for n in range(6, 0, -1)] + [[END, 1, {"countdown-finished": "true"}]]


async def test_s8_1_client_metadata_bytes_cap(streams: Conn) -> None:
    """At most 64 KiB of client metadata per call: more is PROTOCOL_VIOLATION on the call
    (data names the CALL that brought it); 60 KB is fine."""
    c = streams
    await c.send([CALL, 1, "echo_metadata", {}, {"m": {"k": "v" * 70_000}}])
    assert_error(await c.recv(), 1, PROTOCOL_VIOLATION, {"id": 1, "frame": "CALL"})
    await c.send([CALL, 3, "echo_metadata", {}, {"m": {"k": "v" * 60_000}}])
    frames = await c.until_final(3)
    assert frames[-1][:3] == [RESULT, 3, {"k": "v" * 60_000}], [describe(f) for f in frames]
    await c.serving()


async def test_s8_1_subscriptions_cap_invalid_params(streams: Conn) -> None:
    """At most 65,536 subscriptions per connection: more is INVALID_PARAMS on the
    `volley.subscribe` call, naming its `topics` parameter."""
    c = streams
    names = [f"t{i}" for i in range(MAX_SUBSCRIPTIONS + 1)]
    await c.send([CALL, 1, "volley.subscribe", {"topics": names}])
    f = await c.recv()
    assert_error(f, 1, volleyc.INVALID_PARAMS)
    assert error_paths(f) == ["topics"], describe(f)
    await c.serving()


async def test_s8_1_subscriptions_cap_counts_the_set(streams: Conn) -> None:
    """Subscriptions are a set (section 10): at the cap, subscribing again to a name
    already subscribed adds nothing and succeeds; a new name is refused."""
    c = streams
    names = [f"t{i}" for i in range(MAX_SUBSCRIPTIONS)]
    await c.send([CALL, 1, "volley.subscribe", {"topics": names}])
    assert await c.recv() == [RESULT, 1, None]
    await c.send([CALL, 3, "volley.subscribe", {"topics": ["t5"]}])
    assert await c.recv() == [RESULT, 3, None]
    await c.send([CALL, 5, "volley.subscribe", {"topics": ["one.more"]}])
    assert_error(await c.recv(), 5, volleyc.INVALID_PARAMS)
    await c.serving()


async def test_s8_1_names_quoted_back_cut_at_128(calc: Conn) -> None:
    """Names quoted back in errors (METHOD_NOT_FOUND's `method`, `namespace` and `missing`)
    keep 128 characters, then `...`."""
    name = "m" * 300
    cut = name[:128] + "..."
    await calc.send([CALL, 1, name, {}])
    f = await calc.recv()
    assert_error(f, 1, volleyc.METHOD_NOT_FOUND, lambda d: d["method"] == cut and d["missing"] == cut and d["namespace"] == "")
    assert name[:129] not in f[3], describe(f)
    await calc.serving()
