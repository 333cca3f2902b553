"""Frames survive both encodings whole, 64-bit integers included."""

from __future__ import annotations

from typing import Any

import msgpack  # type: ignore[import-untyped,unused-ignore]
import pytest
from _runtime.codec import ENCODINGS, Codec
from _runtime.values import decode_bytes, list_of, map_of, optional, to_wire

FRAMES: list[list[Any]] = [
    [0, 1, "calc.add", {"a": 1, "b": 2}],
    [1, 1, 2**63 - 1],
    [1, 3, -(2**63)],
    [1, 5, 2**64 - 1],
    [3, 7, {"nested": [1.5, None, True, "é", {"k": []}]}],
    [2, 9, 1000, "boom", {"why": "x"}, {"trailer": "t"}],
    [7, 11, 16],
]


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("frame", FRAMES)
def test_round_trip(encoding: str, frame: list[Any]) -> None:
    codec = Codec(encoding)
    data = codec.encode(frame)
    assert isinstance(data, str if encoding == "json" else bytes)
    assert codec.decode(data) == frame


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_64_bit_integers_keep_every_digit(encoding: str) -> None:
    codec = Codec(encoding)
    for n in (2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1):
        (back,) = codec.decode(codec.encode([n]))
        assert back == n and isinstance(back, int)


def test_json_is_compact_and_keeps_unicode() -> None:
    assert Codec("json").encode([1, 2, {"a": "é"}]) == '[1,2,{"a":"é"}]'


def test_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        Codec("json").encode([1, 1, float("nan")])


def test_each_encoding_refuses_the_other_kind_of_message() -> None:
    with pytest.raises(ValueError, match="binary frame"):
        Codec("json").decode(b"[1]")
    with pytest.raises(ValueError, match="text frame"):
        Codec("msgpack").decode("[1]")


def test_msgpack_decodes_integer_map_keys_and_binary() -> None:
    data: bytes = msgpack.packb([3, 1, {1: b"\x00\xff"}], use_bin_type=True)
    assert Codec("msgpack").decode(data) == [3, 1, {1: b"\x00\xff"}]


def test_unknown_encoding() -> None:
    with pytest.raises(ValueError, match="unknown encoding"):
        Codec("xml")


def test_subprotocols() -> None:
    assert Codec("json").subprotocol == "volley.v1.json"
    assert Codec("msgpack").subprotocol == "volley.v1.msgpack"


class _Point:
    def __init__(self, x: int) -> None:
        self.x = x

    def to_wire(self) -> dict[str, Any]:
        return {"x": self.x}


def test_to_wire_and_decoders() -> None:
    value = {"p": _Point(2**63), "b": b"\x01\x02", "t": (1, "a"), "n": None}
    wire = to_wire(value)
    assert wire == {"p": {"x": 2**63}, "b": [1, 2], "t": [1, "a"], "n": None}
    for encoding in ENCODINGS:
        codec = Codec(encoding)
        assert codec.decode(codec.encode([wire])) == [wire]
    assert decode_bytes([1, 2]) == b"\x01\x02"
    assert list_of(decode_bytes)([[1], [2]]) == [b"\x01", b"\x02"]
    assert map_of(optional(decode_bytes))({"a": None, "b": [3]}) == {"a": None, "b": b"\x03"}
    with pytest.raises(TypeError):
        to_wire(object())
