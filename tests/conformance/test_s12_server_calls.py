"""Section 12: calls from the server (the streams example's `ask` calls `client.confirm`
on its caller, `sum_from_client` calls `client.numbers`)."""

from __future__ import annotations

import pytest

import volleyc
from volleyc import CALL, CANCEL, CREDIT, END, ERROR, ITEM, META, PROTOCOL_VIOLATION, RESULT, UNIMPLEMENTED, Conn, assert_error, describe


async def server_call(c: Conn, method: str) -> list:
    f = await c.recv()
    assert f[0] == CALL and f[2] == method, f"expected the server's CALL {method}, got {describe(f)}"
    assert f[1] > 0 and f[1] % 2 == 0, f"the server's ids are even: {describe(f)}"
    return f


@pytest.mark.parametrize("answer", [True, False])
async def test_s12_server_calls_client_unary(streams: Conn, answer: bool) -> None:
    c = streams
    await c.send([CALL, 1, "ask", {"question": "ok?"}])
    call = await server_call(c, "client.confirm")
    assert call[3] == {"question": "ok?"}, describe(call)
    await c.send([RESULT, call[1], answer])
    assert await c.recv() == [RESULT, 1, answer]
    await c.quiet()


async def test_s12_server_ids_even_and_increasing(streams: Conn) -> None:
    c = streams
    ids = []
    for i in (1, 3, 5):
        await c.send([CALL, i, "ask", {"question": str(i)}])
        call = await server_call(c, "client.confirm")
        ids.append(call[1])
        await c.send([RESULT, call[1], True])
        assert await c.recv() == [RESULT, i, True]
    assert ids == sorted(set(ids)) and all(i % 2 == 0 for i in ids), ids


async def test_s12_client_answers_unimplemented(streams: Conn) -> None:
    """A client that serves nothing answers the server's CALL with ERROR UNIMPLEMENTED;
    the server's handler gets that error (`ask` passes it on)."""
    c = streams
    await c.send([CALL, 1, "ask", {"question": "anyone?"}])
    call = await server_call(c, "client.confirm")
    await c.send([ERROR, call[1], UNIMPLEMENTED, "this client serves no methods"])
    assert_error(await c.recv(), 1, UNIMPLEMENTED)
    await c.serving()


async def test_s12_second_answer_is_stale(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "ask", {"question": "twice?"}])
    call = await server_call(c, "client.confirm")
    await c.send([RESULT, call[1], True])
    await c.send([RESULT, call[1], False])
    assert await c.recv() == [RESULT, 1, True]
    await c.quiet()
    await c.serving()


async def test_s12_client_serves_a_stream(streams: Conn) -> None:
    c = streams
    await c.send([CALL, 1, "sum_from_client", {"count": 3}])
    call = await server_call(c, "client.numbers")
    assert call[3] == {"count": 3}, describe(call)
    sid = call[1]
    for n in (10, 20, 12):
        await c.send([ITEM, sid, n])
    await c.send([END, sid, {"served-by": "conformance"}])
    assert await c.recv() == [RESULT, 1, 42]


async def test_s12_callee_leading_meta_then_items(streams: Conn) -> None:
    """Leading metadata from us, the callee, once before the first ITEM, is fine."""
    c = streams
    await c.send([CALL, 1, "sum_from_client", {"count": 2}])
    sid = (await server_call(c, "client.numbers"))[1]
    await c.send([META, sid, {"source": "test"}])
    await c.send([ITEM, sid, 1])
    await c.send([ITEM, sid, 2])
    await c.send([END, sid])
    assert await c.recv() == [RESULT, 1, 3]


@pytest.mark.parametrize("late", ["second-meta", "meta-after-item"])
async def test_s12_late_leading_meta_from_callee_cancelled(streams: Conn, late: str) -> None:
    """A second leading META, or one after the first ITEM, is PROTOCOL_VIOLATION: the
    server, as the caller, sends CANCEL with that code."""
    c = streams
    await c.send([CALL, 1, "sum_from_client", {"count": 5}])
    sid = (await server_call(c, "client.numbers"))[1]
    if late == "second-meta":
        await c.send([META, sid, {"a": "1"}])
        await c.send([META, sid, {"b": "2"}])
    else:
        await c.send([ITEM, sid, 1])
        await c.send([META, sid, {"a": "1"}])
    f = await c.recv()
    assert f[:3] == [CANCEL, sid, PROTOCOL_VIOLATION], f"expected CANCEL {sid} {PROTOCOL_VIOLATION}, got {describe(f)}"
    f = await c.recv()
    assert f[0] == ERROR and f[1] == 1, f"`sum_from_client` fails once its stream is cancelled: {describe(f)}"
    await c.send([ITEM, sid, 2])  # stale
    await c.quiet()
    await c.serving()


async def test_s12_item_on_unary_from_callee_cancelled(streams: Conn) -> None:
    """ITEM where the shape has no stream (answering the unary `client.confirm` with an
    ITEM): the server, as the caller, sends CANCEL with PROTOCOL_VIOLATION."""
    c = streams
    await c.send([CALL, 1, "ask", {"question": "item?"}])
    sid = (await server_call(c, "client.confirm"))[1]
    await c.send([ITEM, sid, True])
    f = await c.recv()
    assert f[:3] == [CANCEL, sid, PROTOCOL_VIOLATION], describe(f)
    f = await c.recv()
    assert f[0] == ERROR and f[1] == 1, describe(f)
    await c.serving()


async def test_s12_answer_for_server_id_not_yet_used_unknown_call(streams: Conn) -> None:
    """An answer for an even id above the server's highest is UNKNOWN_CALL on id 0."""
    c = streams
    await c.send([CALL, 1, "ask", {"question": "?"}])
    sid = (await server_call(c, "client.confirm"))[1]
    await c.send([RESULT, sid + 2, True])
    assert_error(await c.recv(), 0, volleyc.UNKNOWN_CALL, {"id": sid + 2, "frame": "RESULT"})
    await c.send([RESULT, sid, True])
    assert await c.recv() == [RESULT, 1, True]


async def test_s12_result_not_fitting_result_schema_bad_frame_locally(streams: Conn) -> None:
    """A RESULT whose value does not fit the method's `result` schema (client.confirm
    returns a boolean) fails the server's call locally with BAD_FRAME and tells us
    nothing; `ask` passes that error on."""
    c = streams
    await c.send([CALL, 1, "ask", {"question": "typed?"}])
    sid = (await server_call(c, "client.confirm"))[1]
    await c.send([RESULT, sid, "yes please"])
    f = await c.recv()
    assert_error(f, 1, volleyc.BAD_FRAME)
    await c.quiet()
    await c.serving()
