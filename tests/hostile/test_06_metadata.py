"""Attack 6: client metadata. A caller may send META frames on any open call, and they
merge into the call's client metadata: the server keeps at most 128 entries and 64 KiB
(keys and values) per call and fails a call that goes past either with
PROTOCOL_VIOLATION (412), holding nothing more for it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hostile import (CALL, END, ERROR, FRAME_LIMIT, META, PROTOCOL_VIOLATION, RESULT, Closed, Prober, RawWS, RssWatch,
                     Target, encode, served_now)

VALUES = 127
VALUE = 1_000_000


async def test_megabyte_metadata_values_in_meta_frames(streams: Target) -> None:
    ids = [1, 3]
    value = "v" * VALUE
    assert len(encode("msgpack", [META, 3, {f"k{VALUES:03}": value}])) < FRAME_LIMIT

    with RssWatch(streams, "06 2 calls x 127 META frames of 1 MB") as watch, Prober.for_server(streams) as probe:
        ws = await RawWS.open(streams, "msgpack")
        for call_id in ids:  # `sum` is a client stream: the call stays open until our END
            ws.send([CALL, call_id, "sum", {}])
        await ws.drain(5)
        t = time.monotonic()
        for i in range(VALUES):
            for call_id in ids:
                ws.send([META, call_id, {f"k{i:03}": value}])
            assert await ws.drain(15), "the server stopped reading"
        print(f"\nsent {len(ids)} x {VALUES} META frames with a {VALUE}-byte value in {time.monotonic() - t:.2f} s")
        frames: list[Any] = []
        finals: dict[int, list[Any]] = {}
        deadline = time.monotonic() + 10
        while len(finals) < len(ids) and time.monotonic() < deadline:
            try:
                frame = await ws.recv(max(deadline - time.monotonic(), 0.01))
            except (asyncio.TimeoutError, Closed):
                break
            frames.append(frame)
            if frame[0] in (ERROR, RESULT) and frame[1] in ids:
                finals[frame[1]] = frame
        # The calls are over: their END is stale now and ignored.
        for call_id in ids:
            ws.send([END, call_id])
        frames += await ws.recv_until_quiet(quiet=0.5, limit=2)
        watch.sample()
        ws.abort()
    watch.check()
    probe.check()
    served_now(streams)

    print(f"answers: {[f[:4] for f in finals.values()]}")
    assert sorted(finals) == ids, f"no final frame for some calls; frames seen: {[f[:4] for f in frames][:10]}"
    for f in finals.values():
        assert f[0] == ERROR and f[2] == PROTOCOL_VIOLATION, f"expected PROTOCOL_VIOLATION, got {f[:4]}"
    extra = [f for f in frames if f[0] not in (ERROR, RESULT) or f[1] not in ids]
    # CREDIT for the `sum` stream is expected; nothing else.
    assert all(f[0] == 7 for f in extra), f"unexpected frames: {[f[:4] for f in extra][:5]}"


async def test_call_with_129_metadata_entries(streams: Target) -> None:
    with RssWatch(streams, "06 129 / 128 metadata entries, 2 x 40 KB") as watch, Prober.for_server(streams) as probe:
        ws = await RawWS.open(streams, "json")
        try:
            too_many = {f"k{i:03}": "v" for i in range(129)}
            ws.send([CALL, 1, "echo_metadata", {}, {"m": too_many}])
            over = await ws.recv_final(1)
            # The bound is exact: 128 entries are served.
            just_right = {f"k{i:03}": "v" for i in range(128)}
            ws.send([CALL, 3, "echo_metadata", {}, {"m": just_right}])
            ok = await ws.recv_final(3)
            # And the byte bound: two entries of 40 KB are 80 KB, over 64 KiB.
            big = {"a": "x" * 40_000, "b": "y" * 40_000}
            ws.send([CALL, 5, "echo_metadata", {}, {"m": big}])
            heavy = await ws.recv_final(5)
            # Entries sent in META frames count with ext.m: the 129th fails the call.
            ws.send([CALL, 7, "sum", {}, {"m": {"k000": "v"}}])
            for i in range(1, 129):
                ws.send([META, 7, {f"k{i:03}": "v"}])
            counted = await ws.recv_final(7)
        finally:
            ws.abort()
    watch.check()
    probe.check()
    served_now(streams)
    print(f"\n129 entries: {over[:4]}\n128 entries: RESULT with {len(ok[2]) if ok[0] == RESULT else ok} entries\n"
          f"80 KB: {heavy[:4]}\n1 in ext.m + 128 in META frames: {counted[:4]}")
    assert over[0] == ERROR and over[2] == PROTOCOL_VIOLATION, over
    assert ok[0] == RESULT and ok[2] == just_right, ok[:4]
    assert heavy[0] == ERROR and heavy[2] == PROTOCOL_VIOLATION, heavy[:4]
    assert counted[0] == ERROR and counted[2] == PROTOCOL_VIOLATION, counted[:4]
