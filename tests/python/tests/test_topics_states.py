"""Topics and shared state: the streams example's `jobs.finished` topic and `jobs` state
against the running server in both encodings (including a reconnect), and the client's
buffering, DATA_LOSS warnings and patch recovery against a scripted server."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any, AsyncIterator

import pytest
from conftest import server_url
from test_streams import free_port, start_server, wait_listening
from websockets.asyncio.server import ServerConnection, serve

from streams_client import (
    Backoff,
    CallOptions,
    Client,
    JobEventDone,
    JobResult,
    Notification,
    VolleyWarning,
)
from streams_client._runtime.frames import NOTIFY
from streams_client._runtime.state import States
from streams_client._runtime.topics import Topics

_names = itertools.count()


@pytest.fixture
async def streams(encoding: str) -> AsyncIterator[Client]:
    async with Client.connect(server_url("streams"), encoding=encoding) as client:
        yield client


def job_name(what: str, encoding: str) -> str:
    """A job name no other test uses (the server refuses a name that is running)."""
    return f"{what}-{encoding}-{next(_names)}"


async def result_of(sub: AsyncIterator[JobResult], name: str) -> JobResult:
    """The first result on `jobs.finished` of the job `name`."""
    async def find() -> JobResult:
        async for result in sub:
            if result.name == name:
                return result
        raise AssertionError("the subscription ended")

    return await asyncio.wait_for(find(), 10)


async def test_a_watcher_sees_a_job_run_and_finish(encoding: str) -> None:
    url = server_url("streams")
    name = job_name("watched", encoding)
    async with Client.connect(url, encoding=encoding) as watcher, Client.connect(url, encoding=encoding) as runner:
        async with watcher.states.jobs() as jobs, watcher.topics.jobs_finished() as finished:
            assert jobs.value is None or name not in jobs.value
            events = await runner.job.run(name=name, steps=4, step_ms=20).collect()
            done = events[-1]
            assert isinstance(done, JobEventDone)

            seen: list[dict[str, int]] = []

            async def follow() -> None:
                async for snapshot in jobs:
                    seen.append(dict(snapshot))
                    if name not in snapshot and any(name in s for s in seen):
                        return

            await asyncio.wait_for(follow(), 10)
            progress = [s[name] for s in seen if name in s]
            # It appears at 0, climbs step by step to 100, then disappears.
            assert progress == [0, 25, 50, 75, 100]
            assert jobs.value is not None and name not in jobs.value
            assert jobs.version >= 6

            result = await result_of(finished, name)
            assert isinstance(result, JobResult)
            assert result == done.result
            assert result.checksum > 2**53  # a u64 kept whole in both encodings
            assert finished.dropped == 0 and finished.server_dropped == 0
        # Leaving the blocks unsubscribed both.
        conn = watcher.connection
        assert conn.extension(Topics).subs == {} and conn.extension(States).subs == {}


async def test_wait_for_a_state(streams: Client, encoding: str) -> None:
    name = job_name("waited", encoding)
    async with streams.states.jobs() as jobs:
        run = asyncio.ensure_future(streams.job.run(name=name, steps=3, step_ms=100).collect())
        at_least_half = await jobs.wait_for(lambda j: j.get(name, 0) >= 50, timeout=10)
        assert at_least_half[name] in (66, 100)
        await run
        gone = await jobs.wait_for(lambda j: name not in j, timeout=10)
        assert name not in gone


async def test_a_wildcard_subscription_names_the_topic(streams: Client, encoding: str) -> None:
    name = job_name("wildcard", encoding)
    async with streams.topics.subscribe("jobs.*") as sub:
        await streams.job.run(name=name, steps=1, step_ms=1).collect()

        async def find() -> Notification[Any]:
            async for n in sub:
                if isinstance(n.value, JobResult) and n.value.name == name:
                    return n
            raise AssertionError("the subscription ended")

        note = await asyncio.wait_for(find(), 10)
    assert note.topic == "jobs.finished"
    assert note.value.steps == 1


async def test_leaving_the_block_unsubscribes(streams: Client, encoding: str) -> None:
    topics = streams.connection.extension(Topics)
    received: list[str] = []
    on_frame = topics.on_frame

    def counting(frame: list[Any]) -> bool:
        if frame[0] == NOTIFY:
            received.append(str(frame[1]))
        return on_frame(frame)

    topics.on_frame = counting  # type: ignore[method-assign]

    async def run_and_settle(name: str) -> None:
        await streams.job.run(name=name, steps=1, step_ms=1).collect()
        # The server queues the notification before the job's last event; a round trip
        # on this connection afterwards lets it arrive.
        await streams.stats()
        await asyncio.sleep(0.1)

    async with streams.topics.jobs_finished() as sub:
        await run_and_settle(job_name("subscribed", encoding))
        assert received == ["jobs.finished"]
        assert (await sub.__anext__()).steps == 1
    await run_and_settle(job_name("unsubscribed", encoding))
    assert received == ["jobs.finished"]
    # Reading a closed subscription ends at once.
    assert [r async for r in sub] == []


async def test_two_mirrors_of_one_state_share_the_subscription(streams: Client, encoding: str) -> None:
    name = job_name("shared", encoding)
    async with streams.states.jobs() as first:
        run = asyncio.ensure_future(streams.job.run(name=name, steps=2, step_ms=200).collect())
        await first.wait_for(lambda j: name in j, timeout=10)
        async with streams.states.jobs() as second:
            # The second starts from the document the connection already has.
            assert second.value is not None and name in second.value
        # Closing the second leaves the first subscribed.
        done = await first.wait_for(lambda j: name not in j, timeout=10)
        assert name not in done
        await run


async def test_subscriptions_are_renewed_after_a_reconnect(encoding: str) -> None:
    port = free_port()
    server = start_server(port)
    try:
        await wait_listening(port)
        url = f"ws://127.0.0.1:{port}/"
        async with Client.connect(url, encoding=encoding, reconnect=Backoff(initial=0.05, maximum=0.2)) as client:
            async with client.topics.jobs_finished() as finished, client.states.jobs() as jobs:
                await client.job.run(name="before", steps=1, step_ms=1).collect()
                assert (await result_of(finished, "before")).name == "before"
                server.kill()
                server.wait()
                server = start_server(port)
                await wait_listening(port)
                # A call waits for the new connection.
                assert await client.sleep(ms=1, options=CallOptions(timeout=10)) == 1
                await asyncio.sleep(0.2)  # the renewed subscription is on its way
                async with Client.connect(url, encoding=encoding) as runner:
                    await runner.job.run(name="after", steps=2, step_ms=50).collect()
                assert (await result_of(finished, "after")).steps == 2
                assert await jobs.wait_for(lambda j: "after" not in j, timeout=10) == {}
                assert jobs.value == {}
    finally:
        server.kill()
        server.wait()


# ---- against a scripted server ----


class Scripted:
    """A volley server that answers `volley.subscribe` with the frames a test scripts."""

    def __init__(self) -> None:
        self.on_subscribe: list[list[Any]] = []
        self.on_resubscribe: list[list[Any]] = []
        self.calls: list[tuple[str, Any]] = []

    async def handle(self, ws: ServerConnection) -> None:
        async for data in ws:
            frame = json.loads(data)
            if frame[0] != 0:
                continue
            _, call_id, method, params = frame[:4]
            self.calls.append((method, params))
            if method == "volley.subscribe":
                script = self.on_subscribe if sum(m == method for m, _ in self.calls) == 1 else self.on_resubscribe
                for f in script:
                    await ws.send(json.dumps(f))
            await ws.send(json.dumps([1, call_id, None]))


async def scripted(server: Scripted) -> AsyncIterator[str]:
    port = free_port()
    async with serve(server.handle, "127.0.0.1", port, subprotocols=["volley.v1.json"]):  # type: ignore[list-item]
        yield f"ws://127.0.0.1:{port}/"


@pytest.mark.parametrize(("overflow", "kept"), [("drop_oldest", [3, 4]), ("drop_newest", [0, 1])])
async def test_a_full_buffer_drops_and_counts_and_data_loss_is_reported(overflow: str, kept: list[int]) -> None:
    server = Scripted()
    server.on_subscribe = [[10, "ticks", i] for i in range(5)]
    server.on_subscribe.append([9, 0, 299, "notifications dropped", {"dropped": 3}])
    warnings: list[VolleyWarning] = []
    async for url in scripted(server):
        async with Client.connect(url, on_warning=warnings.append) as client:
            sub = client.topics.subscribe("ticks", buffer=2, overflow=overflow)  # type: ignore[arg-type]
            async with sub:
                assert sub.dropped == 3
                assert sub.server_dropped == 3
                assert sub.lost == 6
                got = [await sub.__anext__(), await sub.__anext__()]
                assert [n.value for n in got] == kept
            assert [(w.code, w.data) for w in warnings] == [(299, {"dropped": 3})]
            assert client.connection.notifications_dropped == 3
    assert server.calls == [("volley.subscribe", {"topics": ["ticks"]}), ("volley.unsubscribe", {"topics": ["ticks"]})]


async def test_every_patch_op_applies_and_a_bad_patch_fetches_the_whole_state() -> None:
    server = Scripted()
    server.on_subscribe = [
        [11, "board", [{"op": "replace", "path": "", "value": {"a": [1, 2], "b": {"c": 1}}}]],
        [11, "board", [
            {"op": "move", "from": "/b/c", "path": "/moved"},
            {"op": "copy", "from": "/a", "path": "/b/copy"},
            {"op": "test", "path": "/moved", "value": 1},
            {"op": "add", "path": "/a/-", "value": 3},
            {"op": "remove", "path": "/a/0"},
            {"op": "replace", "path": "/moved", "value": "x"},
        ]],
        # Does not apply: the mirror asks for the whole document again.
        [11, "board", [{"op": "remove", "path": "/nope"}]],
    ]
    server.on_resubscribe = [[11, "board", [{"op": "replace", "path": "", "value": {"fresh": True}}]]]
    async for url in scripted(server):
        async with Client.connect(url) as client:
            async with client.states.watch("board") as board:
                snapshots = []
                async for snapshot in board:
                    snapshots.append(snapshot)
                    if len(snapshots) == 3:
                        break
            assert snapshots == [
                {"a": [1, 2], "b": {"c": 1}},
                {"a": [2, 3], "b": {"copy": [1, 2]}, "moved": "x"},
                {"fresh": True},
            ]
    assert server.calls[:3] == [
        ("volley.subscribe", {"states": ["board"]}),
        ("volley.unsubscribe", {"states": ["board"]}),
        ("volley.subscribe", {"states": ["board"]}),
    ]
