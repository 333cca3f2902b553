"""JSON Patch (RFC 6902) with JSON Pointer paths (RFC 6901): how shared states change
(PROTOCOL.md section 11)."""

from __future__ import annotations

import copy
from typing import Any, Mapping

from .values import is_number

__all__ = ["PatchError", "apply_patch"]


class PatchError(ValueError):
    """A JSON Patch (RFC 6902) could not be applied: a path that does not exist, an
    index out of range, a failed `test`, or a malformed operation."""


def apply_patch(doc: Any, patch: Any) -> Any:
    """Applies a JSON Patch (RFC 6902) to `doc` and answers the new document.

    Every operation of RFC 6902 is supported: `add`, `remove`, `replace`, `move`,
    `copy` and `test`, with JSON Pointer paths (RFC 6901: `~1` is `/`, `~0` is `~`,
    `-` appends to an array). `doc` itself is never changed, so earlier snapshots stay
    as they were; a patch applies as a whole or not at all.

    Raises:
        PatchError: An operation failed; nothing is applied.
    """
    if not isinstance(patch, list):
        raise PatchError("a patch is a list of operations")
    result = copy.deepcopy(doc)
    for i, op in enumerate(patch):
        try:
            result = _apply_op(result, op)
        except PatchError as e:
            raise PatchError(f"operation {i} of the patch: {e}") from None
    return result


def _apply_op(doc: Any, op: Any) -> Any:
    if not isinstance(op, Mapping):
        raise PatchError(f"an operation is a map, not {op!r}")
    name = op.get("op")
    path = _pointer(op.get("path"))
    if name == "add":
        return _add(doc, path, copy.deepcopy(_op_value(op)))
    if name == "remove":
        return _remove(doc, path)[0]
    if name == "replace":
        value = copy.deepcopy(_op_value(op))
        if not path:
            return value
        parent, key = _parent(doc, path)
        if isinstance(parent, dict):
            if key not in parent:
                raise PatchError(f"no member {key!r} to replace")
            parent[key] = value
        else:
            parent[_index(key, len(parent))] = value
        return doc
    if name == "move":
        source = _pointer(op.get("from"))
        if source == path:
            _get(doc, source)
            return doc
        if path[: len(source)] == source:
            raise PatchError("cannot move a value into itself")
        doc, value = _remove(doc, source)
        return _add(doc, path, value)
    if name == "copy":
        value = copy.deepcopy(_get(doc, _pointer(op.get("from"))))
        return _add(doc, path, value)
    if name == "test":
        if not _json_equal(_get(doc, path), _op_value(op)):
            raise PatchError(f"test failed at {op.get('path')!r}")
        return doc
    raise PatchError(f"unknown operation {name!r}")


def _op_value(op: Mapping[str, Any]) -> Any:
    if "value" not in op:
        raise PatchError(f"{op.get('op')} without a value")
    return op["value"]


def _pointer(path: Any) -> list[str]:
    """The reference tokens of a JSON Pointer (RFC 6901)."""
    if not isinstance(path, str):
        raise PatchError(f"a path is a string, not {path!r}")
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"a path starts with '/': {path!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _index(token: str, size: int) -> int:
    """An array index token, which must be below `size`."""
    if not token.isdigit() or (len(token) > 1 and token[0] == "0") or not token.isascii():
        raise PatchError(f"{token!r} is not an array index")
    i = int(token)
    if i >= size:
        raise PatchError(f"index {i} is out of range (length {size})")
    return i


def _get(doc: Any, path: list[str]) -> Any:
    for token in path:
        if isinstance(doc, dict):
            if token not in doc:
                raise PatchError(f"no member {token!r}")
            doc = doc[token]
        elif isinstance(doc, list):
            doc = doc[_index(token, len(doc))]
        else:
            raise PatchError(f"cannot look up {token!r} in a {type(doc).__name__}")
    return doc


def _parent(doc: Any, path: list[str]) -> tuple[Any, str]:
    parent = _get(doc, path[:-1])
    if not isinstance(parent, (dict, list)):
        raise PatchError(f"cannot look up {path[-1]!r} in a {type(parent).__name__}")
    return parent, path[-1]


def _add(doc: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent, key = _parent(doc, path)
    if isinstance(parent, dict):
        parent[key] = value
    else:
        parent.insert(len(parent) if key == "-" else _index(key, len(parent) + 1), value)
    return doc


def _remove(doc: Any, path: list[str]) -> tuple[Any, Any]:
    """Removes the value at `path`: answers the document and the value removed."""
    if not path:
        return None, doc
    parent, key = _parent(doc, path)
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"no member {key!r} to remove")
        return doc, parent.pop(key)
    return doc, parent.pop(_index(key, len(parent)))


def _json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: `1 == 1.0`, but `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and bool(a == b)
