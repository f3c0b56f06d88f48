"""Who is connected here and which sessions they are in. Pure bookkeeping, no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

C = TypeVar("C", bound=Hashable)


class Rooms(Generic[C]):
    def __init__(self) -> None:
        self.by_id: dict[str, C] = {}
        # A list, not a set: a user has one socket or a few (capped at the handshake),
        # and a set costs ~150 bytes more per idle socket.
        self.by_uid: dict[str, list[C]] = {}
        self.members: defaultdict[str, set[C]] = defaultdict(set)
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
            self.members[session_id].discard(conn)
            if not self.members[session_id]:
                del self.members[session_id]

    def sessions_of(self, conn: C) -> list[str]:
        return list(self._sessions_of.get(conn, ()))

    def connections_of(self, uid: str) -> int:
        return len(self.by_uid.get(uid, ()))

    def enter(self, session_id: str, conns: Iterable[C]) -> None:
        for conn in conns:
            self.members[session_id].add(conn)
            self._sessions_of[conn].add(session_id)

    def leave(self, session_id: str, conns: Iterable[C]) -> None:
        for conn in list(conns):
            self.members.get(session_id, set()).discard(conn)
            self._sessions_of.get(conn, set()).discard(session_id)
        if session_id in self.members and not self.members[session_id]:
            del self.members[session_id]

    def recipients(self, session_id: str, target_uid: str | None, target_connection: str | None) -> list[C]:
        """A named connection, else a user's sockets in the session, else the session."""
        if target_connection:
            conn = self.by_id.get(target_connection)
            return [conn] if conn is not None else []
        in_room = self.members.get(session_id, set())
        if target_uid:
            return [c for c in self.by_uid.get(target_uid, ()) if c in in_room]
        return list(in_room)
