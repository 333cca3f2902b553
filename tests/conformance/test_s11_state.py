"""Section 11: shared state (the streams example mirrors running jobs in the `jobs`
state; it starts out as `{}`)."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from volleyc import CALL, END, NOTIFY, RESULT, STATE, Conn, describe
from test_s10_topics import checksum, job_name, run_job


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def apply_patch(doc: Any, patch: list[dict]) -> Any:
    """RFC 6902 for the operations volley sends (replace, add, remove) on objects/arrays."""
    doc = copy.deepcopy(doc)
    for op in patch:
        path = op["path"]
        if path == "":
            assert op["op"] == "replace", op
            doc = copy.deepcopy(op["value"])
            continue
        parts = [unescape(p) for p in path.split("/")[1:]]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        if isinstance(parent, list):
            i = len(parent) if last == "-" else int(last)
            if op["op"] == "add":
                parent.insert(i, op["value"])
            elif op["op"] == "remove":
                del parent[i]
            else:
                parent[i] = op["value"]
        else:
            if op["op"] == "remove":
                assert last in parent, op
                del parent[last]
            elif op["op"] == "replace":
                assert last in parent, op
                parent[last] = op["value"]
            else:
                parent[last] = op["value"]
    return doc


async def subscribe_state(c: Conn, params: dict) -> list[list]:
    """Subscribes and returns the frames up to and including the RESULT."""
    cid = c.new_id()
    await c.send([CALL, cid, "volley.subscribe", params])
    frames = []
    for _ in range(10):
        f = await c.recv()
        frames.append(f)
        if f[0] == RESULT and f[1] == cid:
            return frames
    raise AssertionError(frames)


async def test_s11_first_state_is_full_replacement(streams: Conn) -> None:
    """As the example table: the full replacement STATE, then the RESULT null."""
    frames = await subscribe_state(streams, {"states": ["jobs"]})
    assert frames == [[STATE, "jobs", [{"op": "replace", "path": "", "value": {}}]], [RESULT, 1, None]], frames
    await streams.quiet()
    await streams.serving()


async def test_s11_patches_follow_changes(enc: str, opener) -> None:
    """One patch per change, with only the parts that changed: objects compared key by key."""
    watcher: Conn = await opener("streams", enc)
    runner: Conn = await opener("streams", enc)
    await subscribe_state(watcher, {"states": ["jobs"]})
    name = job_name("patch")
    await run_job(runner, name, steps=2, step_ms=60)
    patches = [await watcher.recv() for _ in range(4)]
    assert patches == [
        [STATE, "jobs", [{"op": "add", "path": f"/{name}", "value": 0}]],
        [STATE, "jobs", [{"op": "replace", "path": f"/{name}", "value": 50}]],
        [STATE, "jobs", [{"op": "replace", "path": f"/{name}", "value": 100}]],
        [STATE, "jobs", [{"op": "remove", "path": f"/{name}"}]],
    ], patches
    await watcher.quiet()


async def test_s11_json_pointer_escaping(enc: str, opener) -> None:
    """Keys with `/` and `~` are escaped in patch paths (RFC 6901: `~1`, `~0`)."""
    watcher: Conn = await opener("streams", enc)
    runner: Conn = await opener("streams", enc)
    await subscribe_state(watcher, {"states": ["jobs"]})
    name = job_name("a/b~c")
    await run_job(runner, name)
    escaped = "/" + name.replace("~", "~0").replace("/", "~1")
    doc: Any = {}
    seen = []
    for _ in range(3):
        f = await watcher.recv()
        assert f[:2] == [STATE, "jobs"], describe(f)
        seen.append(f[2])
        doc = apply_patch(doc, f[2])
    assert seen[0] == [{"op": "add", "path": escaped, "value": 0}], seen
    assert seen[-1] == [{"op": "remove", "path": escaped}], seen
    assert doc == {}


async def test_s11_example_subscribe_to_running_state(enc: str, opener) -> None:
    """The section's example on the example server: a state with a value ("ann" running),
    a client subscribes (full replacement with it), then the state changes (ann advances,
    bob is added) and each patch carries only what changed."""
    runner_a: Conn = await opener("streams", enc)
    runner_b: Conn = await opener("streams", enc)
    watcher: Conn = await opener("streams", enc)
    ann, bob = job_name("ann"), job_name("bob")
    await runner_a.send([CALL, 1, "job.run", {"name": ann, "steps": 2, "step_ms": 500}])
    await asyncio.sleep(0.1)
    frames = await subscribe_state(watcher, {"states": ["jobs"]})
    assert frames == [[STATE, "jobs", [{"op": "replace", "path": "", "value": {ann: 0}}]], [RESULT, 1, None]], frames
    await runner_b.send([CALL, 1, "job.run", {"name": bob, "steps": 1, "step_ms": 100}])
    patches = [(await watcher.recv()) for _ in range(6)]
    assert patches == [
        [STATE, "jobs", [{"op": "add", "path": f"/{bob}", "value": 0}]],
        [STATE, "jobs", [{"op": "replace", "path": f"/{bob}", "value": 100}]],
        [STATE, "jobs", [{"op": "remove", "path": f"/{bob}"}]],
        [STATE, "jobs", [{"op": "replace", "path": f"/{ann}", "value": 50}]],
        [STATE, "jobs", [{"op": "replace", "path": f"/{ann}", "value": 100}]],
        [STATE, "jobs", [{"op": "remove", "path": f"/{ann}"}]],
    ], patches
    for r in (runner_a, runner_b):
        frames = await r.until_final(1)
        assert frames[-1] == [END, 1], frames


async def test_s11_resubscribe_sends_fresh_full_replacement(streams: Conn) -> None:
    await subscribe_state(streams, {"states": ["jobs"]})
    frames = await subscribe_state(streams, {"states": ["jobs"]})
    assert frames == [[STATE, "jobs", [{"op": "replace", "path": "", "value": {}}]], [RESULT, 3, None]], frames
    await streams.quiet()


async def test_s11_unknown_state_accepted_and_silent(streams: Conn) -> None:
    frames = await subscribe_state(streams, {"states": ["no-such-state"]})
    assert frames == [[RESULT, 1, None]], frames
    await streams.quiet()
    await streams.serving()


async def test_s11_unsubscribe_stops_patches(enc: str, opener) -> None:
    watcher: Conn = await opener("streams", enc)
    runner: Conn = await opener("streams", enc)
    await subscribe_state(watcher, {"states": ["jobs"]})
    frames = await watcher.call("volley.unsubscribe", {"states": ["jobs"]})
    assert frames == [[RESULT, 3, None]], frames
    await run_job(runner, job_name("unsub-state"))
    await watcher.quiet()


async def test_s11_topics_and_states_together(enc: str, opener) -> None:
    watcher: Conn = await opener("streams", enc)
    runner: Conn = await opener("streams", enc)
    frames = await subscribe_state(watcher, {"topics": ["jobs.finished"], "states": ["jobs"]})
    assert frames == [[STATE, "jobs", [{"op": "replace", "path": "", "value": {}}]], [RESULT, 1, None]], frames
    name = job_name("both")
    await run_job(runner, name)
    got = [await watcher.recv() for _ in range(4)]
    states = [f for f in got if f[0] == STATE]
    notes = [f for f in got if f[0] == NOTIFY]
    assert notes == [[NOTIFY, "jobs.finished", {"name": name, "steps": 1, "checksum": checksum(1)}]], got
    doc: Any = {}
    for f in states:
        doc = apply_patch(doc, f[2])
    assert len(states) == 3 and doc == {}, got
    await watcher.quiet()
