"""The two encodings of frames (PROTOCOL.md section 2): JSON in text frames,
MessagePack in binary frames, each its own WebSocket subprotocol."""

from __future__ import annotations

import json
from typing import Any

# msgpack ships no type information; with or without stubs installed this stays quiet.
import msgpack  # type: ignore[import-untyped,unused-ignore]

__all__ = ["ENCODINGS", "Codec"]

#: The subprotocol of each encoding.
ENCODINGS = {"json": "volley.v1.json", "msgpack": "volley.v1.msgpack"}


class Codec:
    """Encodes frames to, and decodes them from, WebSocket messages of one encoding.

    Integers keep their full width in both: Python's `int` is unbounded, JSON carries
    the digits and MessagePack its 64-bit forms.
    """

    def __init__(self, name: str) -> None:
        if name not in ENCODINGS:
            raise ValueError(f"unknown encoding {name!r}: use 'json' or 'msgpack'")
        self.name = name
        self.subprotocol = ENCODINGS[name]

    def encode(self, frame: list[Any]) -> str | bytes:
        """A frame as a message: text for JSON, binary for MessagePack."""
        if self.name == "json":
            return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        packed: bytes = msgpack.packb(frame, use_bin_type=True)
        return packed

    def decode(self, data: str | bytes) -> Any:
        """The frame a message carries.

        Raises:
            ValueError: The message is of the other kind (text on MessagePack, binary on
                JSON) or does not decode.
        """
        if self.name == "json":
            if not isinstance(data, str):
                raise ValueError("a binary frame on volley.v1.json")
            return json.loads(data)
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError("a text frame on volley.v1.msgpack")
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
