"""Attack 8: the connection cap. A calculator run under `ulimit -n 256` serves at most
256 - 64 = 192 connections. 300 silent TCP connections fill it; beyond the cap a new
connection is answered at once with `HTTP/1.1 503` and `Retry-After` and closed (it
does not wait out the 10 s handshake timeout), a WebSocket opened before the attack
is served all along, and once the silent connections are closed by the handshake
timeout (about 10 s) a new client is served normally."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from websockets.exceptions import InvalidStatus

from hostile import (Prober, RssWatch, Target, connection_cap, open_files_limit, open_sockets, served_now, socket_state,
                     http_exchange, upgrade_request, ws_connect_async)

SILENT = 300
HANDSHAKE_TIMEOUT = 10.0
PROMPT = 2.0  # "well under the 10 s handshake timeout"


async def test_connection_cap_answers_503_then_recovers(capped: Target) -> None:
    assert open_files_limit(capped.pid) == 256, "run.sh starts this calculator under `ulimit -n 256`"
    cap = connection_cap(capped.pid)
    assert cap == 192

    # The prober's connection is opened before the attack: it holds one of the 192 places.
    with RssWatch(capped, "08 300 silent sockets on a server capped at 192") as watch, \
            Prober.for_server(capped, every=0.5) as probe:
        t0 = time.monotonic()
        socks = await open_sockets(capped, SILENT)
        await asyncio.sleep(0.3)  # the server has accepted what it will accept
        print(f"\nopened {SILENT} silent TCP connections in {time.monotonic() - t0:.2f} s")

        # A new WebSocket client now: refused at once with 503 and Retry-After.
        t = time.monotonic()
        refused: Any = None
        try:
            ws = await ws_connect_async(capped, 5.0)
            ws.transport.abort()
        except InvalidStatus as e:
            refused = e.response
        except Exception as e:  # noqa: BLE001 - the observation is the failure
            refused = e
        took = time.monotonic() - t
        print(f"a new WebSocket client got {getattr(refused, 'status_code', refused)!r} after {took:.3f} s, "
              f"headers {dict(refused.headers) if hasattr(refused, 'headers') else None}")

        raw = await http_exchange(capped, upgrade_request(capped.host, capped.port), timeout=PROMPT)
        print(f"a raw upgrade request got: {raw.raw[:60]!r}...")

        states = [socket_state(s) for s, _ in socks]
        got_503 = sum(1 for st in states if st.startswith("data:HTTP/1.1 503"))
        kept = sum(1 for st in states if st == "open")
        other = [st[:80] for st in states if st != "open" and not st.startswith("data:HTTP/1.1 503")]
        print(f"of the {SILENT} silent connections: {kept} held open by the server, {got_503} answered 503 at once, "
              f"{len(other)} other: {other[:3]}")

        # The silent connections are closed by the handshake timeout; then a new client
        # is served. Bounded: 4 s past the timeout.
        deadline = t0 + HANDSHAKE_TIMEOUT + 4.0
        served_at = None
        attempts = []
        while time.monotonic() < deadline:
            if all(socket_state(s) != "open" for s, _ in socks):
                p = Prober.for_server(capped, fresh=True)
                probe_now = p.call_once()
                attempts.append(probe_now.answer)
                if p._good(probe_now):
                    served_at = time.monotonic() - t0
                    break
            await asyncio.sleep(0.25)
        still_open = sum(1 for s, _ in socks if socket_state(s) == "open")
        for s, _ in socks:
            s.close()
    watch.check()
    probe.check(min_probes=10)
    served_now(capped)

    print(f"a new client was served {served_at if served_at is None else round(served_at, 2)} s after the attack "
          f"began; {still_open} silent connections still open then")
    assert getattr(refused, "status_code", None) == 503, (
        f"a client over the cap got {refused!r}, not HTTP 503"
    )
    assert "retry-after" in {k.lower() for k in refused.headers}, f"no Retry-After on the 503: {dict(refused.headers)}"
    assert took < PROMPT, f"the 503 took {took:.2f} s"
    assert raw.status == 503 and "retry-after" in raw.headers, f"a raw client over the cap got {raw.raw[:200]!r}"
    assert kept <= cap, f"the server held {kept} connections open besides the prober's, over its cap of {cap}"
    assert got_503 >= SILENT - cap, f"only {got_503} of the connections over the cap were answered 503"
    assert still_open == 0, f"{still_open} silent connections were still open {HANDSHAKE_TIMEOUT + 4} s after opening"
    assert served_at is not None, f"no new client was served after the silent connections closed: {attempts[-3:]}"
