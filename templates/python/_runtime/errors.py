"""Errors and warnings of the volley protocol (PROTOCOL.md section 7)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DATA_LOSS",
    "ErrorCode",
    "VolleyConnectionError",
    "VolleyError",
    "VolleyWarning",
    "code_name",
]

#: The warning code the server sends on id 0 when it dropped notifications for this
#: connection (PROTOCOL.md section 7): `data` is `{"dropped": n}`.
DATA_LOSS = 299


class ErrorCode(enum.IntEnum):
    """The protocol's error codes (PROTOCOL.md section 7)."""

    BAD_FRAME = 400
    UNAUTHENTICATED = 401
    PERMISSION_DENIED = 403
    METHOD_NOT_FOUND = 404
    EVENT_NOT_ALLOWED = 405
    TRANSITION_NOT_ALLOWED = 406
    OPERATION_NOT_FOUND = 407
    DEADLINE_EXCEEDED = 408
    DUPLICATE_CALL_ID = 409
    UNKNOWN_CALL = 410
    PROTOCOL_VIOLATION = 412
    FRAME_TOO_LARGE = 413
    WRONG_ENCODING = 415
    INVALID_PARAMS = 422
    CREDIT_EXCEEDED = 429
    CANCELLED = 499
    INTERNAL = 500
    UNIMPLEMENTED = 501
    UNAVAILABLE = 503
    APPLICATION = 1000


def code_name(code: int) -> str:
    """The name of an error or warning code, such as `INVALID_PARAMS`, or
    `APPLICATION_<n>`."""
    if code == DATA_LOSS:
        return "DATA_LOSS"
    if code == 298:
        return "DEPRECATED"
    try:
        return ErrorCode(code).name
    except ValueError:
        return f"APPLICATION_{code}" if code >= 1000 else f"CODE_{code}"


class VolleyError(Exception):
    """A call failed: the server answered `ERROR`, the deadline passed, or the
    connection dropped.

    Attributes:
        code: The error code (see `ErrorCode`); 1000 (`APPLICATION`) is the method's own
            error, with `data` of the method's error type.
        message: What went wrong, for people.
        data: Details, as sent by the server (decoded to the method's error type by the
            method's own error class, where the schema declares one).
        trailers: Trailing metadata sent with the error.
        method: The method called, when known.
    """

    def __init__(
        self,
        code: int,
        message: str,
        data: Any = None,
        trailers: dict[str, str] | None = None,
        method: str | None = None,
    ) -> None:
        super().__init__(f"{code_name(code)} ({code}): {message}")
        self.code = code
        self.message = message
        self.data = data
        self.trailers: dict[str, str] = dict(trailers or {})
        self.method = method

    @property
    def code_name(self) -> str:
        """The code's name, such as `INVALID_PARAMS`, or `APPLICATION_<n>`."""
        return code_name(self.code)


class VolleyConnectionError(VolleyError):
    """The connection is closed or was lost, or could not be opened; every call in
    flight on it fails with this.

    Its code is `UNAVAILABLE` (503), or, when the server refused the WebSocket upgrade
    with a `volley-error-code` header, that code (such as `UNAUTHENTICATED` for HTTP
    401).

    Attributes:
        status: The HTTP status the server refused the WebSocket upgrade with, when it
            did.
    """

    def __init__(
        self,
        message: str,
        method: str | None = None,
        *,
        code: int = ErrorCode.UNAVAILABLE,
        status: int | None = None,
    ) -> None:
        super().__init__(code, message, None, None, method)
        self.status = status


@dataclass(frozen=True)
class VolleyWarning:
    """A `WARNING` frame: something the peer wants known that ends nothing."""

    code: int
    message: str
    data: Any = None
