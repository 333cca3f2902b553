"""Frame kinds and fields (PROTOCOL.md sections 2, 4 and 6)."""

from __future__ import annotations

from typing import Any, Mapping

__all__ = [
    "CALL",
    "CANCEL",
    "CREDIT",
    "DEFAULT_WINDOW",
    "END",
    "ERROR",
    "ITEM",
    "META",
    "NOTIFY",
    "RESULT",
    "STATE",
    "STOP",
    "WARNING",
    "Metadata",
    "metadata",
]

#: Metadata: a map from string to string (PROTOCOL.md section 6).
Metadata = dict[str, str]

# Frame kinds (PROTOCOL.md section 2).
CALL, RESULT, ERROR, ITEM, END, CANCEL, STOP, CREDIT, META, WARNING, NOTIFY, STATE = range(12)

#: The stream window when a call does not set one: how many items the peer may send
#: before it is granted more credit (PROTOCOL.md section 4).
DEFAULT_WINDOW = 32


def metadata(frame: list[Any], index: int) -> Metadata:
    """The metadata at `index` of `frame`, empty when it has none."""
    if len(frame) > index and isinstance(frame[index], Mapping):
        return {str(k): str(v) for k, v in frame[index].items()}
    return {}
