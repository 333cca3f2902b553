"""Attack 10: a WebSocket message above the 4 MiB hard cap (4 x the frame limit): 65 MiB in one frame, and
65 MiB in 1 MiB fragments (each under the frame cap, the message over it). The server
closes that connection with close code 1009 (message too big) and keeps serving the
others."""

from __future__ import annotations

import asyncio

import pytest

from hostile import MIB, OP_CONT, OP_TEXT, Prober, RssWatch, Target, blast, served_now, ws_frame

SIZE = 65 * MIB
TOO_BIG = 1009


@pytest.mark.parametrize("fragmented", [False, True], ids=["one-frame", "fragments"])
async def test_message_above_the_hard_cap(calc: Target, fragmented: bool) -> None:
    label = f"10 65 MiB message ({'1 MiB fragments' if fragmented else 'one frame'})"
    if fragmented:
        count = SIZE // MIB
        body = b" " * MIB
        pieces = [ws_frame(OP_TEXT if i == 0 else OP_CONT, body, fin=i == count - 1) for i in range(count)]
    else:
        pieces = [ws_frame(OP_TEXT, b" " * SIZE)]
    with RssWatch(calc, label) as watch, Prober.for_server(calc) as probe:
        seen = await asyncio.to_thread(blast, calc, pieces)
    # Reassembling a fragmented message holds at most the 4 MiB hard cap.
    watch.check()
    probe.check()
    served_now(calc)
    print(f"\nsent {seen.sent} of {sum(len(p) for p in pieces)} bytes ({seen.send_error or 'no send error'}); the server sent "
          f"{[(op, p[:40]) for op, p in seen.frames]} ({seen.read_error or 'no read error'})")
    assert seen.close_code == TOO_BIG, (
        f"expected a close frame with code {TOO_BIG}; got frames {[(op, p[:40]) for op, p in seen.frames]}, "
        f"{len(seen.received)} bytes, read error {seen.read_error}, send error {seen.send_error}"
    )
