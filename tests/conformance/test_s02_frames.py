"""Section 2: frames, their layouts and field types."""

from __future__ import annotations

import pathlib
import re

import msgpack

import pytest

import volleyc
from volleyc import BAD_FRAME, CALL, CANCEL, CREDIT, DUPLICATE_CALL_ID, END, ERROR, ITEM, META, RESULT, Conn, assert_error, reason_data

SPEC = pathlib.Path(__file__).resolve().parents[2] / "PROTOCOL.md"
ADD_JSON = '[0,1,"add",{"a":1,"b":2}]'
ADD_MSGPACK = bytes.fromhex("94 00 01 a3 61 64 64 82 a1 61 01 a1 62 02")


def section(n: int) -> str:
    text = SPEC.read_text()
    m = re.search(rf"^## {n}\. .*?(?=^## \d+\. |\Z)", text, re.S | re.M)
    assert m, f"PROTOCOL.md has no section {n}"
    return m.group(0)


def test_s2_example_json_call_is_25_bytes() -> None:
    """`[0,1,"add",{"a":1,"b":2}]` is 25 bytes, and that is what section 2 says."""
    assert len(ADD_JSON.encode()) == 25
    assert volleyc.encode("json", [0, 1, "add", {"a": 1, "b": 2}]) == ADD_JSON
    stated = re.findall(r"(\d+)-byte text frame", section(2))
    assert stated == ["25"], f"section 2 states the JSON example's size as {stated}, it is 25 bytes"


def test_s2_example_msgpack_call_is_14_bytes() -> None:
    """The MessagePack example is 14 bytes and is exactly the encoding of the JSON one."""
    assert len(ADD_MSGPACK) == 14
    assert msgpack.packb([0, 1, "add", {"a": 1, "b": 2}]) == ADD_MSGPACK
    stated = re.findall(r"same call is (\d+) bytes", section(2))
    assert stated == ["14"], f"section 2 states the MessagePack example's size as {stated}"
    spelled = re.findall(r"`((?:[0-9a-f]{2} ){5,}[0-9a-f]{2})`", section(2))
    assert spelled == [ADD_MSGPACK.hex(" ")], spelled


async def test_s2_example_json_bytes_answered(opener) -> None:
    c: Conn = await opener("calculator", "json")
    await c.send_raw(ADD_JSON)
    msg = await c.recv_message()
    assert isinstance(msg, str)
    assert volleyc.norm(volleyc.decode("json", msg)) == [1, 1, 3], msg


async def test_s2_example_msgpack_bytes_answered(opener) -> None:
    c: Conn = await opener("calculator", "msgpack")
    await c.send_raw(ADD_MSGPACK)
    msg = await c.recv_message()
    assert isinstance(msg, bytes)
    assert volleyc.norm(volleyc.decode("msgpack", msg)) == [1, 1, 3], msg.hex(" ")


@pytest.mark.parametrize(
    "frame",
    [[CALL, 1, "stats"], [CALL, 1, "stats", None], [CALL, 1, "stats", {}], [CALL, 1, "stats", {}, None], [CALL, 1, "stats", {}, {}]],
    ids=["params-absent", "params-null", "params-empty", "ext-null", "ext-empty"],
)
async def test_s2_missing_or_null_params_read_as_empty(streams: Conn, frame: list) -> None:
    await streams.send(frame)
    f = await streams.recv()
    assert f == [RESULT, 1, {"cancelled": f[2]["cancelled"], "stopped": f[2]["stopped"]}], f
    await streams.serving()


async def test_s2_unknown_trailing_elements_ignored_on_call(calc: Conn) -> None:
    await calc.send([CALL, 1, "add", {"a": 1, "b": 2}, {}, "future", 42, [1]])
    assert await calc.recv() == [RESULT, 1, 3]
    await calc.serving()


async def test_s2_unknown_trailing_elements_ignored_on_stream_frames(streams: Conn) -> None:
    """CREDIT, END, META and ITEM with extra trailing elements are read as usual."""
    await streams.send([CALL, 1, "countdown", {"from": 2, "interval_ms": 0}, {"w": 1}])
    frames = [await streams.recv(), await streams.recv()]
    assert frames == [[META, 1, {"countdown-from": "2"}], [3, 1, 2]], frames
    await streams.quiet()
    await streams.send([CREDIT, 1, 5, "future", {}])
    frames = await streams.until_final(1)
    assert frames == [[3, 1, 1], [END, 1, {"countdown-finished": "true"}]], frames
    await streams.send([CALL, 3, "sum", {}])
    f = await streams.recv()
    assert f[0] == CREDIT and f[1] == 3, f
    await streams.send([ITEM, 3, 4.5, "future"])
    await streams.send([META, 3, {"scale": "2"}, "future"])
    await streams.send([END, 3, {}, "future"])
    f = await streams.recv()
    assert f[:3] == [RESULT, 3, 9.0], f
    await streams.serving()


async def test_s2_null_for_unwanted_middle_elements(streams: Conn) -> None:
    """`null` stands for an element in the middle that is not wanted: END's trailers,
    CANCEL's code before a message."""
    await streams.send([CALL, 1, "sum", {}, None])
    f = await streams.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await streams.send([ITEM, 1, 1.5])
    await streams.send([END, 1, None, "future"])
    f = await streams.recv()
    assert f[:3] == [RESULT, 1, 1.5], f
    await streams.send([CALL, 3, "sleep", {"ms": 2000}])
    await streams.send([CANCEL, 3, None, "changed my mind"])
    await streams.quiet()
    await streams.serving()


async def test_s2_largest_call_id_below_2_53(calc: Conn) -> None:
    big = 2**53 - 1
    await calc.send([CALL, big, "add", {"a": 1, "b": 2}])
    assert await calc.recv() == [RESULT, big, 3]


@pytest.mark.parametrize("bad_id", [2**53 + 1, -1, 1.5, "1", None, True], ids=["2^53+1", "negative", "float", "string", "null", "bool"])
async def test_s2_call_id_not_an_unsigned_int_below_2_53_bad_frame(calc: Conn, bad_id: object) -> None:
    """An id that is not an unsigned integer below 2^53 cannot be read: BAD_FRAME on id 0."""
    await calc.send([CALL, bad_id, "add", {"a": 1, "b": 2}])
    assert_error(await calc.recv(), 0, BAD_FRAME, reason_data)
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize(
    "frame",
    [[CALL, 1, 42, {}], [CALL, 1, None, {}], [CALL, 1], [CALL, 1, "add", "a=1"], [CALL, 1, "add", 7]],
    ids=["method-int", "method-null", "method-missing", "params-string", "params-int"],
)
async def test_s2_call_with_wrong_field_types_bad_frame_on_call(calc: Conn, frame: list) -> None:
    """A CALL whose id can be read but whose method or params have the wrong type is
    BAD_FRAME on the call's id (section 8, first row)."""
    await calc.send(frame)
    assert_error(await calc.recv(), 1, BAD_FRAME, reason_data)
    await calc.quiet()
    await calc.serving()


@pytest.mark.parametrize(
    "ext",
    [[], "w=1", 5, {"m": {"k": 1}}, {"m": ["k"]}, {"t": -1}, {"t": "100"}, {"w": -1}, {"w": 1.5}],
    ids=["ext-array", "ext-string", "ext-int", "m-value-int", "m-array", "t-negative", "t-string", "w-negative", "w-float"],
)
async def test_s2_ext_with_wrong_field_types_bad_frame_on_call(calc: Conn, ext: object) -> None:
    """`ext` must be a map (or null/absent) of `m` (string map), `t` and `w` (unsigned
    integers): otherwise BAD_FRAME on the call."""
    await calc.send([CALL, 1, "add", {"a": 1, "b": 2}, ext])
    assert_error(await calc.recv(), 1, BAD_FRAME, reason_data)
    await calc.quiet()
    await calc.serving()


async def test_s2_undeclared_extra_params_ignored(calc: Conn) -> None:
    await calc.send([CALL, 1, "add", {"a": 1, "b": 2, "c": 40}])
    assert await calc.recv() == [RESULT, 1, 3]


async def test_s2_int64_exact_in_both_encodings(calc: Conn) -> None:
    """64-bit integers carry every digit (JSON: plain numbers, parsed exactly)."""
    await calc.send([CALL, 1, "add", {"a": 4611686018427387904, "b": 1}])
    f = await calc.recv()
    assert f == [RESULT, 1, 4611686018427387905] and type(f[2]) is int, f
    await calc.send([CALL, 3, "add", {"a": -9007199254740993, "b": -2}])
    assert await calc.recv() == [RESULT, 3, -9007199254740995]
    if calc.enc == "json":
        await calc.send_raw('[0,5,"add",{"a":9223372036854775806,"b":1}]')
        raw = await calc.recv_message()
        assert "9223372036854775807" in raw, raw


async def test_s2_integer_param_written_as_float_invalid_params(calc: Conn) -> None:
    """Strict: an integer parameter written as `1.0` is INVALID_PARAMS naming it."""
    await calc.send([CALL, 1, "add", {"a": 1.0, "b": 2}])
    f = await calc.recv()
    assert_error(f, 1, volleyc.INVALID_PARAMS)
    assert volleyc.error_paths(f) == ["a"], f
    await calc.serving()


async def test_s2_absent_metadata_means_none(streams: Conn) -> None:
    """`metadata`/`trailers`: `{}` or absent means none. `[8, id]` is a META with no
    entries (no error), and `[4, id]` an END without trailers."""
    c = streams
    await c.send([CALL, 1, "sum", {}, {"m": {"scale": "2"}}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([ITEM, 1, 2])
    await c.send([META, 1])
    await c.send([META, 1, {}])
    await c.send([END, 1])
    assert await c.recv() == [RESULT, 1, 4, {"count": "1"}]
    await c.quiet()


async def test_s2_params_array_is_bad_frame(calc: Conn) -> None:
    """`params` MUST be a map: positional params (`add [1, 2]`) are a broken frame,
    BAD_FRAME on the call, which uses up its id; the connection goes on."""
    c = calc
    await c.send([CALL, 1, "add", [1, 2]])
    assert_error(await c.recv(), 1, BAD_FRAME, reason_data)
    await c.send([CALL, 1, "add", {"a": 1, "b": 2}])
    assert_error(await c.recv(), 0, DUPLICATE_CALL_ID, {"id": 1, "frame": "CALL"})
    await c.serving()


async def test_s2_non_finite_result_json_internal_msgpack_float(streams: Conn) -> None:
    """JSON has no NaN or infinity: a result holding one fails its call with INTERNAL on a
    JSON connection (never `null`); MessagePack carries it as a float. (`sum` of
    1e308 + 1e308 is infinity.)"""
    import math

    c = streams
    await c.send([CALL, 1, "sum", {}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([ITEM, 1, 1e308])
    await c.send([ITEM, 1, 1e308])
    await c.send([END, 1])
    f = await c.recv()
    if c.enc == "json":
        assert_error(f, 1, volleyc.INTERNAL)
    else:
        assert f[:2] == [RESULT, 1] and isinstance(f[2], float) and math.isinf(f[2]) and f[2] > 0, f
    await c.quiet()
    await c.serving()
