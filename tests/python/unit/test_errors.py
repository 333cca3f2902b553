"""Error codes and the refused-upgrade error."""

from __future__ import annotations

from _runtime.errors import ErrorCode, VolleyConnectionError, VolleyError, code_name
from _runtime.topics import topic_matches
from _runtime.transport import ws_url


def test_code_names() -> None:
    assert code_name(422) == "INVALID_PARAMS"
    assert code_name(299) == "DATA_LOSS"
    assert code_name(1001) == "APPLICATION_1001"
    assert code_name(7) == "CODE_7"
    assert str(VolleyError(ErrorCode.CANCELLED, "stop")) == "CANCELLED (499): stop"


def test_connection_error_is_unavailable_with_a_status() -> None:
    e = VolleyConnectionError("no", code=ErrorCode.UNAUTHENTICATED, status=401)
    assert isinstance(e, VolleyError) and e.code == 401 and e.status == 401
    assert VolleyConnectionError("lost").code == ErrorCode.UNAVAILABLE


def test_ws_url() -> None:
    assert ws_url("http://h/ws") == "ws://h/ws"
    assert ws_url("https://h/") == "wss://h/"
    assert ws_url("ws://h/") == "ws://h/"


def test_topic_patterns() -> None:
    assert topic_matches("jobs.*", "jobs.done")
    assert not topic_matches("jobs.*", "jobs.")
    assert not topic_matches("jobs.*", "jobsx.done")
    assert topic_matches("*", "anything")
    assert topic_matches("a", "a") and not topic_matches("a", "b")
