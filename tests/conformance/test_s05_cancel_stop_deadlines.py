"""Section 5: cancel, stop and deadlines."""

from __future__ import annotations

import asyncio
import time

import pytest

import volleyc
from volleyc import CALL, CANCEL, CREDIT, DEADLINE_EXCEEDED, END, ERROR, ITEM, META, RESULT, STOP, Conn, assert_error, describe


async def stats(c: Conn) -> dict:
    return await c.result("stats")


async def wait_stats(c: Conn, key: str, at_least: int, seconds: float = 2.0) -> int:
    """Polls the streams example's `stats` (bounded) until `key` reaches `at_least`."""
    deadline = time.monotonic() + seconds
    while True:
        v = (await stats(c))[key]
        if v >= at_least or time.monotonic() > deadline:
            return v
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("cancel", [[CANCEL, 1], [CANCEL, 1, 499], [CANCEL, 1, 499, "user gave up"], [CANCEL, 1, 1001, "app reason"]], ids=["bare", "code", "code-message", "app-code"])
async def test_s5_cancel_stops_work_and_is_not_answered(streams: Conn, cancel: list) -> None:
    """The callee stops the work promptly (the example counts cancelled handlers) and
    sends nothing more for the call; CANCEL is not answered."""
    c = streams
    before = (await stats(c))["cancelled"]
    i = c.new_id()
    await c.send([CALL, i, "sleep", {"ms": 1500}])
    await asyncio.sleep(0.1)
    await c.send([CANCEL, i, *cancel[2:]])
    assert await wait_stats(c, "cancelled", before + 1) == before + 1
    await c.quiet(0.3)
    await c.serving()


async def test_s5_cancel_server_stream(streams: Conn) -> None:
    c = streams
    before = (await stats(c))["cancelled"]
    i = c.new_id()
    await c.send([CALL, i, "countdown", {"from": 100, "interval_ms": 250}])
    assert await c.recv_n(2) == [[META, i, {"countdown-from": "100"}], [ITEM, i, 100]]
    await c.send([CANCEL, i])
    await c.quiet(0.6)
    assert await wait_stats(c, "cancelled", before + 1) == before + 1
    await c.serving()


async def test_s5_cancel_client_stream(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "sum", {}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([ITEM, 1, 1])
    await c.send([CANCEL, 1])
    await c.send([ITEM, 1, 2])  # stale: the caller treats the call as finished at once
    await c.send([END, 1])
    await c.quiet(0.3)
    await c.serving()


async def test_s5_cancel_also_cancels_nested_calls_to_client(streams: Conn) -> None:
    """Cancelling `ask` while its `client.confirm` CALL to us is unanswered cancels that
    call too: a CANCEL arrives for the server's call id."""
    c = streams
    await c.send([CALL, 1, "ask", {"question": "proceed?"}])
    call = await c.recv()
    assert call[0] == CALL and call[2] == "client.confirm" and call[3] == {"question": "proceed?"}, describe(call)
    sid = call[1]
    await c.send([CANCEL, 1])
    f = await c.recv()
    assert f[0] == CANCEL and f[1] == sid, f"expected CANCEL for the server's call {sid}, got {describe(f)}"
    await c.send([RESULT, sid, True])  # too late: stale for the server
    await c.quiet(0.3)
    await c.serving()


async def test_s5_stop_server_stream_graceful(streams: Conn) -> None:
    """STOP: the producer sends at most the item it was producing, then END (with the
    method's trailers: countdown says `countdown-finished: false`)."""
    c = streams
    before = (await stats(c))["stopped"]
    i = c.new_id()
    await c.send([CALL, i, "countdown", {"from": 100, "interval_ms": 150}])
    assert await c.recv_n(2) == [[META, i, {"countdown-from": "100"}], [ITEM, i, 100]]
    await c.send([STOP, i])
    frames = await c.until_final(i)
    assert frames[-1] == [END, i, {"countdown-finished": "false"}], frames
    assert frames[:-1] in ([], [[ITEM, i, 99]]), f"after STOP at most one more item: {frames}"
    await c.quiet()
    assert (await stats(c))["stopped"] == before + 1


async def test_s5_stop_server_stream_out_of_credit(streams: Conn) -> None:
    """STOP on a server stream whose producer is out of credit ends it normally with END
    (with the trailers the method sets), not ERROR; no item comes without credit."""
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 10, "interval_ms": 0}, {"w": 2}])
    assert await c.recv_n(3) == [[META, 1, {"countdown-from": "10"}], [ITEM, 1, 10], [ITEM, 1, 9]]
    await c.quiet()
    await c.send([STOP, 1])
    f = await c.recv()
    assert f == [END, 1, {"countdown-finished": "false"}], describe(f)
    await c.quiet()
    await c.serving()


async def test_s5_stop_bidi_waiting_for_input(streams: Conn) -> None:
    """STOP on a bidi stream whose handler waits for input: the callee ends its stream
    with END promptly, and that closes the call (our later items are stale)."""
    c = streams
    await c.send([CALL, 1, "chat", {}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([ITEM, 1, {"from": "ann", "text": "hi"}])
    assert await c.recv() == [ITEM, 1, {"from": "echo", "text": "ann: HI"}]
    await c.send([STOP, 1])
    assert await c.recv(1.0) == [END, 1]
    await c.send([ITEM, 1, {"from": "ann", "text": "late"}])
    await c.send([END, 1])
    await c.quiet()
    await c.serving()


async def test_s5_stop_on_unary_ignored(streams: Conn) -> None:
    """A STOP on a call that has no stream towards the sender is ignored."""
    c = streams
    await c.send([CALL, 1, "sleep", {"ms": 200}])
    await c.send([STOP, 1])
    assert await c.recv() == [RESULT, 1, 200]
    await c.quiet()


async def test_s5_stop_on_client_stream_ignored(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "sum", {}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([STOP, 1])
    await c.send([ITEM, 1, 2])
    await c.send([ITEM, 1, 3])
    await c.send([END, 1])
    assert await c.recv() == [RESULT, 1, 5, {"count": "2"}]
    await c.quiet()


async def test_s5_deadline_exceeded(streams: Conn) -> None:
    c = streams
    t0 = time.monotonic()
    await c.send([CALL, 1, "sleep", {"ms": 3000}, {"t": 200}])
    assert_error(await c.recv(), 1, DEADLINE_EXCEEDED)
    took = time.monotonic() - t0
    assert 0.15 <= took < 1.5, f"DEADLINE_EXCEEDED after {took:.3f}s for a 200 ms timeout"
    await c.quiet()
    await c.serving()


async def test_s5_deadline_on_server_stream(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 50, "interval_ms": 100}, {"t": 250}])
    frames = await c.until_final(1)
    assert frames[0] == [META, 1, {"countdown-from": "50"}], frames
    assert all(f[0] == ITEM for f in frames[1:-1]) and 1 <= len(frames) - 2 <= 4, frames
    assert_error(frames[-1], 1, DEADLINE_EXCEEDED)


async def test_s5_deadline_zero_already_passed(calc: Conn) -> None:
    """`ext.t = 0` means the deadline has already passed."""
    await calc.send([CALL, 1, "add", {"a": 1, "b": 2}, {"t": 0}])
    assert_error(await calc.recv(), 1, DEADLINE_EXCEEDED)
    await calc.quiet()
    await calc.serving()


async def test_s5_deadline_not_reached(calc: Conn) -> None:
    await calc.send([CALL, 1, "add", {"a": 1, "b": 2}, {"t": 5000}])
    assert await calc.recv() == [RESULT, 1, 3]


async def test_s5_deadline_also_cancels_nested_calls_to_client(streams: Conn) -> None:
    """A call that finishes early past its deadline cancels the calls its callee made
    back to the caller for it: DEADLINE_EXCEEDED for `ask`, CANCEL for `client.confirm`."""
    c = streams
    await c.send([CALL, 1, "ask", {"question": "slow?"}, {"t": 300}])
    call = await c.recv()
    assert call[0] == CALL and call[2] == "client.confirm", describe(call)
    sid = call[1]
    got = [await c.recv(2), await c.recv(2)]
    kinds = sorted((f[0], f[1]) for f in got)
    assert kinds == sorted([(ERROR, 1), (CANCEL, sid)]), [describe(f) for f in got]
    err = next(f for f in got if f[0] == ERROR)
    assert_error(err, 1, DEADLINE_EXCEEDED)
    await c.send([RESULT, sid, True])  # stale
    await c.quiet()
    await c.serving()
