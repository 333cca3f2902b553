"""Section 8: bad input. A volley peer never closes the connection because of a bad
frame: it answers and keeps serving every other call. Every check ends by making a
normal call on the same connection."""

from __future__ import annotations

import asyncio

import msgpack
import pytest

import volleyc
from volleyc import (
    BAD_FRAME,
    CALL,
    CREDIT,
    END,
    ERROR,
    FRAME_TOO_LARGE,
    INVALID_PARAMS,
    ITEM,
    META,
    RESULT,
    SIZE_LIMIT,
    STOP,
    WRONG_ENCODING,
    Conn,
    assert_error,
    describe,
    error_paths,
    reason_data,
)

# --- undecodable bytes, not an array, unknown kind, wrong field types -> BAD_FRAME ---

UNDECODABLE = {
    "json": {"truncated": "[0,", "garbage": "}{", "empty": "", "trailing-garbage": "[7,1,1]x", "nan": "[NaN,1]"},
    "msgpack": {"reserved-byte": b"\xc1", "truncated-str": b"\xa5ab", "empty": b"", "trailing-bytes": b"\x93\x07\x01\x01\x00", "truncated-array": b"\x94\x00"},
}


@pytest.mark.parametrize("name", ["truncated", "garbage", "empty", "trailing-garbage", "nan"])
async def test_s8_undecodable_json_bad_frame_on_id_0(opener, name: str) -> None:
    c: Conn = await opener("calculator", "json")
    await c.send_raw(UNDECODABLE["json"][name])
    assert_error(await c.recv(), 0, BAD_FRAME, reason_data)
    await c.quiet()
    await c.serving()


@pytest.mark.parametrize("name", ["reserved-byte", "truncated-str", "empty", "trailing-bytes", "truncated-array"])
async def test_s8_undecodable_msgpack_bad_frame_on_id_0(opener, name: str) -> None:
    c: Conn = await opener("calculator", "msgpack")
    await c.send_raw(UNDECODABLE["msgpack"][name])
    assert_error(await c.recv(), 0, BAD_FRAME, reason_data)
    await c.quiet()
    await c.serving()


async def test_s8_truncated_call_with_readable_id_bad_frame_on_call(calc: Conn) -> None:
    """Undecodable bytes whose id could still be read (a CALL cut off after its id):
    BAD_FRAME on that id, which the CALL uses up."""
    data = '[0,1,"add",{"a":1' if calc.enc == "json" else msgpack.packb([CALL, 1, "add", {"a": 1, "b": 2}])[:-3]
    await calc.send_raw(data)
    calc.use_id(1)
    assert_error(await calc.recv(), 1, BAD_FRAME, reason_data)
    await calc.quiet()
    await calc.send([CALL, 1, "add", {"a": 1, "b": 2}])
    assert_error(await calc.recv(), 0, volleyc.DUPLICATE_CALL_ID, {"id": 1, "frame": "CALL"})
    await calc.serving()


@pytest.mark.parametrize("value", [{"a": 1}, 42, "x", None, True, []], ids=["map", "int", "string", "null", "bool", "empty-array"])
async def test_s8_not_an_array_bad_frame_on_id_0(calc: Conn, value: object) -> None:
    await calc.send(value)
    assert_error(await calc.recv(), 0, BAD_FRAME, reason_data)
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("frame", [["0", 1, "add", {}], [None, 1], [-1, 1], [0.5, 1], [[0], 1]], ids=["string-kind", "null-kind", "negative-kind", "float-kind", "array-kind"])
async def test_s8_kind_not_an_integer_bad_frame_on_id_0(calc: Conn, frame: list) -> None:
    await calc.send(frame)
    assert_error(await calc.recv(), 0, BAD_FRAME, reason_data)
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("frame", [[42, 1], [12, 1, "x"], [42], [255, 99]], ids=["42-id-1", "12", "no-id", "255-id-99"])
async def test_s8_unknown_kind_no_open_call_bad_frame_on_id_0(calc: Conn, frame: list) -> None:
    """An unknown kind that names no open call is BAD_FRAME on id 0."""
    await calc.send(frame)
    assert_error(await calc.recv(), 0, BAD_FRAME, reason_data)
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("kind", [42, 12, 200])
async def test_s8_unknown_kind_on_open_call(streams: Conn, kind: int) -> None:
    """An unknown kind naming an open call is BAD_FRAME on that call's id, which ends it."""
    c = streams
    await c.send([CALL, 1, "sleep", {"ms": 300}])
    await c.send([kind, 1])
    assert_error(await c.recv(), 1, BAD_FRAME, reason_data)
    await c.quiet(0.4)  # no RESULT: the call is over
    await c.serving()


@pytest.mark.parametrize("frame", [[ITEM, 1], [CREDIT, 1], [CREDIT, 1, "3"], [META, 1, 5], [END, 1, "done"], [STOP, "1"]], ids=["item-no-value", "credit-no-n", "credit-string", "meta-int", "end-trailers-string", "stop-string-id"])
async def test_s8_wrong_field_types_on_open_call(streams: Conn, frame: list) -> None:
    """A frame with missing or wrongly typed fields that names an open call is BAD_FRAME
    on that call (`[6,"1"]`: its id cannot be read, so on id 0)."""
    c = streams
    await c.send([CALL, 1, "chat", {}, {"w": 0}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send(frame)
    on = 0 if frame == [STOP, "1"] else 1
    f = await c.recv()
    if f == [STOP, 1]:
        f = await c.recv()
    assert_error(f, on, BAD_FRAME, reason_data)
    await c.quiet()
    await c.serving()


async def test_s8_many_bad_frames_do_not_close(calc: Conn) -> None:
    """volley does not close a connection that keeps sending bad frames: each one is answered."""
    n = 200
    for _ in range(n):
        await calc.send_raw("}{" if calc.enc == "json" else b"\xc1")
    answered = 0
    try:
        for _ in range(n):
            assert_error(await calc.recv(1.0), 0, BAD_FRAME, reason_data)
            answered += 1
    except AssertionError as e:
        if "no frame within" not in str(e):
            raise
    assert answered == n, f"{answered} of {n} bad frames answered (BAD_FRAME on id 0), the rest got nothing"
    await calc.quiet()
    await calc.serving()


# --- size limits ---


def sized_call(enc: str, cid: int, size: int) -> str | bytes:
    """An `add(1,2)` CALL padded with an ignored extra parameter to exactly `size` bytes."""
    pad = size - 64
    for _ in range(10):
        data = volleyc.encode(enc, [CALL, cid, "add", {"a": 1, "b": 2, "pad": "x" * pad}])
        n = len(data.encode() if isinstance(data, str) else data)
        if n == size:
            return data
        pad += size - n
    raise AssertionError("could not size the frame")


async def test_s8_frame_at_size_limit_accepted(calc: Conn) -> None:
    """1 MiB exactly is not above the limit."""
    await calc.send_raw(sized_call(calc.enc, 1, SIZE_LIMIT))
    calc.use_id(1)
    assert await calc.recv() == [RESULT, 1, 3]


async def test_s8_frame_above_size_limit_frame_too_large_on_call(calc: Conn) -> None:
    """A frame above 1 MiB whose head can be read: FRAME_TOO_LARGE on the CALL's id, data
    {"limit": 1048576, "size": <the frame's size>}."""
    await calc.send_raw(sized_call(calc.enc, 1, SIZE_LIMIT + 1))
    calc.use_id(1)
    assert_error(await calc.recv(), 1, FRAME_TOO_LARGE, {"limit": SIZE_LIMIT, "size": SIZE_LIMIT + 1})
    await calc.quiet()
    await calc.serving()


async def test_s8_frame_above_size_limit_unreadable_head_on_id_0(calc: Conn) -> None:
    """A frame above the limit whose head cannot be read (here: not an array) gets
    FRAME_TOO_LARGE on id 0."""
    blob = volleyc.encode(calc.enc, "y" * (SIZE_LIMIT + 100))
    size = len(blob.encode() if isinstance(blob, str) else blob)
    await calc.send_raw(blob)
    assert_error(await calc.recv(), 0, FRAME_TOO_LARGE, {"limit": SIZE_LIMIT, "size": size})
    await calc.quiet()
    await calc.serving()


async def test_s8_frame_above_size_limit_on_open_stream(streams: Conn) -> None:
    """An oversized ITEM of an open call: the frame's head names the call, so the error
    comes on it."""
    c = streams
    await c.send([CALL, 1, "chat", {}, {"w": 0}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([ITEM, 1, {"from": "x", "text": "y" * (SIZE_LIMIT + 10)}])
    f = await c.recv()
    if f == [STOP, 1]:
        f = await c.recv()
    assert_error(f, 1, FRAME_TOO_LARGE)
    await c.quiet()
    await c.serving()


async def test_s8_frame_above_hard_limit_closes_1009(calc: Conn) -> None:
    """A frame above the WebSocket layer's hard limit (4 MiB) closes the connection with
    close code 1009."""
    blob = sized_call(calc.enc, 1, volleyc.HARD_LIMIT + 1)
    try:
        await asyncio.wait_for(calc.send_raw(blob), 10)
    except Exception:  # noqa: BLE001 - the server may close while we are still sending
        pass
    code, _ = await calc.closed(10)
    assert code == 1009, f"close code {code}"


# --- wrong encoding ---


async def test_s8_wrong_encoding_readable_call_on_call_id(calc: Conn) -> None:
    """A text frame on msgpack (binary frame on json) holding a readable CALL:
    WRONG_ENCODING on the CALL's id, answered in the connection's own encoding."""
    other = "msgpack" if calc.enc == "json" else "json"
    await calc.send_raw(volleyc.encode(other, [CALL, 1, "add", {"a": 1, "b": 2}]))
    calc.use_id(1)
    assert_error(await calc.recv(), 1, WRONG_ENCODING)
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize("what", ["garbage", "not-a-call"])
async def test_s8_wrong_encoding_otherwise_on_id_0(calc: Conn, what: str) -> None:
    if calc.enc == "json":
        data: str | bytes = b"\xc1\x00\x01" if what == "garbage" else msgpack.packb([CREDIT, 1, 1])
    else:
        data = "}{" if what == "garbage" else "[7,1,1]"
    await calc.send_raw(data)
    assert_error(await calc.recv(), 0, WRONG_ENCODING)
    await calc.quiet()
    await calc.serving()


# --- parameters ---

PARAM_CASES = {
    # add(a: i64, b: i64)
    "add-missing-b": ("calculator", "add", {"a": 1}, ["b"]),
    "add-missing-both": ("calculator", "add", {}, ["a"]),
    "add-a-string": ("calculator", "add", {"a": "1", "b": 2}, ["a"]),
    "add-b-null": ("calculator", "add", {"a": 1, "b": None}, ["b"]),
    "add-a-fraction": ("calculator", "add", {"a": 1.5, "b": 2}, ["a"]),
    "add-a-float-integral": ("calculator", "add", {"a": 1, "b": 2.0}, ["b"]),
    "add-a-too-big-for-i64": ("calculator", "add", {"a": 2**63, "b": 0}, ["a"]),
    # calc.evaluate(batch: Batch)
    "evaluate-label-too-short": ("calculator", "calc.evaluate", {"batch": {"label": "", "operations": {}}}, ["batch.label"]),
    "evaluate-two-constraints": ("calculator", "calc.evaluate", {"batch": {"label": "", "operations": {}, "precision": 13}}, ["batch.label", "batch.precision"]),
    "evaluate-label-too-long": ("calculator", "calc.evaluate", {"batch": {"label": "x" * 65, "operations": {}}}, ["batch.label"]),
    "evaluate-missing-operations": ("calculator", "calc.evaluate", {"batch": {"label": "ok"}}, ["batch.operations"]),
    "evaluate-tag-not-string": ("calculator", "calc.evaluate", {"batch": {"label": "ok", "operations": {}, "tags": ["a", 5]}}, ["batch.tags[1]"]),
    "evaluate-missing-batch": ("calculator", "calc.evaluate", {}, ["batch"]),
    # countdown(from: u32 <= 1000000, interval_ms: u64 <= 60000)
    "countdown-from-above-max": ("streams", "countdown", {"from": 1000001, "interval_ms": 0}, ["from"]),
    "countdown-both-above-max": ("streams", "countdown", {"from": 2000000, "interval_ms": 60001}, ["from", "interval_ms"]),
    "countdown-from-negative": ("streams", "countdown", {"from": -1, "interval_ms": 0}, ["from"]),
    # job.run(name: 1..=64 chars, steps <= 10000, step_ms <= 60000)
    "job-two-constraints": ("streams", "job.run", {"name": "", "steps": 10001, "step_ms": 0}, ["name", "steps"]),
    "sleep-above-max": ("streams", "sleep", {"ms": 600001}, ["ms"]),
    "subscribe-topics-not-array": ("streams", "volley.subscribe", {"topics": "jobs.finished"}, ["topics"]),
}


@pytest.mark.parametrize("case", list(PARAM_CASES))
async def test_s8_invalid_params_lists_failing_fields(enc: str, opener, case: str) -> None:
    """INVALID_PARAMS on the call, data {"errors": [{path, message}]}: every declared
    constraint failure listed; for an undecodable value the first failing field; a
    missing parameter's path is its name. Paths: `batch.label`, `batch.tags[1]`."""
    example, method, params, paths = PARAM_CASES[case]
    c: Conn = await opener(example, enc)
    await c.send([CALL, 1, method, params])
    f = await c.recv()
    assert_error(f, 1, INVALID_PARAMS)
    assert sorted(error_paths(f)) == sorted(paths), describe(f)
    await c.quiet()
    await c.serving()


@pytest.mark.parametrize("items,path", [(["x"], "[0]"), ([1, 2, "three"], "[2]"), ([1, None], "[1]"), ([1, {"n": 1}], "[1]")], ids=["first", "third", "null", "map"])
async def test_s8_client_stream_item_wrong_type_invalid_params(streams: Conn, items: list, path: str) -> None:
    """A client-stream item that does not fit the item type fails the call with
    INVALID_PARAMS naming the item by its 0-based index."""
    c = streams
    await c.send([CALL, 1, "sum", {}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    for v in items:
        await c.send([ITEM, 1, v])
    await c.send([END, 1])
    f = await c.recv()
    if f == [STOP, 1]:  # the callee may ask the caller's stream to stop first
        f = await c.recv()
    assert_error(f, 1, INVALID_PARAMS)
    assert error_paths(f) == [path], describe(f)
    await c.quiet()
    await c.serving()


@pytest.mark.parametrize(
    "bad,path",
    [({"from": "", "text": "hi"}, "[2].from"), ({"text": "hi"}, "[2].from"), ({"from": "x" * 65, "text": "hi"}, "[2].from"), ({"from": "ann", "text": 5}, "[2].text"), ("hi", "[2]")],
    ids=["from-too-short", "from-missing", "from-too-long", "text-not-string", "not-a-message"],
)
async def test_s8_bidi_item_not_fitting_invalid_params(streams: Conn, bad: object, path: str) -> None:
    """On chat: the two good messages are echoed, then the call fails naming `[2].from`."""
    c = streams
    await c.send([CALL, 1, "chat", {}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([ITEM, 1, {"from": "a", "text": "one"}])
    await c.send([ITEM, 1, {"from": "b", "text": "two"}])
    await c.send([ITEM, 1, bad])
    frames = []
    for _ in range(4):
        f = await c.recv()
        if f == [STOP, 1]:
            continue
        frames.append(f)
        if f[0] == ERROR:
            break
    assert frames[:2] == [[ITEM, 1, {"from": "echo", "text": "a: ONE"}], [ITEM, 1, {"from": "echo", "text": "b: TWO"}]], frames
    assert_error(frames[-1], 1, INVALID_PARAMS)
    assert error_paths(frames[-1]) == [path], describe(frames[-1])
    await c.send([END, 1])  # stale
    await c.quiet()
    await c.serving()
