"""Who is connected here and which sessions they are in, with each session's own state
(its `Room`). Pure bookkeeping, no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from gateway.core import BoardPacer
from gateway.presence import PresencePacer

C = TypeVar("C", bound=Hashable)


class Room(Generic[C]):
    """One session as this instance holds it: its sockets here (each with when it entered,
    a monotonic clock: what went out to the room before then, it did not get), and its
    leaderboards and presence frames on their way to them. Made when the session's first
    socket here enters; dropped when the last one leaves or disconnects, so a long-lived
    instance keeps nothing for the sessions it no longer serves."""

    __slots__ = ("board", "presence", "sockets")

    def __init__(self) -> None:
        self.sockets: dict[C, int] = {}  # socket -> when it entered (ns); ordered as they came
        self.board = BoardPacer()
        self.presence = PresencePacer()


class Rooms(Generic[C]):
    def __init__(self) -> None:
        self.by_id: dict[str, C] = {}
        # A list, not a set: a user has one socket or a few (capped at the handshake),
        # and a set costs ~150 bytes more per idle socket.
        self.by_uid: dict[str, list[C]] = {}
        self.members: dict[str, Room[C]] = {}  # by session: only sessions with a socket here
        self._sessions_of: defaultdict[C, set[str]] = defaultdict(set)

    def connect(self, connection_id: str, uid: str, conn: C) -> None:
        self.by_id[connection_id] = conn
        self.by_uid.setdefault(uid, []).append(conn)

    def disconnect(self, connection_id: str, uid: str) -> None:
        conn = self.by_id.pop(connection_id, None)
        if conn is None:
            return
        sockets = self.by_uid[uid]
        sockets.remove(conn)
        if not sockets:
            del self.by_uid[uid]
        for session_id in self._sessions_of.pop(conn, ()):
            self._drop(session_id, conn)

    def sessions_of(self, conn: C) -> list[str]:
        return list(self._sessions_of.get(conn, ()))

    def connections_of(self, uid: str) -> int:
        return len(self.by_uid.get(uid, ()))

    def room(self, session_id: str) -> Room[C] | None:
        """The session's room, if a socket here is in it."""
        return self.members.get(session_id)

    def enter(self, session_id: str, conns: Iterable[C], now_ns: int) -> None:
        """`conns` are in the session from `now_ns`; one already in keeps its first entry."""
        for conn in conns:
            room = self.members.get(session_id)
            if room is None:
                room = self.members[session_id] = Room()
            room.sockets.setdefault(conn, now_ns)
            self._sessions_of[conn].add(session_id)

    def entered_ns(self, session_id: str, conn: C) -> int | None:
        """When `conn` entered the session's room (None: it is not in it)."""
        room = self.members.get(session_id)
        return None if room is None else room.sockets.get(conn)

    def leave(self, session_id: str, conns: Iterable[C]) -> None:
        for conn in list(conns):
            self._drop(session_id, conn)
            self._sessions_of.get(conn, set()).discard(session_id)

    def recipients(self, session_id: str, target_uid: str | None, target_connection: str | None) -> list[C]:
        """A named connection, else a user's sockets in the session, else the session."""
        if target_connection:
            conn = self.by_id.get(target_connection)
            return [conn] if conn is not None else []
        room = self.members.get(session_id)
        if room is None:
            return []
        if target_uid:
            return [c for c in self.by_uid.get(target_uid, ()) if c in room.sockets]
        return list(room.sockets)

    def _drop(self, session_id: str, conn: C) -> None:
        """`conn` is out of the session: the room goes with its last socket."""
        room = self.members.get(session_id)
        if room is None:
            return
        room.sockets.pop(conn, None)
        if not room.sockets:
            del self.members[session_id]
