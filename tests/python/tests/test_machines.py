"""The machines example's generated SDK against the running server, in both encodings:
a session's `current` state narrowed with `isinstance` to the events it accepts,
transitions and data events through callbacks and `async for`, the errors of an event
the state does not have and of a forbidden transition, and the login flow."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import pytest
from machines_client import (
    Client,
    Credentials,
    DataEvent,
    ErrorCode,
    Go,
    Green,
    Hint,
    LightGreen,
    LightRed,
    LightYellow,
    Locked,
    LoginLocked,
    LoginLoggedIn,
    LoginLoggedOut,
    Pong,
    Profile,
    Transition,
    Unlock,
    VolleyError,
)

from conftest import server_url


@pytest.fixture
async def client(encoding: str) -> AsyncIterator[Client]:
    async with Client.connect(server_url("machines"), encoding=encoding) as c:
        yield c


async def test_a_light_goes_round_each_state_offering_only_its_events(client: Client) -> None:
    light = client.machines.light
    seen: list[Transition] = []
    light.on_transition(seen.append)
    assert light.state == "red" and light.events == ("go",)
    red = light.current
    assert isinstance(red, LightRed) and not hasattr(red, "slow")
    assert await red.go(Go(seconds=30)) == 30
    # The transition arrived before the result.
    green = light.current
    assert isinstance(green, LightGreen)
    assert green.data == Green(seconds=30), "the transition's data, decoded to the state's type"
    await green.slow()
    yellow = light.current
    assert isinstance(yellow, LightYellow)
    await yellow.stop()
    assert [(t.state, t.status) for t in seen] == [("green", 200), ("yellow", 200), ("red", 200)]
    assert seen[0].data == Green(seconds=30) and sorted(seen[0].events) == ["ping", "skip", "slow"]


async def test_transitions_by_async_for_and_data_events(client: Client) -> None:
    light = client.machines.light
    data: list[DataEvent[Pong]] = []
    light.on_data(data.append)

    async def watch() -> list[str]:
        states = []
        async for t in light.transitions():
            states.append(t.state)
            if t.state == "red":
                return states
        return states

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0)
    red = light.current
    assert isinstance(red, LightRed)
    await red.go(Go(seconds=5))
    green = light.current
    assert isinstance(green, LightGreen)
    pings = await green.ping()
    assert data == [DataEvent(200, Pong(pings=pings))], "the data event came before the result"
    assert light.state == "green", "a data event is no transition"
    await green.slow()
    yellow = light.current
    assert isinstance(yellow, LightYellow)
    await yellow.stop()
    assert await asyncio.wait_for(watcher, 5) == ["green", "yellow", "red"]


async def test_refused_events_change_nothing(client: Client) -> None:
    light = client.machines.light
    with pytest.raises(VolleyError) as e:
        await light.send("slow")
    assert e.value.code == ErrorCode.EVENT_NOT_ALLOWED
    assert e.value.data == {"machine": "light", "state": "red", "event": "slow", "events": ["go"]}
    with pytest.raises(VolleyError) as e:
        await light.send("go", {"seconds": "soon"})
    assert e.value.code == ErrorCode.INVALID_PARAMS
    red = light.current
    assert isinstance(red, LightRed)
    await red.go(Go(seconds=1))
    green = light.current
    assert isinstance(green, LightGreen)
    with pytest.raises(VolleyError) as e:
        await green.skip()
    assert e.value.code == ErrorCode.TRANSITION_NOT_ALLOWED
    assert e.value.data["targets"] == ["yellow"]
    assert await light.sync() == "green", "the server's session is still green"


async def test_a_login_flow_locks_then_logs_in(client: Client) -> None:
    login = client.machines.login
    hints: list[DataEvent[Hint]] = []
    login.on_data(hints.append)
    for _ in range(3):
        out = login.current
        assert isinstance(out, LoginLoggedOut)
        assert await out.login(Credentials(user="ada", password="wrong")) is False
    assert [(h.status, h.data.attempts_left) for h in hints] == [(401, 2), (401, 1)]
    locked = login.current
    assert isinstance(locked, LoginLocked) and locked.data == Locked(attempts=3)
    with pytest.raises(VolleyError) as e:
        await locked.unlock(Unlock(code="0000"))
    assert e.value.code == ErrorCode.PERMISSION_DENIED
    await locked.unlock(Unlock(code="1234"))
    out = login.current
    assert isinstance(out, LoginLoggedOut)
    await out.login(Credentials(user="ada", password="volley"))
    inside = login.current
    assert isinstance(inside, LoginLoggedIn)
    assert inside.data == Profile(user="ada", greeting="welcome, ada")
    assert await inside.whoami() == "ada"
    match login.current:
        case LoginLoggedIn() as s:
            await s.logout()
        case other:
            raise AssertionError(f"expected logged_in, got {other.state}")
    assert login.state == "logged_out"


async def test_each_connection_has_its_own_session(encoding: str) -> None:
    async with Client.connect(server_url("machines"), encoding=encoding) as a, Client.connect(server_url("machines"), encoding=encoding) as b:
        red = a.machines.light.current
        assert isinstance(red, LightRed)
        await red.go(Go(seconds=3))
        assert await a.machines.light.sync() == "green"
        assert await b.machines.light.sync() == "red"
