"""The runtime's JSON Patch applier (RFC 6902) and topic matching, without a server:
the examples of RFC 6902's appendix A and the failures it requires."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from streams_client import PatchError, apply_patch
from streams_client._runtime.topics import topic_matches


@pytest.mark.parametrize(
    ("doc", "patch", "expected"),
    [
        # A.1 adding an object member
        ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
        # A.2 adding an array element
        ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
        # A.3 removing an object member
        ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
        # A.4 removing an array element
        ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
        # A.5 replacing a value
        ({"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
        # A.6 moving a value
        (
            {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
            [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
            {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
        ),
        # A.7 moving an array element
        ({"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}], {"foo": ["all", "cows", "eat", "grass"]}),
        # A.8 testing a value: success
        (
            {"baz": "qux", "foo": ["a", 2, "c"]},
            [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
            {"baz": "qux", "foo": ["a", 2, "c"]},
        ),
        # A.10 adding a nested member object
        ({"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}], {"foo": "bar", "child": {"grandchild": {}}}),
        # A.11 ignoring unrecognized elements
        ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
        # A.14 ~ escape ordering
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
        # A.16 adding an array value
        ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"foo": ["bar", ["abc", "def"]]}),
        # Pointer escapes: ~1 is "/", ~0 is "~".
        ({}, [{"op": "add", "path": "/a~1b", "value": 1}, {"op": "add", "path": "/m~0n", "value": 2}], {"a/b": 1, "m~n": 2}),
        # Copy, and a copy is not shared with its source.
        ({"a": {"x": [1]}}, [{"op": "copy", "from": "/a", "path": "/b"}, {"op": "add", "path": "/b/x/-", "value": 2}], {"a": {"x": [1]}, "b": {"x": [1, 2]}}),
        # The whole document: what the server's first STATE frame does.
        (None, [{"op": "replace", "path": "", "value": {"round": 1}}], {"round": 1}),
        ({"old": True}, [{"op": "add", "path": "", "value": [1, 2]}], [1, 2]),
        # PROTOCOL.md section 11's example.
        (
            {"round": 1, "players": {"ann": 0}},
            [{"op": "replace", "path": "/players/ann", "value": 3}, {"op": "add", "path": "/players/bob", "value": 1}],
            {"round": 1, "players": {"ann": 3, "bob": 1}},
        ),
        # The server's array diffs: add and remove at the end.
        ([1, 2, 3], [{"op": "remove", "path": "/2"}, {"op": "add", "path": "/2", "value": 4}, {"op": "add", "path": "/3", "value": 5}], [1, 2, 4, 5]),
        # Equal numbers of different kinds pass a test; 1.0 == 1.
        ({"n": 1}, [{"op": "test", "path": "/n", "value": 1.0}], {"n": 1}),
        # Moving to where it is changes nothing.
        ({"a": 1}, [{"op": "move", "from": "/a", "path": "/a"}], {"a": 1}),
        ([], [], []),
    ],
)
def test_patches_apply(doc: Any, patch: list[dict[str, Any]], expected: Any) -> None:
    before = copy.deepcopy(doc)
    assert apply_patch(doc, patch) == expected
    assert doc == before, "the original document must not change"


@pytest.mark.parametrize(
    ("doc", "patch"),
    [
        # A.9 testing a value: error
        ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),
        # A.12 adding to a nonexistent target
        ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}]),
        # A.15 comparing strings and numbers
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}]),
        # true is not 1
        ({"a": True}, [{"op": "test", "path": "/a", "value": 1}]),
        ({"a": [1]}, [{"op": "test", "path": "/a", "value": [True]}]),
        ({}, [{"op": "remove", "path": "/missing"}]),
        ({}, [{"op": "replace", "path": "/missing", "value": 1}]),
        ([1], [{"op": "replace", "path": "/1", "value": 1}]),
        ([1], [{"op": "add", "path": "/2", "value": 1}]),
        ([1], [{"op": "remove", "path": "/-"}]),
        ([1, 2], [{"op": "remove", "path": "/01"}]),
        ([1], [{"op": "add", "path": "/x", "value": 1}]),
        ({"a": 1}, [{"op": "add", "path": "/a/b", "value": 1}]),
        ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}]),
        ({"a": 1}, [{"op": "copy", "from": "/nope", "path": "/b"}]),
        ({}, [{"op": "add", "path": "no-slash", "value": 1}]),
        ({}, [{"op": "add", "path": "/a"}]),
        ({}, [{"op": "frobnicate", "path": "/a", "value": 1}]),
        ({}, [{"path": "/a", "value": 1}]),
        ({}, [["add", "/a", 1]]),
        ({}, {"op": "add", "path": "/a", "value": 1}),
    ],
)
def test_bad_patches_fail(doc: Any, patch: Any) -> None:
    with pytest.raises(PatchError):
        apply_patch(doc, patch)


def test_a_failing_patch_applies_nothing() -> None:
    doc = {"a": 1}
    with pytest.raises(PatchError) as caught:
        apply_patch(doc, [{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 2}])
    assert "operation 1" in str(caught.value)
    assert doc == {"a": 1}


@pytest.mark.parametrize(
    ("pattern", "topic", "matches"),
    [
        ("jobs.finished", "jobs.finished", True),
        ("jobs.finished", "jobs.finishedx", False),
        ("jobs.*", "jobs.finished", True),
        ("jobs.*", "jobs.a.b", True),
        ("jobs.*", "jobs", False),
        ("jobs.*", "jobs.", False),
        ("jobs.*", "jobsx.finished", False),
        ("*", "anything", True),
    ],
)
def test_topic_patterns(pattern: str, topic: str, matches: bool) -> None:
    assert topic_matches(pattern, topic) is matches
