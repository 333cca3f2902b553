"""Section 7: error codes and the data they carry."""

from __future__ import annotations

import re

import pytest

import volleyc
from volleyc import CALL, METHOD_NOT_FOUND, PERMISSION_DENIED, RESULT, UNAUTHENTICATED, Conn, assert_error, http_request, server_url
from test_s02_frames import section


def spec_codes() -> dict[int, str]:
    """Every `| code | NAME |` row of section 7's two tables."""
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*`([A-Z_]+)`", section(7), re.M)
    return {int(code): name for code, name in rows}


def test_s7_spec_lists_the_codes() -> None:
    codes = spec_codes()
    assert codes == {
        400: "BAD_FRAME", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "METHOD_NOT_FOUND", 405: "EVENT_NOT_ALLOWED", 406: "TRANSITION_NOT_ALLOWED", 407: "OPERATION_NOT_FOUND",
        408: "DEADLINE_EXCEEDED", 409: "DUPLICATE_CALL_ID", 410: "UNKNOWN_CALL", 412: "PROTOCOL_VIOLATION",
        413: "FRAME_TOO_LARGE", 415: "WRONG_ENCODING", 422: "INVALID_PARAMS", 429: "CREDIT_EXCEEDED",
        499: "CANCELLED", 500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE", 1000: "APPLICATION",
        299: "DATA_LOSS", 298: "DEPRECATED",
    }, codes


@pytest.mark.parametrize("example", ["calculator", "streams", "hooks"])
async def test_s7_schema_errors_match_spec(example: str) -> None:
    """The schema's `errors` list names every code of section 7 as the spec does."""
    import json

    r = await http_request(server_url(example), "/schema")
    doc = json.loads(r.body)
    listed = {e["code"]: e["name"] for e in doc["errors"]}
    assert listed == spec_codes(), listed
    for e in doc["errors"]:
        assert isinstance(e.get("description"), str) and e["description"].strip(), e


def not_found_data(served: list[str], method: str) -> dict:
    """Section 7's `METHOD_NOT_FOUND` data for `method`, worked out from the served names."""
    segments = method.split(".")

    def is_namespace(prefix: str) -> bool:
        return any(m.startswith(prefix + ".") for m in served)

    depth = 0
    while depth < len(segments) and is_namespace(".".join(segments[: depth + 1])):
        depth += 1
    namespace = ".".join(segments[:depth])
    missing = segments[depth] if depth < len(segments) else ""
    under = [m if not namespace else m[len(namespace) + 1 :] for m in served if not namespace or m.startswith(namespace + ".")]
    available = sorted({u.split(".")[0] + "." if "." in u else u for u in under})[:64]
    return {"method": method, "namespace": namespace, "missing": missing, "available": available}


@pytest.mark.parametrize(
    "method",
    ["nope", "volley.nope", "calc.add", "calc.evaluate.x", "calc", "Add", ""],
    ids=["plain", "reserved-prefix", "wrong-namespace", "below-a-method", "a-namespace", "case", "empty"],
)
async def test_s7_method_not_found_data(calc: Conn, method: str) -> None:
    """The data names the namespace where the lookup stopped, the missing segment and
    what that namespace has, computed here from the served methods in the schema."""
    import json

    doc = json.loads((await http_request(server_url("calculator"), "/schema")).body)
    served = [m["name"] for m in doc["methods"] if m["side"] == "server"]
    await calc.send([CALL, 1, method, {}])
    assert_error(await calc.recv(), 1, METHOD_NOT_FOUND, not_found_data(served, method))
    await calc.quiet()
    await calc.serving()


async def test_s7_method_not_found_in_a_namespace(calc: Conn) -> None:
    """`calc.nope` on the calculator (which serves `calc.evaluate`) stops in `calc`."""
    await calc.send([CALL, 1, "calc.nope", {}])
    frame = await calc.recv()
    assert_error(frame, 1, METHOD_NOT_FOUND, lambda d: d["namespace"] == "calc" and d["missing"] == "nope" and "evaluate" in d["available"])
    await calc.serving()


async def test_s7_application_error_is_1000_with_typed_data(calc: Conn) -> None:
    await calc.send([CALL, 1, "divide", {"a": 5, "b": 0}])
    assert_error(await calc.recv(), 1, 1000, {"kind": "DivisionByZero"})


@pytest.mark.parametrize(
    "headers,code",
    [([], UNAUTHENTICATED), ([("Authorization", "Bearer bob-token")], PERMISSION_DENIED)],
    ids=["anonymous-401", "user-403"],
)
async def test_s7_unauthenticated_and_permission_denied_on_call(enc: str, opener, headers: list, code: int) -> None:
    """A hook refusing one call answers it with UNAUTHENTICATED or PERMISSION_DENIED; the
    connection goes on."""
    c: Conn = await opener("hooks", enc, headers=headers)
    frames = await c.call("admin.timings")
    assert_error(frames[-1], 1, code)
    assert all(f[0] == volleyc.META for f in frames[:-1]), frames
    await c.serving()


async def test_s7_admin_allowed(enc: str, opener) -> None:
    c: Conn = await opener("hooks", enc, headers=[("Authorization", "Bearer alice-token")])
    frames = await c.call("admin.timings")
    assert frames[-1][0] == RESULT and isinstance(frames[-1][2], dict), frames
