"""Attack 4: fill a connection's 256 running slots with `sleep` calls, then send 300
calls with 1 MB of parameters (an undeclared `pad` parameter, which the method ignores).
Calls that cannot start yet keep their parameters in memory, within the connection's
8 MiB held budget; the calls beyond it are refused at once with UNAVAILABLE (503) and
`{"limit": ..., "retry_after_ms": ...}` in data."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hostile import ERROR, FRAME_LIMIT, UNAVAILABLE, Closed, Prober, RawWS, RssWatch, Target, encode, served_now

MAX_HELD = 8 << 20  # Limits::max_held_bytes
RUNNING = 256  # Limits::max_concurrent_calls
BIG = 300
PAD = 1_000_000
SLEEP_MS = 15_000  # far longer than the attack: the slots stay full (the sleeps are
#                    cancelled when the connection is dropped at the end)


async def test_big_params_while_every_slot_runs(streams: Target) -> None:
    big_params = {"ms": 1, "pad": "p" * PAD}
    size = len(encode("msgpack", big_params))
    assert len(encode("msgpack", [0, 2 * (RUNNING + BIG), "sleep", big_params])) < FRAME_LIMIT
    # Each waiting call holds its parameters: at most this many fit in the budget.
    fit = MAX_HELD // size

    with RssWatch(streams, "04 256 sleeps + 300 x 1 MB params") as watch, Prober.for_server(streams) as probe:
        ws = await RawWS.open(streams, "msgpack")
        for i in range(RUNNING):
            ws.send([0, 2 * i + 1, "sleep", {"ms": SLEEP_MS}])
        assert await ws.drain(5)
        await asyncio.sleep(0.5)  # every sleep has taken its slot
        t = time.monotonic()
        big_ids = [2 * (RUNNING + i) + 1 for i in range(BIG)]
        for call_id in big_ids:
            ws.send([0, call_id, "sleep", big_params])
            assert await ws.drain(15), "the server stopped reading"
        print(f"\nsent {BIG} CALLs with {size}-byte params in {time.monotonic() - t:.2f} s")

        finals: dict[int, list[Any]] = {}
        others: list[Any] = []
        deadline = time.monotonic() + 10
        while len(finals) < BIG - fit and time.monotonic() < deadline:
            try:
                frame = await ws.recv(max(deadline - time.monotonic(), 0.01))
            except (asyncio.TimeoutError, Closed):
                break
            if frame[1] in big_ids and frame[0] == ERROR:
                finals[frame[1]] = frame
            else:
                others.append(frame)
        # A little more, to see any other answer that comes now.
        for frame in await ws.recv_until_quiet(quiet=0.5, limit=2):
            if frame[1] in big_ids and frame[0] == ERROR:
                finals[frame[1]] = frame
            else:
                others.append(frame)
        watch.sample()
        ws.abort()
    watch.check()
    probe.check()
    served_now(streams)

    refused = [f for f in finals.values() if f[2] == UNAVAILABLE]
    print(f"{len(refused)} of {BIG} refused UNAVAILABLE, {BIG - len(finals)} waiting for a slot "
          f"(the budget fits {fit}); first refusal: {refused[0] if refused else None}")
    assert not others, f"unexpected frames (the sleeps should still be running): {others[:5]}"
    assert len(refused) == len(finals), f"other errors: {[f for f in finals.values() if f[2] != UNAVAILABLE][:5]}"
    assert len(refused) >= BIG - fit - 1, (
        f"only {len(refused)} of {BIG} calls were refused: the server held the parameters of "
        f"{BIG - len(refused)} calls of {size} bytes, more than its {MAX_HELD}-byte budget fits"
    )
    for f in refused:
        data = f[4] if len(f) > 4 else None
        assert isinstance(data, dict) and isinstance(data.get("retry_after_ms"), int) and data.get("limit") == MAX_HELD, f


PENDING = 4096  # Limits::max_pending_calls


async def test_calls_beyond_the_accepted_limit(streams: Target) -> None:
    """(Beside attack 4.) 256 calls run at once, 4096 are accepted (running or waiting);
    tiny calls past that are refused UNAVAILABLE with `retry_after_ms` in data."""
    extra = 50
    with RssWatch(streams, "04b 4096 + 50 tiny sleeps on one connection") as watch, Prober.for_server(streams) as probe:
        ws = await RawWS.open(streams, "msgpack")
        for i in range(PENDING + extra):
            ws.send([0, 2 * i + 1, "sleep", {"ms": SLEEP_MS}])
        assert await ws.drain(10)
        frames = await ws.recv_until_quiet(quiet=1.0, limit=10)
        watch.sample()
        ws.abort()
    watch.check()
    probe.check()
    served_now(streams)
    refused = [f for f in frames if f[0] == ERROR and f[2] == UNAVAILABLE]
    print(f"\n{len(refused)} of {PENDING + extra} refused, ids {sorted(f[1] for f in refused)[:3]}...; first: {refused[:1]}")
    assert len(frames) == len(refused), f"other frames: {[f for f in frames if f not in refused][:5]}"
    assert len(refused) == extra, f"{len(refused)} calls refused; {PENDING} should have been accepted and {extra} refused"
    assert all(isinstance(f[4], dict) and isinstance(f[4].get("retry_after_ms"), int) for f in refused), refused[:3]
