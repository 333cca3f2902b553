"""Section 14: long-running operations (the device example's `device.calibrate`, which
answers at once for 0 axes and is otherwise an operation reporting each axis)."""

from __future__ import annotations

from typing import Any

from volleyc import CALL, ERROR, META, NOTIFY, RESULT, Conn, assert_error, describe

OPERATION_NOT_FOUND = 407


async def start(c: Conn, params: dict[str, Any]) -> tuple[int, str]:
    """Calls `device.calibrate`; returns the call id and the operation id from the
    leading metadata, which comes first."""
    cid = c.new_id()
    await c.send([CALL, cid, "device.calibrate", params])
    f = await c.recv()
    assert f[0] == META and f[1] == cid, f"the operation id comes first: {describe(f)}"
    op = f[2]["volley-operation"]
    assert isinstance(op, str) and len(op) == 32 and int(op, 16) >= 0, f
    return cid, op


async def rest(c: Conn, cid: int) -> tuple[list[Any], list]:
    """The progress notifications, then the call's final frame."""
    progress = []
    while True:
        f = await c.recv()
        if f[0] == NOTIFY:
            assert f[1] == "volley.operation", describe(f)
            progress.append(f[2])
            continue
        assert f[1] == cid and f[0] in (RESULT, ERROR), describe(f)
        return progress, f


async def unused_resume(c: Conn) -> None:
    await c.result("device.resume", {"by": "conformance"})


async def test_s14_answered_at_once_is_a_plain_result(device: Conn) -> None:
    """0 axes: RESULT with no leading metadata, no operation."""
    await unused_resume(device)
    frames = await device.call("device.calibrate", {"axes": 0})
    assert frames == [[RESULT, frames[0][1], {"offsets": []}]], frames


async def test_s14_accepted_sends_id_progress_then_result(device: Conn) -> None:
    await unused_resume(device)
    cid, op = await start(device, {"axes": 2, "step_ms": 10})
    progress, final = await rest(device, cid)
    assert progress == [{"id": op, "progress": {"axis": 1, "of": 2}}, {"id": op, "progress": {"axis": 2, "of": 2}}]
    assert final == [RESULT, cid, {"offsets": [0.01, 0.02]}], describe(final)
    got = await device.result("volley.operation.get", {"id": op})
    assert got == {"id": op, "method": "device.calibrate", "done": True, "progress": {"axis": 2, "of": 2}, "result": {"offsets": [0.01, 0.02]}}


async def test_s14_result_fetched_after_the_connection_is_lost(enc: str, opener) -> None:
    """The worked example: the caller's connection goes, `wait` on a new one answers."""
    first: Conn = await opener("device", enc)
    await unused_resume(first)
    _, op = await start(first, {"axes": 2, "step_ms": 100})
    await first.close()
    second: Conn = await opener("device", enc)
    cid = second.new_id()
    await second.send([CALL, cid, "volley.operation.wait", {"id": op}])
    progress, final = await rest(second, cid)
    assert final == [RESULT, cid, {"offsets": [0.01, 0.02]}], describe(final)
    assert progress and progress[-1] == {"id": op, "progress": {"axis": 2, "of": 2}}, progress


async def test_s14_list_and_cancel(device: Conn) -> None:
    """`list` has the connection's operations; `cancel` ends one with CANCELLED, once."""
    await unused_resume(device)
    cid, op = await start(device, {"axes": 8, "step_ms": 1000})
    listed = await device.result("volley.operation.list", {})
    assert [o["id"] for o in listed][-1] == op and listed[-1]["done"] is False, listed
    ccid = device.new_id()
    await device.send([CALL, ccid, "volley.operation.cancel", {"id": op}])
    seen = {}
    while len(seen) < 2:
        f = await device.recv()
        if f[0] == NOTIFY:
            continue
        seen[f[1]] = f
    assert seen[ccid] == [RESULT, ccid, True], describe(seen[ccid])
    assert_error(seen[cid], cid, 499)
    assert await device.result("volley.operation.cancel", {"id": op}) is False, "a cancel of an ended operation changes nothing"
    got = await device.result("volley.operation.get", {"id": op})
    assert got["done"] is True and got["error"]["code"] == 499, got


async def test_s14_unknown_id(device: Conn) -> None:
    for method in ("volley.operation.get", "volley.operation.wait", "volley.operation.cancel"):
        frames = await device.call(method, {"id": "0" * 32})
        assert_error(frames[-1], frames[-1][1], OPERATION_NOT_FOUND, {"id": "0" * 32}, what=method)
    await device.serving()


async def test_s14_schema_marks_the_operation(device: Conn) -> None:
    doc = await device.result("volley.introspect")
    m = next(m for m in doc["methods"] if m["name"] == "device.calibrate")
    assert m["kind"] == "unary" and "progress" in m["operation"], m
    names = {m["name"] for m in doc["methods"]}
    assert {"volley.operation.get", "volley.operation.wait", "volley.operation.cancel", "volley.operation.list"} <= names
