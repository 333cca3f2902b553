"""Attack 2: 100,000 tiny calls to an unknown method, answers never read. Once 4 MiB of
answers wait for a peer that does not read, the server stops reading from it; nothing
is dropped, and reading resumes once the peer reads again.

The method name is 120 characters (under the 128 the server quotes), so each ~140-byte
CALL is answered with ~300 bytes: 30 MB of answers in all, far more than the 4 MiB
budget plus what the kernel's socket buffers can absorb, so the server has to stop
reading to stay within its budget."""

from __future__ import annotations

import asyncio
import time

from hostile import ERROR, METHOD_NOT_FOUND, Closed, Prober, RawWS, RssWatch, Target, served_now

CALLS = 100_000
METHOD = "nope-" + "y" * 115


async def test_many_tiny_unknown_calls_never_read(calc: Target) -> None:
    with RssWatch(calc, "02 100,000 tiny unknown-method calls, unread") as watch, Prober.for_server(calc) as probe:
        ws = await RawWS.open(calc, "json", rcvbuf=4096)
        t = time.monotonic()
        # All 100,000 CALLs go to our transport at once (~14 MB); what the kernel does
        # not take waits there. Nothing is ever read until the check below.
        for i in range(CALLS):
            ws.send([0, 2 * i + 1, METHOD, {}])
        sent = CALLS
        stalled = not await ws.drain(3)
        took = time.monotonic() - t
        print(f"\nqueued {CALLS} CALLs, reading nothing; after {took:.2f} s "
              f"{'the server had stopped reading: ' if stalled else 'all were written, '}"
              f"{ws.buffered()} bytes still queued on our side")
        await asyncio.sleep(2.0)  # the server answers what it read; the answers wait for us
        watch.sample()
        queues = ws.server_side_queues()
        assert queues is not None, "the server's end of the connection is not in /proc/net/tcp"
        print(f"the server's end of the connection: {queues[0]} bytes received and not read by the server, "
              f"{queues[1]} bytes written and not taken by us")
        stopped_reading = stalled or queues[0] > 0

        # Reading again: every answer comes, none dropped.
        deadline = time.monotonic() + 60
        drained = asyncio.create_task(ws.drain(30))
        answered = 0
        bad = []
        while answered < sent and time.monotonic() < deadline:
            try:
                frame = await ws.recv(10)
            except (asyncio.TimeoutError, Closed) as e:
                bad.append(f"after {answered} answers: {type(e).__name__} {e}")
                break
            if frame[0] == ERROR and frame[1] != 0:
                if frame[2] != METHOD_NOT_FOUND and len(bad) < 5:
                    bad.append(frame)
                answered += 1
            elif len(bad) < 5:
                bad.append(frame)
        print(f"read back {answered} answers in {time.monotonic() - t - took:.2f} s")
        resumed = await drained
        ws.abort()
    watch.check()
    probe.check()
    served_now(calc)
    assert stopped_reading, "the server read all 100,000 CALLs although their 30 MB of answers were not read"
    assert resumed, "the server did not read the rest of our CALLs once its answers were read"
    assert not bad, f"unexpected frames: {bad}"
    assert answered == sent, f"{sent} calls sent, {answered} answered"
