"""Attack 7: 2,000 TCP connections that never send a byte, and 300 that dribble the
head of an HTTP request one byte at a time and never finish it. The server gives every
connection 10 s to complete its HTTP request (the upgrade): after 12 s every one of them
is closed by the server, and a normal client is served all along."""

from __future__ import annotations

import asyncio
import time

from hostile import Prober, RssWatch, Target, connection_cap, open_sockets, served_now, socket_state

SILENT = 2000
DRIBBLERS = 300
HANDSHAKE_TIMEOUT = 10.0
CLOSED_BY = 12.0  # seconds after a connection opened
DRIBBLE = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200


async def test_silent_and_dribbling_connections_are_closed(calc: Target) -> None:
    cap = connection_cap(calc.pid)
    assert cap >= SILENT + DRIBBLERS + 50, (
        f"the calculator's connection cap is {cap} (its open-file limit minus 64): raise `ulimit -n` in run.sh "
        f"so {SILENT + DRIBBLERS} connections fit under it"
    )
    with RssWatch(calc, "07 2,000 silent + 300 dribbling sockets") as watch, \
            Prober.for_server(calc, fresh=True, every=0.5) as probe:
        t0 = time.monotonic()
        silent = await open_sockets(calc, SILENT)
        dribblers = await open_sockets(calc, DRIBBLERS)
        opened = time.monotonic() - t0
        print(f"\nopened {SILENT} silent and {DRIBBLERS} dribbling connections in {opened:.2f} s")
        everyone = silent + dribblers
        dribbling = {id(s) for s, _ in dribblers}
        closed_after: dict[int, float] = {}
        how: dict[str, int] = {}
        sent = {id(s): 0 for s, _ in dribblers}
        data_seen: list[str] = []
        last_open = max(t for _, t in everyone)
        deadline = last_open + CLOSED_BY
        next_byte = time.monotonic()
        # Bounded: CLOSED_BY seconds after the last connection opened.
        while len(closed_after) < len(everyone) and time.monotonic() < deadline:
            now = time.monotonic()
            dribble = now >= next_byte
            if dribble:
                next_byte = now + 0.5
            for s, at in everyone:
                key = id(s)
                if key in closed_after:
                    continue
                state = socket_state(s)
                if state == "open" and dribble and key in dribbling and sent[key] < len(DRIBBLE):
                    try:
                        s.send(DRIBBLE[sent[key]:sent[key] + 1])
                        sent[key] += 1
                    except OSError as e:
                        state = f"send:{e.errno}"
                if state.startswith("data:"):
                    data_seen.append(state[:120])
                    continue
                if state != "open":
                    closed_after[key] = time.monotonic() - at
                    how[state] = how.get(state, 0) + 1
            watch.sample()
            await asyncio.sleep(0.2)
        still_open = [(s, at) for s, at in everyone if id(s) not in closed_after]
        for s, _ in everyone:
            s.close()
    watch.check()
    probe.check(min_probes=10)
    served_now(calc)

    times = sorted(closed_after.values())
    print(f"closed by the server: {len(closed_after)} of {len(everyone)} ({how}), "
          f"{times[0] if times else float('nan'):.2f} s to {times[-1] if times else float('nan'):.2f} s after opening; "
          f"dribblers sent up to {max(sent.values())} bytes each")
    assert not data_seen, f"the server sent something to a connection that never completed a request: {data_seen[:3]}"
    assert not still_open, (
        f"{len(still_open)} of {len(everyone)} connections still open {CLOSED_BY} s after they were opened "
        f"({sum(1 for s, _ in still_open if id(s) in dribbling)} of them dribbling)"
    )
