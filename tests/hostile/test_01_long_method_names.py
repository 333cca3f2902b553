"""Attack 1: 400 calls to unknown methods whose names are ~900 KB each, answers never
read. The server answers METHOD_NOT_FOUND quoting at most 128 characters of the name,
so the answers stay small and its memory stays flat."""

from __future__ import annotations

import asyncio
import time

from hostile import ERROR, FRAME_LIMIT, METHOD_NOT_FOUND, Prober, RawWS, RssWatch, Target, served_now

CALLS = 400
NAME_LEN = 900_000
QUOTE_LIMIT = 128


async def test_huge_unknown_method_names_never_read(calc: Target) -> None:
    name = "x" * NAME_LEN
    assert len(f'[0,{2 * CALLS + 1},"{name}",{{}}]') < FRAME_LIMIT, "each CALL must stay under the 1 MiB frame limit"

    with RssWatch(calc, "01 400 x 900 KB unknown method names, unread") as watch, Prober.for_server(calc) as probe:
        ws = await RawWS.open(calc, "json", rcvbuf=4096)
        t = time.monotonic()
        sent = 0
        for i in range(CALLS):
            ws.send([0, 2 * i + 1, name, {}])
            if not await ws.drain(15):
                break
            sent += 1
        print(f"\nsent {sent} CALLs with {NAME_LEN}-byte method names in {time.monotonic() - t:.2f} s, reading nothing")
        await asyncio.sleep(1.0)  # let the server finish what it read
        ws.abort()
    watch.check()
    probe.check()
    served_now(calc)
    assert sent == CALLS, f"the server stopped taking CALLs after {sent} (their answers are small: it should not need to)"

    # The answer, read this time on a fresh connection: the name is quoted bounded.
    ws = await RawWS.open(calc, "json")
    try:
        ws.send([0, 1, name, {}])
        await ws.drain(10)
        frame = await ws.recv_final(1, timeout=10)
    finally:
        ws.abort()
    assert frame[0] == ERROR and frame[2] == METHOD_NOT_FOUND, frame
    message, data = frame[3], frame[4] if len(frame) > 4 else None
    print(f"answer: message {message!r} ({len(message)} chars), data {data!r}")
    assert message.count("x") <= QUOTE_LIMIT, f"the message quotes {message.count('x')} characters of the name: {message[:300]!r}"
    assert isinstance(data, dict) and isinstance(data.get("method"), str), frame
    assert data["method"].count("x") <= QUOTE_LIMIT, f"data.method quotes {data['method'].count('x')} characters of the name"
    assert data["method"].startswith("x" * QUOTE_LIMIT), f"data.method is not the name's prefix: {data['method'][:200]!r}"
