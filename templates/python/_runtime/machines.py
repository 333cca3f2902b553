"""State-machine sessions (PROTOCOL.md section 13): each connection has its own session
of each machine; events are calls of `<machine>.<event>`, and the transitions and data
events the server pushes arrive as `NOTIFY` on the machine's topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Generic, Mapping, TypeVar

from .calls import CallOptions
from .connection import Connection, Extension
from .frames import NOTIFY
from .readers import Backlog
from .values import identity

__all__ = ["DataEvent", "MachineSession", "Machines", "Transition", "RESET"]

T = TypeVar("T")
X = TypeVar("X")

#: The status of a transition the client reports itself after a reconnect: the session
#: is new (a new connection), so it is where the server says, not where an event moved it.
RESET = 205

@dataclass(frozen=True)
class Transition:
    """A transition: the session's new state, the events it accepts, the status the
    server's handler gave, and the data of the transition into that state (decoded to
    the state's type)."""

    state: str
    events: tuple[str, ...]
    status: int
    data: Any


@dataclass(frozen=True)
class DataEvent(Generic[X]):
    """A data event: a status and data, without a transition."""

    status: int
    data: X


class Machines(Extension):
    """The sessions of one connection, by machine name: takes the pushes on their
    topics, and asks where each is after a reconnect."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.sessions: dict[str, MachineSession[Any]] = {}

    def on_frame(self, frame: list[Any]) -> bool:
        if frame[0] != NOTIFY or len(frame) < 2:
            return False
        session = self.sessions.get(str(frame[1]))
        if session is None:
            return False
        session._pushed(frame[2] if len(frame) > 2 else None)
        return True

    async def on_reconnect(self) -> None:
        for session in list(self.sessions.values()):
            await session.sync(RESET)

    def on_end(self, error: BaseException | None) -> None:
        for session in self.sessions.values():
            session._end(error)


class MachineSession(Generic[X]):
    """This connection's session of one machine, as the generated session classes
    build on: `state`, `data`, `send`, `on_transition`, `on_data`, `async for` over
    `transitions()` and `data_events()`, and `sync()`.

    `shape` lists the states (the initial one first) and each state's events;
    `decoders` decode each state's transition data, `transmit` the data events'.
    """

    def __init__(
        self,
        conn: Connection,
        name: str,
        shape: Mapping[str, tuple[str, ...]],
        decoders: Mapping[str, Callable[[Any], Any]],
        transmit: Callable[[Any], X],
    ) -> None:
        self._c = conn
        self.name = name
        self._shape = shape
        self._decoders = decoders
        self._transmit = transmit
        self._state = next(iter(shape), "")
        self._data: Any = None
        self._on_transition: list[Callable[[Transition], None]] = []
        self._on_data: list[Callable[[DataEvent[X]], None]] = []
        self._transition_readers: list[Backlog[Transition]] = []
        self._data_readers: list[Backlog[DataEvent[X]]] = []
        conn.extension(Machines).sessions[name] = self

    @property
    def state(self) -> str:
        """The session's current state, as this client last heard."""
        return self._state

    @property
    def data(self) -> Any:
        """The data of the transition into the current state (`None` until one came)."""
        return self._data

    @property
    def events(self) -> tuple[str, ...]:
        """The events the current state accepts."""
        return self._shape.get(self._state, ())

    async def send(self, event: str, data: Any = None, options: CallOptions | None = None, decode: Callable[[Any], Any] = identity) -> Any:
        """Sends `event` with `data` (a unary call of `<machine>.<event>`) and returns
        its result, once every push it made has been delivered. Raises `VolleyError`
        with `EVENT_NOT_ALLOWED` (405) when the session's state does not accept it,
        `TRANSITION_NOT_ALLOWED` (406) when its handler tried a forbidden transition."""
        return await self._c.unary(f"{self.name}.{event}", {"data": data}, options, decode)

    def on_transition(self, listener: Callable[[Transition], None]) -> Callable[[], None]:
        """Calls `listener` with each transition; returns a function that stops it."""
        self._on_transition.append(listener)
        return lambda: self._on_transition.remove(listener) if listener in self._on_transition else None

    def on_data(self, listener: Callable[[DataEvent[X]], None]) -> Callable[[], None]:
        """Calls `listener` with each data event; returns a function that stops it."""
        self._on_data.append(listener)
        return lambda: self._on_data.remove(listener) if listener in self._on_data else None

    def transitions(self) -> AsyncIterator[Transition]:
        """The transitions from now on: `async for t in session.transitions():`. Goes on
        across reconnects and ends when the client closes; a reader that falls 1024
        behind gets those it has, then `OverflowError`."""
        reader: Backlog[Transition] = Backlog(f"the transitions of {self.name}")
        self._transition_readers.append(reader)
        return self._read(reader, self._transition_readers)

    def data_events(self) -> AsyncIterator[DataEvent[X]]:
        """The data events from now on, as `transitions()`."""
        reader: Backlog[DataEvent[X]] = Backlog(f"the data events of {self.name}")
        self._data_readers.append(reader)
        return self._read(reader, self._data_readers)

    async def sync(self, status: int = RESET) -> str:
        """Asks the server where the session is (`volley.machine`); if that is not the
        state this client knew, reports it as a transition with `status`."""
        where = await self._c.unary("volley.machine", {"machine": self.name}, None, identity)
        if isinstance(where, Mapping) and where.get("state") != self._state:
            state = str(where.get("state"))
            self._moved(Transition(state, tuple(str(e) for e in where.get("events") or ()), status, None))
        return self._state

    # -- pushes in --

    def _pushed(self, value: Any) -> None:
        if not isinstance(value, Mapping):
            return
        status = value.get("status")
        status = status if isinstance(status, int) and not isinstance(status, bool) else 0
        if isinstance(value.get("state"), str):
            state = value["state"]
            events = value.get("events")
            names = tuple(str(e) for e in events) if isinstance(events, (list, tuple)) else self._shape.get(state, ())
            data = value.get("data")
            decoded = self._decoders.get(state, identity)(data) if data is not None else None
            self._moved(Transition(state, names, status, decoded))
        else:
            event: DataEvent[X] = DataEvent(status, self._transmit(value.get("data")))
            for listener in list(self._on_data):
                listener(event)
            for reader in list(self._data_readers):
                reader.push(event)

    def _moved(self, t: Transition) -> None:
        self._state = t.state
        self._data = t.data
        for listener in list(self._on_transition):
            listener(t)
        for reader in list(self._transition_readers):
            reader.push(t)

    def _end(self, error: BaseException | None) -> None:
        for reader in self._transition_readers:
            reader.end(error)
        for data_reader in self._data_readers:
            data_reader.end(error)

    async def _read(self, reader: Backlog[T], readers: list[Backlog[T]]) -> AsyncIterator[T]:
        try:
            async for item in reader.drain():
                yield item
        finally:
            if reader in readers:
                readers.remove(reader)
