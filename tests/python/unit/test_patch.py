"""JSON Patch application (RFC 6902) as the shared-state mirror uses it; the RFC's
appendix A runs end to end in tests/test_json_patch.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from _runtime.patch import PatchError, apply_patch


def test_every_operation() -> None:
    doc = {"a": [1, 2], "b": {"c": 1}}
    patch = [
        {"op": "move", "from": "/b/c", "path": "/moved"},
        {"op": "copy", "from": "/a", "path": "/b/copy"},
        {"op": "test", "path": "/moved", "value": 1},
        {"op": "add", "path": "/a/-", "value": 3},
        {"op": "remove", "path": "/a/0"},
        {"op": "replace", "path": "/moved", "value": "x"},
    ]
    assert apply_patch(doc, patch) == {"a": [2, 3], "b": {"copy": [1, 2]}, "moved": "x"}


def test_the_document_is_never_changed() -> None:
    doc: dict[str, Any] = {"a": {"b": [1]}}
    before = copy.deepcopy(doc)
    new = apply_patch(doc, [{"op": "add", "path": "/a/b/-", "value": 2}])
    assert doc == before and new == {"a": {"b": [1, 2]}}


def test_a_patch_applies_whole_or_not_at_all() -> None:
    doc = {"a": 1}
    with pytest.raises(PatchError, match="operation 1"):
        apply_patch(doc, [{"op": "add", "path": "/b", "value": 2}, {"op": "remove", "path": "/nope"}])
    assert doc == {"a": 1}


def test_whole_document_and_from_nothing() -> None:
    assert apply_patch(None, [{"op": "replace", "path": "", "value": {"x": 1}}]) == {"x": 1}
    assert apply_patch({"x": 1}, [{"op": "add", "path": "", "value": [1]}]) == [1]


def test_pointer_escapes() -> None:
    doc = {"a/b": 1, "m~n": 2}
    assert apply_patch(doc, [{"op": "replace", "path": "/a~1b", "value": 3}, {"op": "remove", "path": "/m~0n"}]) == {"a/b": 3}


def test_test_compares_json_values() -> None:
    assert apply_patch({"n": 1}, [{"op": "test", "path": "/n", "value": 1.0}]) == {"n": 1}
    with pytest.raises(PatchError):
        apply_patch({"n": 1}, [{"op": "test", "path": "/n", "value": True}])


@pytest.mark.parametrize(
    "patch",
    [
        "not a list",
        [{"op": "frobnicate", "path": "/a"}],
        [{"op": "add", "path": "a", "value": 1}],
        [{"op": "add", "path": "/a/5", "value": 1}],
        [{"op": "add", "path": "/a/01", "value": 1}],
        [{"op": "add", "path": "/a/0"}],
        [{"op": "replace", "path": "/nope", "value": 1}],
        [{"op": "move", "from": "/a", "path": "/a/0"}],
        [{"op": "remove", "path": "/a/x"}],
        ["not an op"],
    ],
)
def test_malformed_and_impossible_patches(patch: Any) -> None:
    with pytest.raises(PatchError):
        apply_patch({"a": [0]}, patch)
