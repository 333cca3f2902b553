"""Section 4: streams and credit-based flow control, with its worked examples."""

from __future__ import annotations

import pytest

import volleyc
from volleyc import BAD_FRAME, CALL, CREDIT, CREDIT_EXCEEDED, END, ITEM, META, RESULT, U32_MAX, Conn, assert_error, describe, reason_data


async def test_s4_server_stream_table(streams: Conn) -> None:
    """The first table: caller grants 2 and replenishes as it reads. (The table's
    `{"n":4}` is the example's `{"from":4,"interval_ms":0}`; countdown also sends its
    leading metadata, which needs no credit.)"""
    c = streams
    await c.send([CALL, 5, "countdown", {"from": 4, "interval_ms": 0}, {"w": 2}])
    assert await c.recv() == [META, 5, {"countdown-from": "4"}]
    assert await c.recv() == [ITEM, 5, 4]
    assert await c.recv() == [ITEM, 5, 3]
    await c.quiet()  # S waits: no credit left
    await c.send([CREDIT, 5, 1])
    assert await c.recv() == [ITEM, 5, 2]
    await c.quiet()
    await c.send([CREDIT, 5, 2])
    assert await c.recv() == [ITEM, 5, 1]
    assert await c.recv() == [END, 5, {"countdown-finished": "true"}]
    await c.quiet()
    await c.serving()


async def test_s4_client_stream_table(streams: Conn) -> None:
    """The second table: the callee grants credit first (32, its window), then the caller
    streams within it."""
    c = streams
    await c.send([CALL, 7, "sum", {}])
    assert await c.recv() == [CREDIT, 7, 32]
    await c.send([ITEM, 7, 10])
    await c.send([ITEM, 7, 20])
    await c.send([END, 7])
    f = await c.recv()
    assert f[:3] == [RESULT, 7, 30] and isinstance(f[2], (int, float)), f
    await c.quiet()


async def test_s4_bidi_table(streams: Conn) -> None:
    """The third table, on the example's bidi method (`chat` for the table's `echo`):
    both counters run independently."""
    c = streams
    await c.send([CALL, 9, "chat", {}, {"w": 8}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 9 and f[2] >= 1, f
    await c.send([ITEM, 9, {"from": "ann", "text": "hi"}])
    assert await c.recv() == [ITEM, 9, {"from": "echo", "text": "ann: HI"}]
    await c.send([END, 9])
    assert await c.recv() == [END, 9]
    await c.quiet()


async def test_s4_bidi_server_window_independent(streams: Conn) -> None:
    """With `w = 1` the callee sends one reply and waits, while the caller goes on
    sending within the callee's own credit."""
    c = streams
    await c.send([CALL, 1, "chat", {}, {"w": 1}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1 and f[2] >= 3, f
    for t in ("a", "b", "c"):
        await c.send([ITEM, 1, {"from": "x", "text": t}])
    assert await c.recv() == [ITEM, 1, {"from": "echo", "text": "x: A"}]
    await c.quiet()
    await c.send([CREDIT, 1, 2])
    assert await c.recv_n(2) == [[ITEM, 1, {"from": "echo", "text": "x: B"}], [ITEM, 1, {"from": "echo", "text": "x: C"}]]
    await c.send([END, 1])
    assert await c.recv() == [END, 1]


async def test_s4_default_window_32(streams: Conn) -> None:
    """Without `ext.w` the callee starts with 32 credits."""
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 40, "interval_ms": 0}])
    assert await c.recv() == [META, 1, {"countdown-from": "40"}]
    assert await c.recv_n(32) == [[ITEM, 1, n] for n in range(40, 8, -1)]
    await c.quiet()
    await c.send([CREDIT, 1, 8])
    assert await c.recv_n(9) == [[ITEM, 1, n] for n in range(8, 0, -1)] + [[END, 1, {"countdown-finished": "true"}]]
    await c.quiet()


async def test_s4_end_needs_no_credit(streams: Conn) -> None:
    """A handler that finishes while the caller's credit is 0 sends END at once: exactly
    as much credit as items, then END with no extra CREDIT."""
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 3, "interval_ms": 0}, {"w": 3}])
    frames = await c.until_final(1)
    assert frames == [[META, 1, {"countdown-from": "3"}], [ITEM, 1, 3], [ITEM, 1, 2], [ITEM, 1, 1], [END, 1, {"countdown-finished": "true"}]], frames


async def test_s4_end_needs_no_credit_after_replenish(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 2, "interval_ms": 0}, {"w": 1}])
    assert await c.recv_n(2) == [[META, 1, {"countdown-from": "2"}], [ITEM, 1, 2]]
    await c.send([CREDIT, 1, 1])
    assert await c.recv_n(2) == [[ITEM, 1, 1], [END, 1, {"countdown-finished": "true"}]]


async def test_s4_error_needs_no_credit(streams: Conn) -> None:
    """ERROR needs no credit: a stream stuck without credit still fails on its deadline."""
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 5, "interval_ms": 0}, {"w": 1, "t": 300}])
    assert await c.recv_n(2) == [[META, 1, {"countdown-from": "5"}], [ITEM, 1, 5]]
    assert_error(await c.recv(), 1, volleyc.DEADLINE_EXCEEDED)
    await c.serving()


async def test_s4_w_zero_waits_for_first_credit(streams: Conn) -> None:
    """`ext.w = 0`: the callee starts with no credit and waits for the first CREDIT."""
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 2, "interval_ms": 0}, {"w": 0}])
    first: list = []
    # Leading metadata needs no credit and may come before the first CREDIT; no ITEM may.
    try:
        f = await c.recv(volleyc.QUIET * 2)
        assert f == [META, 1, {"countdown-from": "2"}], describe(f)
        first.append(f)
    except AssertionError as e:
        if "no frame within" not in str(e):
            raise
    await c.quiet()
    await c.send([CREDIT, 1, 5])
    rest = await c.until_final(1)
    frames = first + rest
    assert frames == [[META, 1, {"countdown-from": "2"}], [ITEM, 1, 2], [ITEM, 1, 1], [END, 1, {"countdown-finished": "true"}]], frames


async def test_s4_w_max_u32_allowed(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 2, "interval_ms": 0}, {"w": U32_MAX}])
    frames = await c.until_final(1)
    assert frames == [[META, 1, {"countdown-from": "2"}], [ITEM, 1, 2], [ITEM, 1, 1], [END, 1, {"countdown-finished": "true"}]], frames


@pytest.mark.parametrize("w", [U32_MAX + 1, 2**53 - 1], ids=["2^32", "2^53-1"])
async def test_s4_w_above_u32_bad_frame(streams: Conn, w: int) -> None:
    """`ext.w` must be 0..=2^32-1: larger is BAD_FRAME on the call."""
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 2, "interval_ms": 0}, {"w": w}])
    assert_error(await c.recv(), 1, BAD_FRAME, reason_data)
    await c.quiet()
    await c.serving()


@pytest.mark.parametrize("n", [0, U32_MAX + 1, -1, 1.5, "1", None], ids=["0", "2^32", "negative", "float", "string", "null"])
async def test_s4_credit_out_of_range_bad_frame(streams: Conn, n: object) -> None:
    """CREDIT's n must be 1..=2^32-1; anything else is BAD_FRAME on that call's id,
    which ends the call."""
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 5, "interval_ms": 0}, {"w": 1}])
    assert await c.recv_n(2) == [[META, 1, {"countdown-from": "5"}], [ITEM, 1, 5]]
    await c.send([CREDIT, 1, n])
    assert_error(await c.recv(), 1, BAD_FRAME, reason_data)
    await c.send([CREDIT, 1, 10])  # stale: the call is over
    await c.quiet()
    await c.serving()


async def test_s4_credit_max_u32_allowed(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 3, "interval_ms": 0}, {"w": 1}])
    assert await c.recv_n(2) == [[META, 1, {"countdown-from": "3"}], [ITEM, 1, 3]]
    await c.send([CREDIT, 1, U32_MAX])
    assert await c.recv_n(3) == [[ITEM, 1, 2], [ITEM, 1, 1], [END, 1, {"countdown-finished": "true"}]]


async def test_s4_credit_passing_end_is_stale(streams: Conn) -> None:
    """A CREDIT can pass the END it was meant for: the callee ignores it silently."""
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 1, "interval_ms": 0}, {"w": 1}])
    assert await c.until_final(1) == [[META, 1, {"countdown-from": "1"}], [ITEM, 1, 1], [END, 1, {"countdown-finished": "true"}]]
    await c.send([CREDIT, 1, 1])
    await c.quiet()
    await c.serving()


async def test_s4_item_without_credit_credit_exceeded(streams: Conn) -> None:
    """The fourth table: an item that arrives without credit fails that call with
    CREDIT_EXCEEDED, and other calls go on. (`chat` with `w = 0` stops consuming after
    its first message, so its credit is not replenished while the items arrive.)"""
    c = streams
    await c.send([CALL, 1, "sleep", {"ms": 400}])
    await c.send([CALL, 11, "chat", {}, {"w": 0}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 11, f
    granted = f[2]
    assert granted <= 1024, f"a window of {granted} is too large for this check"
    for i in range(granted + 4):
        await c.send([ITEM, 11, {"from": "x", "text": str(i)}])
    while True:
        f = await c.recv()
        if f[0] == CREDIT and f[1] == 11:
            continue  # replenished after consumption; the surplus still exceeds it
        break
    assert_error(f, 11, CREDIT_EXCEEDED)
    assert await c.recv() == [RESULT, 1, 400]
    await c.quiet()
    await c.serving()


async def test_s4_server_respects_credit_it_granted_back(streams: Conn) -> None:
    """The server as a stream's receiver: when it calls `client.numbers` on us it grants
    credit (`ext.w` or the default 32), and sends CREDIT as it consumes."""
    c = streams
    count = 80
    await c.send([CALL, 1, "sum_from_client", {"count": count}])
    call = await c.recv()
    assert call[0] == CALL and call[2] == "client.numbers" and call[3] == {"count": count}, describe(call)
    sid = call[1]
    ext = call[4] if len(call) > 4 and call[4] is not None else {}
    credit = ext.get("w", 32)
    sent = 0
    for _ in range(1000):
        while credit > 0 and sent < count:
            sent += 1
            credit -= 1
            await c.send([ITEM, sid, sent])
        if sent == count:
            break
        f = await c.recv()
        assert f[0] == CREDIT and f[1] == sid, f"expected CREDIT for {sid}, got {describe(f)}"
        credit += f[2]
    await c.send([END, sid])
    f = await c.recv()
    while f[0] == CREDIT and f[1] == sid:  # credit granted while our last items were in flight
        f = await c.recv()
    assert f == [RESULT, 1, count * (count + 1) // 2], describe(f)
