"""Section 10: topics and notifications (the streams example publishes every finished
job on `jobs.finished`)."""

from __future__ import annotations

import itertools
import os

import pytest

from volleyc import BAD_FRAME, CALL, END, ITEM, NOTIFY, RESULT, WARNING, Conn, assert_error, describe, reason_data

_names = itertools.count(1)


def job_name(tag: str) -> str:
    return f"conf-{tag}-{os.getpid()}-{next(_names)}"


def checksum(steps: int) -> int:
    c = 0xCBF29CE484222325
    for step in range(1, steps + 1):
        c = ((c ^ step) * 0x100000001B3) % 2**64
    return c


async def run_job(c: Conn, name: str, steps: int = 1, step_ms: int = 0) -> list[list]:
    frames = await c.call("job.run", {"name": name, "steps": steps, "step_ms": step_ms})
    assert frames[-1][0] == END, [describe(f) for f in frames]
    return frames


async def subscribe(c: Conn, params: dict, method: str = "volley.subscribe") -> None:
    frames = await c.call(method, params)
    assert frames == [[RESULT, frames[-1][1], None]], frames


async def test_s2_u64_above_2_53_exact_in_stream_items(streams: Conn) -> None:
    """The job's own stream, with a u64 checksum above 2^53, exact in both encodings."""
    name = job_name("u64")
    frames = await run_job(streams, name, steps=2)
    result = {"name": name, "steps": 2, "checksum": checksum(2)}
    assert checksum(2) > 2**53
    assert [f[2] for f in frames if f[0] == ITEM] == [
        {"type": "progress", "percent": 50, "stage": "step 1 of 2"},
        {"type": "progress", "percent": 100, "stage": "step 2 of 2"},
        {"type": "done", "result": result},
    ], frames


@pytest.mark.parametrize("pattern", ["jobs.finished", "jobs.*", "*"])
async def test_s10_subscribed_topic_notified(enc: str, opener, pattern: str) -> None:
    """`volley.subscribe {"topics": [..]}` answers null; then NOTIFY [10, topic, value]
    arrives for each publication: exact names, `prefix.*` and `*`."""
    watcher: Conn = await opener("streams", enc)
    runner: Conn = await opener("streams", enc)
    await subscribe(watcher, {"topics": [pattern]})
    name = job_name("topic")
    await run_job(runner, name)
    f = await watcher.recv()
    assert f == [NOTIFY, "jobs.finished", {"name": name, "steps": 1, "checksum": checksum(1)}], describe(f)
    await watcher.quiet()
    await watcher.serving()


@pytest.mark.parametrize("pattern", ["jobs", "job.*", "jobs.finished.*", "jobs.fin", "nope.never.published", "JOBS.FINISHED"])
async def test_s10_unmatched_or_unknown_topic_receives_nothing(enc: str, opener, pattern: str) -> None:
    """Unknown names are accepted (result null) and receive nothing; a pattern matches
    only names below its prefix."""
    watcher: Conn = await opener("streams", enc)
    runner: Conn = await opener("streams", enc)
    await subscribe(watcher, {"topics": [pattern]})
    await run_job(runner, job_name("nomatch"))
    await watcher.quiet()
    await watcher.serving()


async def test_s10_not_subscribed_receives_nothing(enc: str, opener) -> None:
    watcher: Conn = await opener("streams", enc)
    runner: Conn = await opener("streams", enc)
    await run_job(runner, job_name("unsub"))
    await watcher.quiet()


async def test_s10_unsubscribe_stops_notifications(enc: str, opener) -> None:
    watcher: Conn = await opener("streams", enc)
    runner: Conn = await opener("streams", enc)
    await subscribe(watcher, {"topics": ["jobs.finished"]})
    await subscribe(watcher, {"topics": ["jobs.finished"]}, "volley.unsubscribe")
    await run_job(runner, job_name("unsubscribed"))
    await watcher.quiet()


async def test_s10_subscriptions_are_a_set(enc: str, opener) -> None:
    """Subscribing twice is one subscription (one NOTIFY per publication), and one
    unsubscribe ends it."""
    watcher: Conn = await opener("streams", enc)
    runner: Conn = await opener("streams", enc)
    await subscribe(watcher, {"topics": ["jobs.finished"]})
    await subscribe(watcher, {"topics": ["jobs.finished", "jobs.finished"]})
    name = job_name("set")
    await run_job(runner, name)
    assert (await watcher.recv())[:2] == [NOTIFY, "jobs.finished"]
    await watcher.quiet()
    await subscribe(watcher, {"topics": ["jobs.finished"]}, "volley.unsubscribe")
    await run_job(runner, job_name("set2"))
    await watcher.quiet()


async def test_s10_client_notify_not_answered(streams: Conn) -> None:
    """NOTIFY is one-way in either direction: no RESULT or ERROR answers one. A server
    that handles no client topic says so with one WARNING on id 0 per notification."""
    await streams.send([NOTIFY, "client.hello", {"x": 1}])
    await streams.send([NOTIFY, "jobs.finished", None])
    for topic in ("client.hello", "jobs.finished"):
        f = await streams.recv()
        assert f[:3] == [WARNING, 0, 404] and f[4] == {"topic": topic, "available": []}, describe(f)
    await streams.quiet()
    await streams.serving()


@pytest.mark.parametrize("frame", [[NOTIFY, 5, 1], [NOTIFY], [NOTIFY, None, 1]], ids=["topic-int", "empty", "topic-null"])
async def test_s10_malformed_notify_bad_frame_on_id_0(streams: Conn, frame: list) -> None:
    await streams.send(frame)
    assert_error(await streams.recv(), 0, BAD_FRAME, reason_data)
    await streams.quiet()
    await streams.serving()


async def test_s10_unsubscribe_not_subscribed_does_nothing(streams: Conn) -> None:
    await subscribe(streams, {"topics": ["never.subscribed", "jobs.*"], "states": ["jobs"]}, "volley.unsubscribe")
    await streams.quiet()
    await streams.serving()


# A client's own notifications: the device example handles `device.jog` (payload
# `{"delta": number}`, at most 10 either way) and publishes each move on
# `device.properties`.


async def test_s10_client_notification_handled(enc: str, opener) -> None:
    """A `NOTIFY` on a topic the schema lists with `"publisher": "client"` is handled,
    in order, with no answer on the sender's connection."""
    c: Conn = await opener("device", enc)
    await c.call("device.resume", {"by": "conformance"})
    await subscribe(c, {"topics": ["device.properties"]})
    for delta in (1, 2, 3):
        await c.send([NOTIFY, "device.jog", {"delta": delta}])
    moves = [await c.recv() for _ in range(3)]
    assert [f[0] for f in moves] == [NOTIFY] * 3, [describe(f) for f in moves]
    assert [(f[1], f[2]["property"], f[2]["value"] - f[2]["previous"]) for f in moves] == [
        ("device.properties", "position", d) for d in (1, 2, 3)
    ]


@pytest.mark.parametrize(
    "notification, code, data",
    [
        ([NOTIFY, "device.nope", {}], 404, {"topic": "device.nope", "available": ["device.jog"]}),
        ([NOTIFY, "device.events", {}], 404, {"topic": "device.events", "available": ["device.jog"]}),
        ([NOTIFY, "device.jog", {"delta": "far"}], 422, None),
        ([NOTIFY, "device.jog", {}], 422, None),
        ([NOTIFY, "device.jog", {"delta": 50}], 422, None),
    ],
    ids=["undeclared", "a-server-topic", "wrong-type", "missing-field", "handler-refuses"],
)
async def test_s10_unhandled_client_notification_warned(enc: str, opener, notification: list, code: int, data) -> None:
    """A notification the server does not handle is answered with `WARNING` on id 0
    naming why (section 10's table), and the connection keeps serving."""
    c: Conn = await opener("device", enc)
    await c.send(notification)
    f = await c.recv()
    assert f[:3] == [WARNING, 0, code], describe(f)
    assert isinstance(f[3], str) and f[3], describe(f)
    if data is not None:
        assert f[4] == data, describe(f)
    elif notification[2].get("delta") != 50:
        assert f[3].startswith("the notification on `device.jog` failed: "), f[3]
        assert isinstance(f[4]["errors"], list) and f[4]["errors"][0]["path"] == "delta", describe(f)
    await c.serving()
