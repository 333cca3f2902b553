"""Attack 5: 8 `chat` calls (bidirectional), each sending the 32 items its credit
allows, all but the first ~1 MB, while granting the server no credit for its own items
(`ext.w = 0`). `chat` answers each message before it takes the next, so without credit
it consumes only the first one (a valid message: `chat` validates the messages it takes,
text at most 4096 characters) and then waits: the 1 MB items stay held, unread by the
handler, within the connection's 8 MiB held budget. An item that
would go past it fails its call with UNAVAILABLE (503) and
`{"limit": ..., "retry_after_ms": ...}` in data; items sent after that are stale and
ignored. Each call alone sends 32 MB, so every call must end that way."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hostile import CREDIT, END, ERROR, FRAME_LIMIT, ITEM, UNAVAILABLE, Closed, Prober, RawWS, RssWatch, Target, encode, served_now

MAX_HELD = 8 << 20  # Limits::max_held_bytes
CALLS = 8
ITEMS = 32
TEXT = 1_000_000


async def test_bidi_items_beyond_the_held_budget(streams: Target) -> None:
    item = {"from": "mallory", "text": "t" * TEXT}
    ids = [2 * i + 1 for i in range(CALLS)]
    assert len(encode("msgpack", [ITEM, ids[-1], item])) < FRAME_LIMIT

    with RssWatch(streams, "05 8 chat calls x 31 x 1 MB items, w=0") as watch, Prober.for_server(streams) as probe:
        ws = await RawWS.open(streams, "msgpack")
        for call_id in ids:
            ws.send([0, call_id, "chat", {}, {"w": 0}])
        await ws.drain(5)
        credit: dict[int, int] = {}
        early: list[Any] = []
        deadline = time.monotonic() + 5
        while len(credit) < CALLS and time.monotonic() < deadline:
            frame = await ws.recv(max(deadline - time.monotonic(), 0.01))
            if frame[0] == CREDIT:
                credit[frame[1]] = credit.get(frame[1], 0) + frame[2]
            else:
                early.append(frame)
        assert sorted(credit) == ids, f"no CREDIT for some calls: {credit}, other frames: {early}"
        assert all(n >= ITEMS for n in credit.values()), f"the server granted less than {ITEMS} items: {credit}"

        t = time.monotonic()
        payload = {call_id: encode("msgpack", [ITEM, call_id, item]) for call_id in ids}
        for call_id in ids:  # the one message chat takes before it waits for credit
            ws.send([ITEM, call_id, {"from": "mallory", "text": "hello"}])
        for _ in range(ITEMS - 1):  # round robin, within each call's credit
            for call_id in ids:
                ws.send_message(payload[call_id])
            assert await ws.drain(15), "the server stopped reading"
        for call_id in ids:
            ws.send([END, call_id])
        await ws.drain(5)
        print(f"\nsent {CALLS} x {ITEMS - 1} items of {len(payload[ids[0]])} bytes in {time.monotonic() - t:.2f} s")

        finals: dict[int, list[Any]] = {}
        frames: list[Any] = []
        deadline = time.monotonic() + 10
        while len(finals) < CALLS and time.monotonic() < deadline:
            try:
                frame = await ws.recv(max(deadline - time.monotonic(), 0.01))
            except (asyncio.TimeoutError, Closed):
                break
            frames.append(frame)
            if frame[0] in (ERROR, END) and frame[1] in ids:
                finals[frame[1]] = frame
        frames += await ws.recv_until_quiet(quiet=0.5, limit=2)
        watch.sample()
        ws.abort()
    watch.check()
    probe.check()
    served_now(streams)

    print(f"final frames: {[f[:4] for f in finals.values()][:2]}... ({len(finals)} of {CALLS})")
    if finals:
        print(f"first: {next(iter(finals.values()))}")
    unexpected = [f for f in frames + early if f[0] not in (ERROR, CREDIT) or f[1] == 0]
    assert not unexpected, f"unexpected frames: {unexpected[:5]}"
    assert sorted(finals) == ids, f"calls left without a final frame: {sorted(set(ids) - set(finals))}"
    for f in finals.values():
        assert f[0] == ERROR and f[2] == UNAVAILABLE, f"expected UNAVAILABLE once over the held budget, got {f[:4]}"
        data = f[4] if len(f) > 4 else None
        assert isinstance(data, dict) and data.get("limit") == MAX_HELD and isinstance(data.get("retry_after_ms"), int), f
