"""Section 3: calls, call ids, call shapes and the stale-frame rule."""

from __future__ import annotations

import asyncio

import pytest

import volleyc
from volleyc import (
    CALL,
    CANCEL,
    CREDIT,
    DUPLICATE_CALL_ID,
    END,
    ERROR,
    ITEM,
    META,
    PROTOCOL_VIOLATION,
    RESULT,
    STOP,
    UNKNOWN_CALL,
    WARNING,
    Conn,
    assert_error,
    describe,
)

# A frame of each non-CALL kind a client can send about one of its own calls.
CLIENT_FRAMES = {
    "ITEM": lambda i: [ITEM, i, 1],
    "END": lambda i: [END, i],
    "CANCEL": lambda i: [CANCEL, i],
    "STOP": lambda i: [STOP, i],
    "CREDIT": lambda i: [CREDIT, i, 1],
    "META": lambda i: [META, i, {"k": "v"}],
    "WARNING": lambda i: [WARNING, i, 298, "careful"],
}
# ...and about one of the server's calls (even ids).
ANSWER_FRAMES = {
    **CLIENT_FRAMES,
    "RESULT": lambda i: [RESULT, i, True],
    "ERROR": lambda i: [ERROR, i, 501, "no"],
}


async def test_s3_2_unary_example(calc: Conn) -> None:
    await calc.send([CALL, 1, "add", {"a": 1, "b": 2}])
    assert await calc.recv() == [RESULT, 1, 3]
    await calc.quiet()


async def test_s3_3_typed_error_example(calc: Conn) -> None:
    """Section 3.3, as the example shows it: call id 3 is the connection's first call."""
    await calc.send([CALL, 3, "divide", {"a": 1, "b": 0}])
    assert await calc.recv() == [ERROR, 3, 1000, "division by zero", {"kind": "DivisionByZero"}]
    await calc.serving()


async def test_s3_3_typed_error_with_fields(calc: Conn) -> None:
    await calc.send([CALL, 1, "divide", {"a": 1e308, "b": 1e-308}])
    f = await calc.recv()
    assert_error(f, 1, 1000, {"kind": "Overflow", "dividend": 1e308})


async def test_s3_3_typed_error_add_overflow(calc: Conn) -> None:
    await calc.send([CALL, 1, "add", {"a": 9223372036854775807, "b": 1}])
    f = await calc.recv()
    assert_error(f, 1, 1000, {"kind": "Overflow"})
    await calc.serving()


async def test_s3_calls_interleave(streams: Conn) -> None:
    """Many calls in flight on one connection, their frames interleaved: quick calls
    overtake a slow one, and each call's own frames stay in order."""
    await streams.send([CALL, 1, "sleep", {"ms": 400}])
    await streams.send([CALL, 3, "sleep", {"ms": 0}])
    await streams.send([CALL, 5, "countdown", {"from": 2, "interval_ms": 0}])
    got = await streams.recv_n(6)
    assert got[-1] == [RESULT, 1, 400], got
    assert [f for f in got if f[1] == 3] == [[RESULT, 3, 0]], got
    assert [f for f in got if f[1] == 5] == [[META, 5, {"countdown-from": "2"}], [ITEM, 5, 2], [ITEM, 5, 1], [END, 5, {"countdown-finished": "true"}]], got
    await streams.quiet()


async def test_s3_ids_need_only_increase(calc: Conn) -> None:
    """Ids strictly increase; they need not be consecutive."""
    for i in (1, 7, 101, 10**15 + 1):
        await calc.send([CALL, i, "add", {"a": i, "b": 1}])
        assert await calc.recv() == [RESULT, i, i + 1]


async def test_s3_id_not_above_highest_duplicate_call_id(calc: Conn) -> None:
    """Every CALL must use an id above any used before: reusing a finished id, or using a
    lower unused one, is DUPLICATE_CALL_ID on id 0 with data {"id", "frame"}."""
    await calc.send([CALL, 5, "add", {"a": 1, "b": 2}])
    assert await calc.recv() == [RESULT, 5, 3]
    await calc.send([CALL, 5, "add", {"a": 1, "b": 2}])
    assert_error(await calc.recv(), 0, DUPLICATE_CALL_ID, {"id": 5, "frame": "CALL"})
    await calc.send([CALL, 3, "add", {"a": 1, "b": 2}])
    assert_error(await calc.recv(), 0, DUPLICATE_CALL_ID, {"id": 3, "frame": "CALL"})
    await calc.quiet()
    await calc.serving()


async def test_s3_duplicate_of_open_call_goes_on(streams: Conn) -> None:
    """A CALL reusing an open call's id is DUPLICATE_CALL_ID on id 0; the open call goes
    on and answers normally, exactly once."""
    await streams.send([CALL, 1, "sleep", {"ms": 300}])
    await streams.send([CALL, 1, "sleep", {"ms": 0}])
    assert_error(await streams.recv(), 0, DUPLICATE_CALL_ID, {"id": 1, "frame": "CALL"})
    assert await streams.recv() == [RESULT, 1, 300]
    await streams.quiet()
    await streams.serving()


@pytest.mark.parametrize("broken", [[CALL, 1, 42, {}], [CALL, 1], [CALL, 1, "sleep", {"ms": 0}, []]], ids=["method-int", "no-method", "ext-array"])
async def test_s3_broken_call_reusing_open_id_duplicate(streams: Conn, broken: list) -> None:
    """A broken CALL whose id is not above the highest (here: the open call's id) is
    DUPLICATE_CALL_ID on id 0, and the open call answers normally, exactly once."""
    await streams.send([CALL, 1, "sleep", {"ms": 300}])
    await streams.send(broken)
    assert_error(await streams.recv(), 0, DUPLICATE_CALL_ID, {"id": 1, "frame": "CALL"})
    assert await streams.recv() == [RESULT, 1, 300]
    await streams.quiet()
    await streams.serving()


def _too_large(enc: str, cid: int) -> str | bytes:
    pad = "x" * (volleyc.SIZE_LIMIT + 16)
    return volleyc.encode(enc, [CALL, cid, "add", {"a": 1, "b": 2, "pad": pad}])


def _other_encoding(enc: str, cid: int) -> str | bytes:
    return volleyc.encode("msgpack" if enc == "json" else "json", [CALL, cid, "add", {"a": 1, "b": 2}])


FATES = {
    "BAD_FRAME": (lambda enc, i: volleyc.encode(enc, [CALL, i, 42, {}]), volleyc.BAD_FRAME),
    "METHOD_NOT_FOUND": (lambda enc, i: volleyc.encode(enc, [CALL, i, "no.such.method", {}]), volleyc.METHOD_NOT_FOUND),
    "INVALID_PARAMS": (lambda enc, i: volleyc.encode(enc, [CALL, i, "add", {"a": "one", "b": 2}]), volleyc.INVALID_PARAMS),
    "WRONG_ENCODING": (_other_encoding, volleyc.WRONG_ENCODING),
    "FRAME_TOO_LARGE": (_too_large, volleyc.FRAME_TOO_LARGE),
}


@pytest.mark.parametrize("fate", list(FATES))
async def test_s3_failed_call_uses_up_its_id(calc: Conn, fate: str) -> None:
    """A CALL whose id can be read, has the client's parity and is above the highest
    uses up its id whatever its fate: its error comes on that id, and reusing the id is
    DUPLICATE_CALL_ID on id 0."""
    make, code = FATES[fate]
    await calc.send_raw(make(calc.enc, 7))
    calc.use_id(7)
    assert_error(await calc.recv(), 7, code, what=fate)
    await calc.quiet()
    await calc.send([CALL, 7, "add", {"a": 1, "b": 2}])
    assert_error(await calc.recv(), 0, DUPLICATE_CALL_ID, {"id": 7, "frame": "CALL"})
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("cid", [2, 0, 10**12], ids=["2", "0", "big-even"])
async def test_s3_call_with_server_parity_protocol_violation(calc: Conn, cid: int) -> None:
    """The client numbers its calls with odd ids: an even id is PROTOCOL_VIOLATION on id 0."""
    await calc.send_raw(volleyc.encode(calc.enc, [CALL, cid, "add", {"a": 1, "b": 2}]))
    assert_error(await calc.recv(), 0, PROTOCOL_VIOLATION, {"id": cid, "frame": "CALL"})
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("kind", list(CLIENT_FRAMES))
async def test_s3_frame_above_highest_id_unknown_call(calc: Conn, kind: str) -> None:
    """A frame other than CALL for an id above the highest used is UNKNOWN_CALL on id 0,
    data {"id", "frame"}."""
    await calc.send([CALL, 1, "add", {"a": 1, "b": 2}])
    assert await calc.recv() == [RESULT, 1, 3]
    await calc.send(CLIENT_FRAMES[kind](99))
    assert_error(await calc.recv(), 0, UNKNOWN_CALL, {"id": 99, "frame": kind})
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("kind", list(ANSWER_FRAMES))
async def test_s3_frame_for_server_id_never_used_unknown_call(calc: Conn, kind: str) -> None:
    """Even ids belong to the server; a frame for an even id above the server's highest
    (it has made no call) is UNKNOWN_CALL on id 0."""
    await calc.send(ANSWER_FRAMES[kind](4))
    assert_error(await calc.recv(), 0, UNKNOWN_CALL, {"id": 4, "frame": kind})
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("kind", list(CLIENT_FRAMES))
async def test_s3_stale_frame_after_result_ignored(calc: Conn, kind: str) -> None:
    """A frame for an id that is no longer open is stale: ignored silently."""
    await calc.send([CALL, 1, "add", {"a": 1, "b": 2}])
    assert await calc.recv() == [RESULT, 1, 3]
    await calc.send(CLIENT_FRAMES[kind](1))
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("kind", list(CLIENT_FRAMES))
async def test_s3_stale_frame_after_error_ignored(calc: Conn, kind: str) -> None:
    await calc.send([CALL, 1, "divide", {"a": 1, "b": 0}])
    assert (await calc.recv())[:3] == [ERROR, 1, 1000]
    await calc.send(CLIENT_FRAMES[kind](1))
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("kind", list(CLIENT_FRAMES))
async def test_s3_stale_frame_after_cancel_ignored(streams: Conn, kind: str) -> None:
    """CANCEL closes the call at once: later frames for it are stale."""
    await streams.send([CALL, 1, "sleep", {"ms": 2000}])
    await streams.send([CANCEL, 1])
    await streams.send(CLIENT_FRAMES[kind](1))
    await streams.quiet()
    await streams.serving()


@pytest.mark.parametrize("kind", list(CLIENT_FRAMES))
async def test_s3_stale_frame_for_skipped_id_below_highest(calc: Conn, kind: str) -> None:
    """An id not above the highest used that is not open (here: 3, skipped over) is stale."""
    await calc.send([CALL, 5, "add", {"a": 1, "b": 2}])
    assert await calc.recv() == [RESULT, 5, 3]
    await calc.send(CLIENT_FRAMES[kind](3))
    await calc.quiet()
    await calc.serving()


async def test_s3_1_shapes_server_stream(streams: Conn) -> None:
    await streams.send([CALL, 1, "countdown", {"from": 3, "interval_ms": 0}])
    frames = await streams.until_final(1)
    assert frames == [[META, 1, {"countdown-from": "3"}], [ITEM, 1, 3], [ITEM, 1, 2], [ITEM, 1, 1], [END, 1, {"countdown-finished": "true"}]], frames


async def test_s3_1_shapes_client_stream(streams: Conn) -> None:
    await streams.send([CALL, 1, "sum", {}])
    f = await streams.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    for v in (1, 2.5, 3):
        await streams.send([ITEM, 1, v])
    await streams.send([END, 1])
    assert await streams.until_final(1) == [[RESULT, 1, 6.5, {"count": "3"}]]


async def test_s3_1_shapes_bidi_stream(streams: Conn) -> None:
    await streams.send([CALL, 1, "chat", {}])
    f = await streams.recv()
    assert f[0] == CREDIT and f[1] == 1 and f[2] >= 2, f
    await streams.send([ITEM, 1, {"from": "ann", "text": "hi"}])
    assert await streams.recv() == [ITEM, 1, {"from": "echo", "text": "ann: HI"}]
    await streams.send([ITEM, 1, {"from": "bob", "text": "bye"}])
    assert await streams.recv() == [ITEM, 1, {"from": "echo", "text": "bob: BYE"}]
    await streams.send([END, 1])
    assert await streams.recv() == [END, 1]


async def test_s3_1_second_end_protocol_violation(streams: Conn) -> None:
    """A second END from the streaming caller is PROTOCOL_VIOLATION on the call. (chat
    with `w = 0` keeps the call open: its reply waits for credit.)"""
    await streams.send([CALL, 1, "chat", {}, {"w": 0}])
    f = await streams.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await streams.send([ITEM, 1, {"from": "ann", "text": "hi"}])
    await streams.send([END, 1])
    await streams.send([END, 1])
    assert_error(await streams.recv(), 1, PROTOCOL_VIOLATION, {"id": 1, "frame": "END"})
    await streams.quiet()
    await streams.serving()


async def test_s3_1_item_after_end_protocol_violation(streams: Conn) -> None:
    await streams.send([CALL, 1, "chat", {}, {"w": 0}])
    f = await streams.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await streams.send([ITEM, 1, {"from": "ann", "text": "hi"}])
    await streams.send([END, 1])
    await streams.send([ITEM, 1, {"from": "ann", "text": "again"}])
    assert_error(await streams.recv(), 1, PROTOCOL_VIOLATION, {"id": 1, "frame": "ITEM"})
    await streams.quiet()
    await streams.serving()


@pytest.mark.parametrize("kind", ["ITEM", "END"])
async def test_s3_1_caller_stream_frame_on_unary_protocol_violation(streams: Conn, kind: str) -> None:
    """ITEM (or END) on a call whose shape has no caller stream ends the call with
    PROTOCOL_VIOLATION; the call answers nothing else."""
    await streams.send([CALL, 1, "sleep", {"ms": 300}])
    await streams.send(CLIENT_FRAMES[kind](1))
    assert_error(await streams.recv(), 1, PROTOCOL_VIOLATION, {"id": 1, "frame": kind})
    await streams.quiet(0.5)
    await streams.serving()


@pytest.mark.parametrize("kind", ["ITEM", "END"])
async def test_s3_1_caller_stream_frame_on_server_stream_protocol_violation(streams: Conn, kind: str) -> None:
    await streams.send([CALL, 1, "countdown", {"from": 5, "interval_ms": 0}, {"w": 1}])
    assert await streams.recv_n(2) == [[META, 1, {"countdown-from": "5"}], [ITEM, 1, 5]]
    await streams.send(CLIENT_FRAMES[kind](1))
    assert_error(await streams.recv(), 1, PROTOCOL_VIOLATION, {"id": 1, "frame": kind})
    await streams.send([CREDIT, 1, 10])  # stale now: the call is over
    await streams.quiet()
    await streams.serving()


async def test_s3_1_items_after_early_error_discarded(streams: Conn) -> None:
    """After the callee's early final frame the caller's stream is over: items it still
    sends are discarded silently."""
    await streams.send([CALL, 1, "sum", {}])
    f = await streams.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await streams.send([ITEM, 1, "not a number"])
    f = await streams.recv()
    if f == [STOP, 1]:  # the callee, receiver of the caller's stream, may ask it to stop first
        f = await streams.recv()
    assert f[:3] == [ERROR, 1, volleyc.INVALID_PARAMS], describe(f)
    for v in range(3):
        await streams.send([ITEM, 1, v])
    await streams.send([END, 1])
    await streams.quiet()
    await streams.serving()


async def test_s3_1_warning_from_caller_never_ends_the_call(streams: Conn) -> None:
    """Either side may send WARNING on an open call; a warning never ends the call."""
    await streams.send([CALL, 1, "sleep", {"ms": 200}])
    await streams.send([WARNING, 1, 298, "just so you know"])
    await streams.send([WARNING, 1, 1234, "app warning", {"detail": [1, 2]}])
    assert await streams.recv() == [RESULT, 1, 200]
    await streams.quiet()
