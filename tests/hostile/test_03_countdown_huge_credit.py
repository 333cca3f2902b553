"""Attack 3: `countdown` from 1,000,000 with no delay, granting 4294967295 items of
credit in `ext.w`, on a connection that never reads and on one that reads 10 items and
stops. The server honours at most 1024 items of credit per stream, and its producers
wait while 4 MiB of answers are queued: nothing piles up."""

from __future__ import annotations

import asyncio

from hostile import CREDIT, ITEM, META, Prober, RawWS, RssWatch, Target, served_now

MAX_WINDOW = 1024  # Limits::max_window
U32_MAX = 2**32 - 1
PARAMS = {"from": 1_000_000, "interval_ms": 0}


async def test_countdown_with_huge_credit_not_read(streams: Target) -> None:
    with RssWatch(streams, "03 countdown 1e6, ext.w = 2^32-1, unread") as watch, Prober.for_server(streams) as probe:
        silent = await RawWS.open(streams, "msgpack", rcvbuf=4096)
        silent.send([0, 1, "countdown", PARAMS, {"w": U32_MAX}])
        await silent.drain(5)

        reader = await RawWS.open(streams, "json", rcvbuf=4096)
        reader.send([0, 1, "countdown", PARAMS, {"w": U32_MAX}])
        await reader.drain(5)
        items: list[int] = []
        while len(items) < 10:
            frame = await reader.recv_for(1, timeout=5)
            if frame[0] == ITEM:
                items.append(frame[2])
        assert items == list(range(1_000_000, 999_990, -1)), items
        await asyncio.sleep(3.0)  # neither connection reads for 3 s
        watch.sample()

        # The reader reads on: the server sent at most 1024 items (its cap on credit),
        # then waited, whatever ext.w said.
        frames = await reader.recv_until_quiet(quiet=1.0, limit=10)
        first = len(items) + sum(1 for f in frames if f[0] == ITEM)
        print(f"\nwith ext.w = {U32_MAX} and no CREDIT, the server sent {first} items")

        # A CREDIT of 2^32-1 (valid: it fits 32 bits) is capped the same way.
        reader.send([CREDIT, 1, U32_MAX])
        await reader.drain(5)
        await asyncio.sleep(2.0)
        watch.sample()
        frames = await reader.recv_until_quiet(quiet=1.0, limit=10)
        second = sum(1 for f in frames if f[0] == ITEM)
        others = [f for f in frames if f[0] not in (ITEM, META)]
        print(f"after CREDIT {U32_MAX}, the server sent {second} more items")
        silent.abort()
        reader.abort()
    watch.check()
    probe.check()
    served_now(streams)
    assert not others, f"unexpected frames: {others[:5]}"
    assert 0 < first <= MAX_WINDOW, f"the server sent {first} items on a window of {U32_MAX}: it honours at most {MAX_WINDOW}"
    assert 0 < second <= MAX_WINDOW, f"the server sent {second} items after a CREDIT of {U32_MAX}: it honours at most {MAX_WINDOW}"
