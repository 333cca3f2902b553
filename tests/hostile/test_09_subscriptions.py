"""Attack 9: one connection subscribes to 60,000 topics in one frame while another keeps
calling `add`. Subscribing costs time linear in the names, and the rest of the server
goes on: every `add` is answered, none waits more than 2 s. A connection holds at most
65,536 subscriptions: more is INVALID_PARAMS."""

from __future__ import annotations

import asyncio
import time

from hostile import ERROR, FRAME_LIMIT, INVALID_PARAMS, RESULT, Prober, RawWS, RssWatch, Target, encode, served_now

TOPICS = 60_000
MAX_SUBSCRIPTIONS = 65_536
BOUND = 2.0


async def test_sixty_thousand_topics_in_one_frame(calc: Target) -> None:
    topics = [f"t.{i:05}" for i in range(TOPICS)]
    frame = [0, 1, "volley.subscribe", {"topics": topics}]
    assert len(encode("json", frame)) < FRAME_LIMIT

    with RssWatch(calc, "09 subscribe to 60,000 topics in one frame") as watch, \
            Prober.for_server(calc, bound=BOUND, every=0.02) as probe:
        await asyncio.sleep(0.3)  # the prober is calling
        ws = await RawWS.open(calc, "json")
        t = time.monotonic()
        ws.send(frame)
        await ws.drain(5)
        answer = await ws.recv_final(1, timeout=30)
        took = time.monotonic() - t
        # Past the cap: 60,000 + 6,000 is over 65,536.
        more = [f"m.{i:04}" for i in range(6_000)]
        ws.send([0, 3, "volley.subscribe", {"topics": more}])
        over = await ws.recv_final(3, timeout=30)
        await asyncio.sleep(0.5)  # the prober goes on a little after
        ws.abort()
    watch.check()
    probe.check(min_probes=10)
    served_now(calc)
    print(f"\nsubscribe to {TOPICS} topics answered {answer} in {took:.3f} s; {len(more)} more: {over[:4]}")
    assert answer == [RESULT, 1, None], answer
    assert over[0] == ERROR and over[2] == INVALID_PARAMS, over
    errors = over[4].get("errors") if len(over) > 4 and isinstance(over[4], dict) else None
    assert errors and errors[0].get("path") == "topics", f"INVALID_PARAMS should name the path `topics`: {over}"
