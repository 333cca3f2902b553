"""Section 13: state machines (the machines example: a traffic light `light` that starts
in `red`, and a login flow `login` that starts in `logged_out`)."""

from __future__ import annotations

from typing import Any

from volleyc import CALL, ERROR, NOTIFY, RESULT, Conn, assert_error, describe, error_paths

EVENT_NOT_ALLOWED = 405
TRANSITION_NOT_ALLOWED = 406
METHOD_NOT_FOUND = 404
INVALID_PARAMS = 422


async def event(c: Conn, machine: str, name: str, data: Any = None) -> tuple[list[Any], list]:
    """Sends `<machine>.<event>` with `{"data": data}`; returns the pushes on the
    machine's topic that came before the answer, and the answer."""
    cid = c.new_id()
    await c.send([CALL, cid, f"{machine}.{name}", {"data": data}])
    pushes: list[Any] = []
    while True:
        f = await c.recv()
        if f[0] == NOTIFY:
            assert f[1] == machine, f"a push on another topic: {describe(f)}"
            pushes.append(f[2])
            continue
        assert f[1] == cid and f[0] in (RESULT, ERROR), f"while waiting for event {name}: {describe(f)}"
        return pushes, f


async def where(c: Conn, machine: str) -> Any:
    return await c.result("volley.machine", {"machine": machine})


async def test_s13_a_session_starts_in_the_initial_state(machines: Conn) -> None:
    """`volley.machine` says where the session is: the first state of the schema."""
    doc = await machines.result("volley.introspect")
    light = next(m for m in doc["machines"] if m["name"] == "light")
    first = light["states"][0]
    assert await where(machines, "light") == {"state": first["name"], "events": sorted(e["name"] for e in first["events"])}


async def test_s13_transition_is_pushed_before_the_result(machines: Conn) -> None:
    """The worked example: `light.go` pushes the transition to green, then answers."""
    pushes, answer = await event(machines, "light", "go", {"seconds": 30})
    assert pushes == [{"state": "green", "events": ["ping", "skip", "slow"], "status": 200, "data": {"seconds": 30}}]
    assert answer[0] == RESULT and answer[2] == 30, describe(answer)
    assert await where(machines, "light") == {"state": "green", "events": ["ping", "skip", "slow"]}


async def test_s13_data_event_without_transition(machines: Conn) -> None:
    """A data event is `{status, data}` with no `state`; the state stays."""
    await event(machines, "light", "go", {"seconds": 5})
    pushes, answer = await event(machines, "light", "ping")
    assert pushes == [{"status": 200, "data": {"pings": answer[2]}}], pushes
    assert (await where(machines, "light"))["state"] == "green"


async def test_s13_event_not_in_the_current_state(machines: Conn) -> None:
    """EVENT_NOT_ALLOWED names the current state and the events it accepts."""
    pushes, answer = await event(machines, "light", "slow")
    assert pushes == []
    assert_error(answer, answer[1], EVENT_NOT_ALLOWED, {"machine": "light", "state": "red", "event": "slow", "events": ["go"]})
    await machines.serving()


async def test_s13_unknown_event_is_method_not_found(machines: Conn) -> None:
    """An event of no state is METHOD_NOT_FOUND, namespace the machine."""
    _, answer = await event(machines, "light", "fly")
    assert_error(answer, answer[1], METHOD_NOT_FOUND, lambda d: d["namespace"] == "light" and "go" in d["available"] and d["missing"] == "fly")


async def test_s13_forbidden_transition_changes_nothing(machines: Conn) -> None:
    """`light.skip` tries green -> red, not a target: TRANSITION_NOT_ALLOWED, no push."""
    await event(machines, "light", "go", {"seconds": 5})
    pushes, answer = await event(machines, "light", "skip")
    assert pushes == []
    assert_error(answer, answer[1], TRANSITION_NOT_ALLOWED, {"machine": "light", "from": "green", "to": "red", "targets": ["yellow"]})
    assert (await where(machines, "light"))["state"] == "green"


async def test_s13_wrong_data_is_invalid_params(machines: Conn) -> None:
    """Data of the wrong type: INVALID_PARAMS with paths under `data`."""
    _, answer = await event(machines, "light", "go", {"seconds": "soon"})
    assert_error(answer, answer[1], INVALID_PARAMS)
    assert error_paths(answer) == ["data.seconds"], describe(answer)
    _, answer = await event(machines, "light", "go")
    assert_error(answer, answer[1], INVALID_PARAMS)


async def test_s13_racing_events_run_in_arrival_order(machines: Conn) -> None:
    """Events sent together are checked one after another: go, slow and stop all pass."""
    ids = []
    for name, data in [("go", {"seconds": 1}), ("slow", None), ("stop", None)]:
        cid = machines.new_id()
        ids.append(cid)
        await machines.send([CALL, cid, f"light.{name}", {"data": data}])
    states, answered = [], []
    while len(answered) < 3:
        f = await machines.recv()
        if f[0] == NOTIFY:
            states.append(f[2]["state"])
        else:
            assert f[0] == RESULT, describe(f)
            answered.append(f[1])
    assert states == ["green", "yellow", "red"] and answered == ids


async def test_s13_each_connection_has_its_own_session(enc: str, opener) -> None:
    """A session belongs to its connection; a new connection starts again."""
    a: Conn = await opener("machines", enc)
    b: Conn = await opener("machines", enc)
    await event(a, "light", "go", {"seconds": 3})
    assert (await where(a, "light"))["state"] == "green"
    assert (await where(b, "light"))["state"] == "red"
    await b.quiet()


async def test_s13_login_flow_locks_after_three_failures(machines: Conn) -> None:
    """Wrong passwords answer with 401 data events, the third locks (status 403)."""
    wrong = {"user": "ada", "password": "nope"}
    for left in (2, 1):
        pushes, answer = await event(machines, "login", "login", wrong)
        assert pushes == [{"status": 401, "data": {"message": "wrong password for ada", "attempts_left": left}}]
        assert answer[2] is False
    pushes, _ = await event(machines, "login", "login", wrong)
    assert pushes == [{"state": "locked", "events": ["unlock"], "status": 403, "data": {"attempts": 3}}]
    _, answer = await event(machines, "login", "unlock", {"code": "0000"})
    assert_error(answer, answer[1], 403)
    pushes, _ = await event(machines, "login", "unlock", {"code": "1234"})
    assert pushes[0]["state"] == "logged_out"
    pushes, answer = await event(machines, "login", "login", {"user": "ada", "password": "volley"})
    assert pushes == [{"state": "logged_in", "events": ["logout", "whoami"], "status": 200, "data": {"user": "ada", "greeting": "welcome, ada"}}]
    _, answer = await event(machines, "login", "whoami")
    assert answer[2] == "ada"


async def test_s13_unknown_machine(machines: Conn) -> None:
    """`volley.machine` for a machine the server does not have: INVALID_PARAMS `machine`."""
    frames = await machines.call("volley.machine", {"machine": "nope"})
    assert_error(frames[-1], frames[-1][1], INVALID_PARAMS)
    assert error_paths(frames[-1]) == ["machine"]
