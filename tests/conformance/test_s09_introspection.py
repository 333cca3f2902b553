"""Section 9: introspection, at GET /schema and through `volley.introspect`."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from volleyc import CALL, RESULT, Conn, http_request, server_url

EXAMPLES = ["calculator", "streams", "hooks"]
METHOD_KEYS = {"name", "description", "deprecated", "side", "kind", "params", "result", "input", "output", "error"}
SHAPES = {"unary", "server_stream", "client_stream", "bidi_stream"}

# What the example applications declare (examples/*/src/lib.rs): name -> (side, kind).
DECLARED = {
    "calculator": {"add": ("server", "unary"), "divide": ("server", "unary"), "calc.evaluate": ("server", "unary")},
    "streams": {
        "countdown": ("server", "server_stream"), "sum": ("server", "client_stream"), "chat": ("server", "bidi_stream"),
        "job.run": ("server", "server_stream"), "sleep": ("server", "unary"), "echo_metadata": ("server", "unary"),
        "stats": ("server", "unary"), "ask": ("server", "unary"), "sum_from_client": ("server", "unary"),
        "client.confirm": ("client", "unary"), "client.numbers": ("client", "server_stream"),
    },
    "hooks": {"whoami": ("server", "unary"), "echo": ("server", "unary"), "admin.timings": ("server", "unary")},
}
RESERVED = {"volley.introspect": ("server", "unary"), "volley.subscribe": ("server", "unary"), "volley.unsubscribe": ("server", "unary")}


async def schema(example: str) -> dict[str, Any]:
    r = await http_request(server_url(example), "/schema")
    assert r.status == 200, r
    assert (r.header("content-type") or "").startswith("application/json"), r
    doc = json.loads(r.body)
    assert isinstance(doc, dict), doc
    return doc


def walk(v: Any) -> Iterator[Any]:
    yield v
    if isinstance(v, dict):
        for x in v.values():
            yield from walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk(x)


@pytest.mark.parametrize("example", EXAMPLES)
async def test_s9_schema_document_shape(example: str) -> None:
    doc = await schema(example)
    assert doc["volley"] == 3 and type(doc["volley"]) is int, doc.get("volley")
    assert doc["name"] == example
    assert isinstance(doc["version"], str) and isinstance(doc["description"], str)
    assert set(doc["encodings"]) == {"volley.v1.json", "volley.v1.msgpack"}, doc["encodings"]
    for key in ("methods", "topics", "states", "errors"):
        assert isinstance(doc[key], list), key
    assert isinstance(doc.get("$defs", {}), dict)


@pytest.mark.parametrize("example", EXAMPLES)
async def test_s9_methods_as_declared(example: str) -> None:
    """Every declared method, and the reserved ones, with their side and shape."""
    doc = await schema(example)
    got = {m["name"]: (m["side"], m["kind"]) for m in doc["methods"]}
    assert got == {**DECLARED[example], **RESERVED}, got


@pytest.mark.parametrize("example", EXAMPLES)
async def test_s9_method_entries_complete(example: str) -> None:
    doc = await schema(example)
    for m in doc["methods"]:
        assert set(m) >= METHOD_KEYS, (m["name"], sorted(m))
        assert m["kind"] in SHAPES and m["side"] in ("server", "client"), m["name"]
        assert m["deprecated"] is None or isinstance(m["deprecated"], str), m["name"]
        stream_in = m["kind"] in ("client_stream", "bidi_stream")
        stream_out = m["kind"] in ("server_stream", "bidi_stream")
        has_result = m["kind"] in ("unary", "client_stream")
        assert (m["input"] is not None) == stream_in, (m["name"], "input", m["input"])
        assert (m["output"] is not None) == stream_out, (m["name"], "output", m["output"])
        assert (m["result"] is not None) == has_result, (m["name"], "result", m["result"])


@pytest.mark.parametrize("example", EXAMPLES)
async def test_s9_params_always_object_with_properties(example: str) -> None:
    """`params` is always an object schema whose properties are the parameters by name
    (a method without parameters has `"properties": {}`); `required` names only
    properties."""
    doc = await schema(example)
    bad = []
    for m in doc["methods"]:
        p = m["params"]
        if not (isinstance(p, dict) and p.get("type") == "object" and isinstance(p.get("properties"), dict)):
            bad.append((m["name"], p))
            continue
        assert set(p.get("required", [])) <= set(p["properties"]), (m["name"], p)
    assert not bad, f"params without an object schema with properties: {bad}"


async def test_s9_required_lists_params_without_default() -> None:
    doc = await schema("streams")
    by = {m["name"]: m for m in doc["methods"]}
    assert sorted(by["countdown"]["params"]["required"]) == ["from", "interval_ms"]
    assert sorted(by["job.run"]["params"]["required"]) == ["name", "step_ms", "steps"]
    assert by["volley.subscribe"]["params"].get("required", []) == []  # both default to []


@pytest.mark.parametrize("example", EXAMPLES)
async def test_s9_refs_resolve_in_defs(example: str) -> None:
    doc = await schema(example)
    defs = doc.get("$defs", {})
    for v in walk(doc):
        if isinstance(v, dict) and "$ref" in v:
            ref = v["$ref"]
            assert ref.startswith("#/$defs/") and ref[len("#/$defs/"):] in defs, ref


async def test_s9_error_schemas() -> None:
    calc = {m["name"]: m for m in (await schema("calculator"))["methods"]}
    assert calc["divide"]["error"] == {"$ref": "#/$defs/DivError"}
    assert calc["add"]["error"] == {"$ref": "#/$defs/AddError"}
    assert calc["calc.evaluate"]["error"] is None
    streams = {m["name"]: m for m in (await schema("streams"))["methods"]}
    assert streams["job.run"]["error"] == {"$ref": "#/$defs/JobError"}


async def test_s9_constraints_as_keywords() -> None:
    doc = await schema("streams")
    by = {m["name"]: m for m in doc["methods"]}
    assert by["countdown"]["params"]["properties"]["from"]["maximum"] == 1000000
    assert by["sleep"]["params"]["properties"]["ms"]["maximum"] == 600000
    name = by["job.run"]["params"]["properties"]["name"]
    assert (name["minLength"], name["maxLength"]) == (1, 64)
    msg = doc["$defs"]["Message"]["properties"]["from"]
    assert (msg["minLength"], msg["maxLength"]) == (1, 64)
    batch = (await schema("calculator"))["$defs"]["Batch"]["properties"]
    assert (batch["label"]["minLength"], batch["label"]["maxLength"]) == (1, 64)


async def test_s9_topics_and_states_listed() -> None:
    doc = await schema("streams")
    assert [(t["name"], t["payload"]) for t in doc["topics"]] == [("jobs.finished", {"$ref": "#/$defs/JobResult"})]
    assert all(isinstance(t["description"], str) for t in doc["topics"] + doc["states"])
    assert [s["name"] for s in doc["states"]] == ["jobs"] and isinstance(doc["states"][0]["schema"], dict)


@pytest.mark.parametrize("example", EXAMPLES)
async def test_s9_introspect_method_returns_the_schema(enc: str, opener, example: str) -> None:
    """`volley.introspect` (no parameters) returns the document served at GET /schema."""
    c: Conn = await opener(example, enc)
    frames = await c.call("volley.introspect")
    assert frames[-1][0] == RESULT, frames
    assert frames[-1][2] == await schema(example)
    await c.serving()


# Parameter declaration order in examples/*/src/lib.rs.
DECLARATION_ORDER = {
    ("calculator", "add"): ["a", "b"],
    ("calculator", "divide"): ["a", "b"],
    ("streams", "countdown"): ["from", "interval_ms"],
    ("streams", "job.run"): ["name", "steps", "step_ms"],
    ("streams", "sum_from_client"): ["count"],
    ("hooks", "echo"): ["text", "delay_ms"],
}


@pytest.mark.parametrize("example,method", list(DECLARATION_ORDER), ids=[f"{e}-{m}" for e, m in DECLARATION_ORDER])
async def test_s9_params_properties_are_the_parameters(example: str, method: str) -> None:
    """The params schema's properties are the parameters by name (in no particular
    order: params are a map)."""
    doc = await schema(example)
    m = next(m for m in doc["methods"] if m["name"] == method)
    assert sorted(m["params"]["properties"]) == sorted(DECLARATION_ORDER[(example, method)]), list(m["params"]["properties"])
