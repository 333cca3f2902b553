"""The streams example's generated SDK against the running server, in both encodings:
every stream shape, credit, cancel, stop, timeouts, metadata, typed errors, calls from
the server, and a dropped connection."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from typing import AsyncIterator, Callable

import pytest
from conftest import server_url
from streams_client import (
    Backoff,
    CallOptions,
    Client,
    ErrorCode,
    JobEventDone,
    JobEventProgress,
    JobErrorNothingToDo,
    JobRunError,
    Message,
    StatsReport,
    VolleyConnectionError,
    VolleyError,
)


class Handlers:
    """What this client answers when the server calls it."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    async def client_confirm(self, *, question: str) -> bool:
        self.questions.append(question)
        return question.endswith("?")

    async def client_numbers(self, *, count: int) -> AsyncIterator[int]:
        for n in range(1, count + 1):
            yield n


@pytest.fixture
async def handlers() -> Handlers:
    return Handlers()


@pytest.fixture
async def streams(encoding: str, handlers: Handlers) -> AsyncIterator[Client]:
    async with Client.connect(server_url("streams"), encoding=encoding, handlers=handlers) as client:
        yield client


async def wait_for_stats(client: Client, check: Callable[[StatsReport], bool]) -> StatsReport:
    """Polls `stats` until `check` holds (the server notices a cancel asynchronously)."""
    deadline = time.monotonic() + 5
    while True:
        report = await client.stats()
        if check(report) or time.monotonic() > deadline:
            return report
        await asyncio.sleep(0.05)




# ---- server streams ----


async def test_countdown_with_metadata_and_trailers(streams: Client) -> None:
    async with streams.countdown(from_=5, interval_ms=0) as stream:
        assert await stream.metadata() == {"countdown-from": "5"}
        items = [n async for n in stream]
        assert stream.trailers == {"countdown-finished": "true"}
    assert items == [5, 4, 3, 2, 1]


async def test_a_long_stream_through_a_small_window(streams: Client) -> None:
    # 200 items through a window of 2: the server may never run more than 2 ahead, and
    # this client fails the call (CREDIT_EXCEEDED) if it does.
    stream = streams.countdown(from_=200, interval_ms=0, options=CallOptions(window=2))
    assert await stream.collect() == list(range(200, 0, -1))


async def test_the_server_waits_for_credit(streams: Client) -> None:
    async with streams.countdown(from_=100, interval_ms=0, options=CallOptions(window=4)) as stream:
        first = await stream.__anext__()
        await asyncio.sleep(0.3)
        call = stream._call
        assert call is not None
        # Only what the window allowed arrived while nobody read.
        assert call.items.qsize() <= 4
        rest = [n async for n in stream]
    assert [first, *rest] == list(range(100, 0, -1))


async def test_stop_ends_the_stream_gracefully(streams: Client) -> None:
    before = await streams.stats()
    async with streams.countdown(from_=1000, interval_ms=20) as stream:
        got = [await stream.__anext__(), await stream.__anext__()]
        await stream.stop()
        got += [n async for n in stream]
        assert stream.trailers == {"countdown-finished": "false"}
    assert got[:2] == [1000, 999]
    assert len(got) < 20
    after = await wait_for_stats(streams, lambda r: r.stopped > before.stopped)
    assert after.stopped == before.stopped + 1


async def test_leaving_a_stream_early_cancels_it(streams: Client) -> None:
    before = await streams.stats()
    async with streams.countdown(from_=1000, interval_ms=20) as stream:
        assert await stream.__anext__() == 1000
    after = await wait_for_stats(streams, lambda r: r.cancelled > before.cancelled)
    assert after.cancelled == before.cancelled + 1
    with pytest.raises(VolleyError) as caught:
        await stream.__anext__()
    assert caught.value.code == ErrorCode.CANCELLED


async def test_job_events_are_a_tagged_union(streams: Client) -> None:
    events = await streams.job.run(name="build", steps=3, step_ms=1).collect()
    progress = [e for e in events if isinstance(e, JobEventProgress)]
    assert [p.percent for p in progress] == [33, 66, 100]
    assert progress[0].stage == "step 1 of 3"
    done = events[-1]
    assert isinstance(done, JobEventDone)
    assert done.result.name == "build" and done.result.steps == 3
    # The checksum is a u64 beyond 2^53: no precision lost in either encoding.
    checksum = 0xCBF29CE484222325
    for step in range(1, 4):
        checksum = ((checksum ^ step) * 0x100000001B3) % 2**64
    assert done.result.checksum == checksum


async def test_job_error_is_typed(streams: Client) -> None:
    with pytest.raises(JobRunError) as caught:
        await streams.job.run(name="idle", steps=0, step_ms=1).collect()
    assert caught.value.code == ErrorCode.APPLICATION
    assert isinstance(caught.value.data, JobErrorNothingToDo)


# ---- client streams ----


async def test_sum_of_a_list(streams: Client) -> None:
    assert await streams.sum([1.5, 2.5, 3]) == 7


async def test_sum_of_an_async_generator_beyond_the_window(streams: Client) -> None:
    async def numbers() -> AsyncIterator[float]:
        for n in range(1, 201):
            yield float(n)

    response = await streams.sum(numbers(), options=CallOptions(metadata={"scale": "2"})).with_metadata()
    assert response.value == 2 * sum(range(1, 201))
    assert response.trailers == {"count": "200"}


async def test_sum_of_nothing(streams: Client) -> None:
    assert await streams.sum([]) == 0


async def test_bad_metadata_is_an_error(streams: Client) -> None:
    with pytest.raises(VolleyError) as caught:
        await streams.sum([1.0], options=CallOptions(metadata={"scale": "lots"}))
    assert caught.value.code == ErrorCode.INVALID_PARAMS
    assert caught.value.trailers == {"count": "1"}


# ---- bidirectional streams ----


async def test_chat_echoes_as_it_goes(streams: Client) -> None:
    outbox: asyncio.Queue[Message | None] = asyncio.Queue()

    async def messages() -> AsyncIterator[Message]:
        while (m := await outbox.get()) is not None:
            yield m

    async with streams.chat(messages()) as replies:
        await outbox.put(Message(from_="ann", text="hi"))
        first = await replies.__anext__()
        assert first == Message(from_="echo", text="ann: HI")
        await outbox.put(Message(from_="bob", text="bye"))
        second = await replies.__anext__()
        assert second.text == "bob: BYE"
        await outbox.put(None)
        assert [m async for m in replies] == []


async def test_chat_many_messages(streams: Client) -> None:
    sent = [Message(from_=f"u{i}", text=f"m{i}") for i in range(100)]
    replies = await streams.chat(sent, options=CallOptions(window=3)).collect()
    assert [r.text for r in replies] == [f"u{i}: M{i}" for i in range(100)]


# ---- unary: timeouts, cancel, metadata ----


async def test_sleep(streams: Client) -> None:
    assert await streams.sleep(ms=10) == 10


async def test_timeout_is_sent_and_enforced(streams: Client) -> None:
    before = await streams.stats()
    started = time.monotonic()
    with pytest.raises(VolleyError) as caught:
        await streams.sleep(ms=5000, options=CallOptions(timeout=0.3))
    assert caught.value.code == ErrorCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 2
    after = await wait_for_stats(streams, lambda r: r.cancelled > before.cancelled)
    assert after.cancelled == before.cancelled + 1


async def test_timeout_of_a_stream(streams: Client) -> None:
    with pytest.raises(VolleyError) as caught:
        await streams.countdown(from_=100, interval_ms=100, options=CallOptions(timeout=0.3)).collect()
    assert caught.value.code == ErrorCode.DEADLINE_EXCEEDED


async def test_cancelling_the_task_cancels_the_call(streams: Client) -> None:
    before = await streams.stats()
    task = asyncio.ensure_future(streams.sleep(ms=10_000))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await wait_for_stats(streams, lambda r: r.cancelled > before.cancelled)
    assert after.cancelled == before.cancelled + 1
    # The connection goes on.
    assert await streams.sleep(ms=1) == 1


async def test_metadata_in_and_out(streams: Client) -> None:
    response = await streams.echo_metadata(options=CallOptions(metadata={"user": "ann", "trace": "7"})).with_metadata()
    assert response.value == {"user": "ann", "trace": "7"}
    assert response.metadata == {"echo-user": "ann", "echo-trace": "7"}
    assert response.trailers == {"echo-user": "ann", "echo-trace": "7"}


async def test_no_metadata(streams: Client) -> None:
    assert await streams.echo_metadata() == {}


# ---- calls from the server ----


async def test_the_server_asks_the_client(streams: Client, handlers: Handlers) -> None:
    assert await streams.ask(question="Ready?") is True
    assert await streams.ask(question="Go") is False
    assert handlers.questions == ["Ready?", "Go"]


async def test_the_server_reads_a_stream_from_the_client(streams: Client) -> None:
    # More numbers than the server's window: the handler's stream waits for credit.
    assert await streams.sum_from_client(count=500) == 500 * 501 // 2


async def test_a_client_without_handlers_refuses(encoding: str) -> None:
    async with Client.connect(server_url("streams"), encoding=encoding) as client:
        with pytest.raises(VolleyError):
            await client.ask(question="anyone?")


# ---- the connection ----


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(port: int) -> subprocess.Popen[bytes]:
    binary = os.environ.get("VOLLEY_STREAMS_BIN")
    if not binary:
        raise RuntimeError("VOLLEY_STREAMS_BIN is not set: run the suite with tests/python/run.sh")
    return subprocess.Popen([binary, "--addr", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_listening(port: int) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"no server on port {port}")


async def test_a_dropped_connection_fails_calls_at_once_and_reconnects(encoding: str) -> None:
    port = free_port()
    server = start_server(port)
    try:
        await wait_listening(port)
        async with Client.connect(f"ws://127.0.0.1:{port}/", encoding=encoding, reconnect=Backoff(initial=0.05, maximum=0.2)) as client:
            in_flight = asyncio.ensure_future(client.sleep(ms=30_000))
            stream = client.countdown(from_=1000, interval_ms=50)
            assert await stream.__anext__() == 1000
            await asyncio.sleep(0.1)
            server.kill()
            server.wait()
            started = time.monotonic()
            with pytest.raises(VolleyConnectionError):
                await in_flight
            with pytest.raises(VolleyConnectionError):
                async for _ in stream:
                    pass
            assert time.monotonic() - started < 2
            server = start_server(port)
            await wait_listening(port)
            # Calls made while reconnecting wait for the new connection.
            assert await client.sleep(ms=1, options=CallOptions(timeout=10)) == 1
    finally:
        server.kill()
        server.wait()


async def test_a_closed_client_refuses_calls(encoding: str) -> None:
    client = await Client.connect(server_url("streams"), encoding=encoding)
    await client.close()
    with pytest.raises(VolleyConnectionError):
        await client.sleep(ms=1)


async def test_connecting_to_nothing_fails_clearly() -> None:
    with pytest.raises(VolleyConnectionError):
        await Client.connect(f"ws://127.0.0.1:{free_port()}/")
