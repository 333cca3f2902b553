"""Section 6: metadata (client, leading, trailing), its limit and reserved keys."""

from __future__ import annotations

import pytest

import volleyc
from volleyc import BAD_FRAME, CALL, CREDIT, END, ITEM, META, PROTOCOL_VIOLATION, RESULT, STOP, Conn, assert_error, describe, reason_data


def many(n: int, prefix: str = "k") -> dict[str, str]:
    return {f"{prefix}{i:03}": str(i) for i in range(n)}


async def test_s6_client_metadata_in_ext_m(streams: Conn) -> None:
    """`ext.m` reaches the handler; the example echoes it as leading META (before the
    RESULT, at most once) and as trailers."""
    c = streams
    await c.send([CALL, 1, "echo_metadata", {}, {"m": {"a": "1", "b": "two"}}])
    frames = await c.until_final(1)
    assert frames == [
        [META, 1, {"echo-a": "1", "echo-b": "two"}],
        [RESULT, 1, {"a": "1", "b": "two"}, {"echo-a": "1", "echo-b": "two"}],
    ], frames


async def test_s6_no_metadata_no_leading_meta(streams: Conn) -> None:
    await streams.send([CALL, 1, "echo_metadata", {}])
    assert await streams.until_final(1) == [[RESULT, 1, {}]]


async def test_s6_keys_case_sensitive_kept_as_sent(streams: Conn) -> None:
    c = streams
    m = {"Trace": "A", "trace": "b", "X-Mixed_Case.key": "v v"}
    await c.send([CALL, 1, "echo_metadata", {}, {"m": m}])
    frames = await c.until_final(1)
    assert frames[-1][:3] == [RESULT, 1, m], frames


async def test_s6_leading_meta_once_before_first_item_trailers_on_end(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "countdown", {"from": 2, "interval_ms": 0}])
    frames = await c.until_final(1)
    assert frames == [[META, 1, {"countdown-from": "2"}], [ITEM, 1, 2], [ITEM, 1, 1], [END, 1, {"countdown-finished": "true"}]], frames


async def test_s6_meta_during_caller_stream_merges(streams: Conn) -> None:
    """META frames during the caller's stream merge into the call's client metadata; a key
    sent again replaces its value (`sum` multiplies by metadata `scale`)."""
    c = streams
    await c.send([CALL, 1, "sum", {}, {"m": {"scale": "2", "other": "x"}}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([ITEM, 1, 1])
    await c.send([META, 1, {"scale": "3"}])
    await c.send([ITEM, 1, 2])
    await c.send([END, 1])
    assert await c.recv() == [RESULT, 1, 9, {"count": "2"}]


async def test_s6_meta_on_call_without_caller_stream_accepted(streams: Conn) -> None:
    """Lenient, documented: META from a caller on a call with no caller stream is accepted
    (the call goes on and answers normally)."""
    c = streams
    await c.send([CALL, 1, "sleep", {"ms": 200}])
    await c.send([META, 1, {"late": "yes"}])
    assert await c.recv() == [RESULT, 1, 200]
    await c.send([CALL, 3, "countdown", {"from": 1, "interval_ms": 100}])
    await c.send([META, 3, {"late": "yes"}])
    assert await c.until_final(3) == [[META, 3, {"countdown-from": "1"}], [ITEM, 3, 1], [END, 3, {"countdown-finished": "true"}]]
    await c.quiet()


async def test_s6_128_entries_in_ext_m_accepted(streams: Conn) -> None:
    c = streams
    m = many(128)
    await c.send([CALL, 1, "echo_metadata", {}, {"m": m}])
    frames = await c.until_final(1)
    assert frames[-1][:3] == [RESULT, 1, m], [describe(f) for f in frames]


async def test_s6_129_entries_in_ext_m_protocol_violation(streams: Conn) -> None:
    """The 128-entry limit applies to the CALL's `ext.m` too."""
    c = streams
    await c.send([CALL, 1, "echo_metadata", {}, {"m": many(129)}])
    # The CALL that brought too much client metadata is named in the data.
    assert_error(await c.recv(), 1, PROTOCOL_VIOLATION, {"id": 1, "frame": "CALL"})
    await c.quiet()
    await c.serving()


async def test_s6_meta_growing_past_128_protocol_violation(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "sum", {}, {"m": many(100)}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([META, 1, many(28, "j")])  # 128: still fine
    await c.send([META, 1, many(100)])  # replacing keys does not grow it
    await c.send([ITEM, 1, 1])
    await c.send([META, 1, {"one-more": "x"}])  # 129
    f = await c.recv()
    if f == [STOP, 1]:  # the callee may ask the caller's stream to stop first
        f = await c.recv()
    assert_error(f, 1, PROTOCOL_VIOLATION, {"id": 1, "frame": "META"})  # the META that went past
    await c.send([END, 1])  # stale
    await c.quiet()
    await c.serving()


async def test_s6_meta_up_to_128_accepted(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "sum", {}, {"m": many(100)}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([META, 1, many(27, "j")])  # 127
    await c.send([META, 1, {"scale": "2", **many(27, "j")}])  # "scale" is entry 128
    await c.send([ITEM, 1, 21])
    await c.send([END, 1])
    assert await c.recv() == [RESULT, 1, 42, {"count": "1"}]


@pytest.mark.parametrize("key", ["volley-trace", "volley-"], ids=["volley-trace", "bare-prefix"])
async def test_s6_reserved_volley_key_in_ext_m_protocol_violation(streams: Conn, key: str) -> None:
    """Strict: client metadata keys starting with `volley-` are reserved."""
    c = streams
    await c.send([CALL, 1, "echo_metadata", {}, {"m": {key: "1"}}])
    assert_error(await c.recv(), 1, PROTOCOL_VIOLATION, {"id": 1, "frame": "CALL"})
    await c.quiet()
    await c.serving()


async def test_s6_reserved_volley_key_in_meta_protocol_violation(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "sum", {}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([META, 1, {"volley-x": "1"}])
    f = await c.recv()
    if f == [STOP, 1]:
        f = await c.recv()
    assert_error(f, 1, PROTOCOL_VIOLATION, {"id": 1, "frame": "META"})
    await c.quiet()
    await c.serving()


async def test_s6_similar_but_unreserved_keys_accepted(streams: Conn) -> None:
    """Only the exact prefix `volley-` is reserved (keys are case-sensitive)."""
    c = streams
    m = {"Volley-x": "1", "volleyx": "2", "x-volley-y": "3"}
    await c.send([CALL, 1, "echo_metadata", {}, {"m": m}])
    frames = await c.until_final(1)
    assert frames[-1][:3] == [RESULT, 1, m], frames


@pytest.mark.parametrize("md", [{"k": 1}, ["k", "v"], "k=v", {"k": None}], ids=["int-value", "array", "string", "null-value"])
async def test_s6_meta_not_a_string_map_bad_frame(streams: Conn, md: object) -> None:
    c = streams
    await c.send([CALL, 1, "sum", {}])
    f = await c.recv()
    assert f[0] == CREDIT and f[1] == 1, f
    await c.send([META, 1, md])
    f = await c.recv()
    if f == [STOP, 1]:
        f = await c.recv()
    assert_error(f, 1, BAD_FRAME, reason_data)
    await c.quiet()
    await c.serving()
