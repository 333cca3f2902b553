"""The METHOD_NOT_FOUND data a client serving calls answers with (PROTOCOL.md section 7)."""

from __future__ import annotations

from _runtime.server_calls import method_not_found

SERVED = ["add", "calc.add", "calc.sci.sin", "calc.sci.cos", "version", "volley.introspect"]


def test_says_where_the_lookup_stopped_and_what_is_there() -> None:
    assert method_not_found("calc.trig.sin", SERVED) == {
        "method": "calc.trig.sin",
        "namespace": "calc",
        "missing": "trig",
        "available": ["add", "sci."],
    }
    assert method_not_found("calc.sci.tan", SERVED)["available"] == ["cos", "sin"]
    assert method_not_found("nope", SERVED) == {
        "method": "nope",
        "namespace": "",
        "missing": "nope",
        "available": ["add", "calc.", "version", "volley."],
    }


def test_a_method_the_name_goes_past_and_a_namespace_asked_as_a_method() -> None:
    past = method_not_found("calc.add.x", SERVED)
    assert (past["namespace"], past["missing"]) == ("calc", "add")
    ns = method_not_found("calc.sci", SERVED)
    assert (ns["namespace"], ns["missing"]) == ("calc.sci", "")


def test_quoted_names_are_bounded_and_the_list_capped() -> None:
    assert method_not_found("x" * 1000, SERVED)["method"] == "x" * 128 + "..."
    many = [f"m{i:03}" for i in range(100)]
    assert len(method_not_found("nope", many)["available"]) == 64
