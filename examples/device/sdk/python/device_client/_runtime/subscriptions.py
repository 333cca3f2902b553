"""What topic subscriptions and shared-state mirrors share (PROTOCOL.md sections 10 and
11): one `volley.subscribe` per name however many readers want it, renewed after a
reconnect, ended with the connection."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from .calls import CallOptions
from .connection import Connection, Extension
from .errors import VolleyError
from .values import identity

__all__ = ["Registry", "Subscriber"]

log = logging.getLogger("volley")


class Subscriber(Protocol):
    """A reader of one topic pattern or state."""

    def _end(self, error: BaseException | None) -> None: ...


class Registry(Extension):
    """The subscriptions of one kind (`what`: `"topics"` or `"states"`) on a
    connection, by name."""

    what = ""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.subs: dict[str, list[Any]] = {}

    def _added(self, name: str, sub: Any) -> None:
        """A reader joined the subscription `name` (which may have been open)."""

    def _removed(self, name: str) -> None:
        """The last reader of `name` left."""

    def _renewing(self) -> None:
        """Every subscription is about to be asked for again after a reconnect."""

    async def subscribe(self, name: str, sub: Subscriber) -> None:
        """Adds a subscription; asks the server when it is the first for `name`."""
        subs = self.subs.setdefault(name, [])
        first = not subs
        subs.append(sub)
        self._added(name, sub)
        if not first:
            return
        try:
            await self.conn.call("volley.subscribe", {self.what: [name]}, None, identity)
        except BaseException:
            subs.remove(sub)
            if not subs:
                del self.subs[name]
            raise

    async def unsubscribe(self, name: str, sub: Subscriber) -> None:
        """Removes a subscription; tells the server when it was the last for `name`."""
        subs = self.subs.get(name, [])
        if sub in subs:
            subs.remove(sub)
        if subs:
            return
        self.subs.pop(name, None)
        self._removed(name)
        if self.conn._ws is None:
            return  # the server forgot it with the connection
        try:
            await self.conn.call("volley.unsubscribe", {self.what: [name]}, CallOptions(timeout=10), identity)
        except VolleyError as e:
            log.info("unsubscribing from %r failed: %s", name, e.message)

    async def on_reconnect(self) -> None:
        """Subscribes again to every name after a reconnect."""
        if not self.subs:
            return
        self._renewing()
        try:
            await self.conn.call("volley.subscribe", {self.what: list(self.subs)}, None, identity)
        except VolleyError as e:
            log.warning("subscribing again after reconnecting failed: %s", e.message)

    def on_end(self, error: BaseException | None) -> None:
        for subs in self.subs.values():
            for sub in subs:
                sub._end(error)
        self.subs.clear()
        self._removed_all()

    def _removed_all(self) -> None:
        """Every subscription ended with the connection."""
