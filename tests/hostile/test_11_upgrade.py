"""Attack 11: bad upgrade requests. `Sec-WebSocket-Version` must be 13: any other
version, or none, is answered `426 Upgrade Required` with `Sec-WebSocket-Version: 13`;
a `Sec-WebSocket-Key` that is not a base64 16-byte nonce is answered 400."""

from __future__ import annotations

from typing import Any

import pytest

from hostile import Prober, RssWatch, Target, http_exchange, served_now, upgrade_request

CASES: dict[str, tuple[dict[str, Any], int]] = {
    "version-8": (dict(version="8"), 426),
    "no-version": (dict(version=None), 426),
    "key-abc": (dict(key="abc"), 400),
    "good": (dict(), 101),  # the control: the same request, well formed
}


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_upgrades(calc: Target, case: str) -> None:
    headers, status = CASES[case]
    with RssWatch(calc, f"11 upgrade {case}") as watch, Prober.for_server(calc) as probe:
        answer = await http_exchange(calc, upgrade_request(calc.host, calc.port, **headers))
    watch.check()
    probe.check()
    served_now(calc)
    print(f"\n{case}: {answer.raw[:300]!r}")
    assert answer.status == status, f"expected {status}, got {answer.raw[:300]!r}"
    if status == 426:
        assert answer.headers.get("sec-websocket-version") == "13", f"426 without Sec-WebSocket-Version: 13: {answer.raw[:300]!r}"
