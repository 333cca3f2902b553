"""Values on the wire: what the encoders take (`to_wire`) and the decoders the
generated types and methods are built from."""

from __future__ import annotations

from typing import Any, Callable, Mapping, TypeVar

__all__ = [
    "decode_bytes",
    "identity",
    "is_integer",
    "is_number",
    "list_of",
    "map_of",
    "optional",
    "to_wire",
]

T = TypeVar("T")


def to_wire(value: Any) -> Any:
    """A value as the encoders take it: dataclasses of the SDK become maps, bytes lists
    of integers (serde's `Vec<u8>`), tuples lists."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    encode = getattr(value, "to_wire", None)
    if encode is not None:
        return encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return list(bytes(value))
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    raise TypeError(f"cannot send a value of type {type(value).__name__}")


def identity(value: Any) -> Any:
    """The decoder of values that arrive as they are."""
    return value


def decode_bytes(value: Any) -> bytes:
    """Bytes arrive as a list of integers (or, in MessagePack, as binary)."""
    return bytes(value)


def list_of(item: Callable[[Any], T]) -> Callable[[Any], list[T]]:
    """The decoder of a list whose items `item` decodes."""
    return lambda value: [item(v) for v in value]


def map_of(item: Callable[[Any], T]) -> Callable[[Any], dict[str, T]]:
    """The decoder of a map whose values `item` decodes."""
    return lambda value: {k: item(v) for k, v in value.items()}


def optional(item: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """The decoder of a nullable value."""
    return lambda value: None if value is None else item(value)


def is_number(value: Any) -> bool:
    """Whether a wire value is a number (booleans are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_integer(value: Any) -> bool:
    """Whether a wire value is an integer (booleans are not)."""
    return isinstance(value, int) and not isinstance(value, bool)
