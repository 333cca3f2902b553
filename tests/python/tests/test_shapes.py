"""The wire codecs of the fixture SDK (every type shape, and fields named after
keywords): each value goes to the wire as serde expects and comes back equal."""

from __future__ import annotations

import json
from typing import Any

import msgpack  # type: ignore[import-untyped,unused-ignore]
import pytest
from shapes_client import (
    EventLocated,
    EventMoved,
    EventStarted,
    Flattened,
    Keywords,
    MessageEdit,
    MessagePair,
    MessagePing,
    MessageText,
    Optionals,
    Point,
    ShapeAt,
    ShapeCircle,
    ShapeEmpty,
    ShapeRect,
    ShapeSquare,
    Tree,
    WithFlatEnum,
    WithFlatEnumVariantMoved,
    decode_Event,
    decode_Message,
    decode_Rgb,
    decode_Shape,
    decode_Value2,
)
from shapes_client._runtime.values import to_wire


def through_both_encodings(value: Any) -> list[Any]:
    """The wire form of `value` after a trip through JSON and through MessagePack."""
    wire = to_wire(value)
    return [json.loads(json.dumps(wire)), msgpack.unpackb(msgpack.packb(wire, use_bin_type=True), raw=False)]


@pytest.mark.parametrize(
    "value, wire",
    [
        (ShapeEmpty(), "Empty"),
        (ShapeCircle(radius=1.5), {"Circle": {"radius": 1.5}}),
        (ShapeSquare(value=2.0), {"Square": 2.0}),
        (ShapeRect(value=(1.0, 2.0)), {"Rect": [1.0, 2.0]}),
        (ShapeAt(value=Point(x=1, y=2)), {"At": {"x": 1, "y": 2}}),
    ],
)
def test_externally_tagged(value: Any, wire: Any) -> None:
    assert to_wire(value) == wire
    for w in through_both_encodings(value):
        assert decode_Shape(w) == value


@pytest.mark.parametrize(
    "value, wire",
    [
        (EventStarted(), {"type": "Started"}),
        (EventMoved(to=Point(x=1, y=2)), {"type": "Moved", "to": {"x": 1, "y": 2}}),
        (EventLocated(value=Point(x=3, y=4)), {"type": "Located", "x": 3, "y": 4}),
    ],
)
def test_internally_tagged(value: Any, wire: Any) -> None:
    assert to_wire(value) == wire
    for w in through_both_encodings(value):
        assert decode_Event(w) == value


@pytest.mark.parametrize(
    "value, wire",
    [
        (MessagePing(), {"t": "Ping"}),
        (MessageText(value="hi"), {"t": "Text", "c": "hi"}),
        (MessagePair(value=(1, 2)), {"t": "Pair", "c": [1, 2]}),
        (MessageEdit(line=3, text="x"), {"t": "Edit", "c": {"line": 3, "text": "x"}}),
    ],
)
def test_adjacently_tagged(value: Any, wire: Any) -> None:
    assert to_wire(value) == wire
    for w in through_both_encodings(value):
        assert decode_Message(w) == value


def test_untagged_takes_the_first_alternative_that_fits() -> None:
    assert decode_Value2(1.5) == 1.5
    assert decode_Value2("text") == "text"
    assert decode_Value2({"x": 1, "y": 2}) == Point(x=1, y=2)
    with pytest.raises(ValueError):
        decode_Value2([1, 2])


def test_unknown_variant_is_an_error() -> None:
    with pytest.raises(ValueError):
        decode_Shape({"Hexagon": 6})


def test_flatten_and_renames() -> None:
    value = Flattened(firstName="Ada", ID=7, x=1.0, y=2.0, extra={"team": "blue"})
    wire = {"firstName": "Ada", "ID": 7, "x": 1.0, "y": 2.0, "team": "blue"}
    assert to_wire(value) == wire
    for w in through_both_encodings(value):
        assert Flattened.from_wire(w) == value


def test_flattened_enum() -> None:
    value = WithFlatEnum(name="n", variant=WithFlatEnumVariantMoved(to=Point(x=0, y=1)))
    assert to_wire(value) == {"name": "n", "type": "Moved", "to": {"x": 0, "y": 1}}
    for w in through_both_encodings(value):
        assert WithFlatEnum.from_wire(w) == value


def test_optional_is_left_out_and_nullable_comes_back() -> None:
    assert to_wire(Optionals()) == {}
    assert to_wire(Optionals(omitted=3)) == {"omitted": 3}
    assert Optionals.from_wire({"nullable": None}) == Optionals()


def test_recursive_type() -> None:
    leaf = Tree(label="leaf", children=[])
    root = Tree(label="root", children=[leaf, Tree(label="mid", children=[leaf], parent=leaf)])
    for w in through_both_encodings(root):
        assert Tree.from_wire(w) == root


def test_tuples_and_big_integers() -> None:
    assert decode_Rgb([1, 2, 3]) == (1, 2, 3)
    huge = 2**64 - 1
    assert through_both_encodings(huge) == [huge, huge]


def test_bytes_go_as_a_list_of_numbers() -> None:
    assert to_wire(b"\x00\xff") == [0, 255]


def test_keyword_fields_keep_their_wire_names() -> None:
    value = Keywords(
        class_="c", from_=1, await_=True, type_="t", self_=2, import_=3, lambda_=4, constructor=5, None_=6, kebab_case=7, _2d=8
    )
    wire = to_wire(value)
    assert wire == {
        "class": "c", "from": 1, "await": True, "type": "t", "self": 2, "import": 3,
        "lambda": 4, "constructor": 5, "None": 6, "kebab-case": 7, "2d": 8,
    }
    for w in through_both_encodings(value):
        assert Keywords.from_wire(w) == value
