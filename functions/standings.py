"""Each session's participants as this function instance last saw them, brought up to
date with only what changed since: a leaderboard flush then costs the changed documents,
not one read per player. Firestore stays the only copy that counts: a cold instance reads
everything, and so does any instance at least every FULL_REFRESH_MS, or when the count
of participants disagrees with its copy (a kicked player's document is deleted, which a
query for changes cannot show)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from backends.store import Store
from quiz.model import Participant

FULL_REFRESH_MS = 10_000
# Each read asks again for what changed shortly before the last read time: a commit can
# carry a timestamp just before a read that does not see it yet (the emulator does this),
# and re-reading a few documents is cheaper than a stale leaderboard.
OVERLAP = timedelta(seconds=2)
IDLE_EVICT_MS = 15 * 60_000


@dataclass
class _Copy:
    by_uid: dict[str, Participant]
    read_time: datetime | None
    full_read_at_ms: int
    used_at_ms: int


class Standings:
    def __init__(self, store: Store, clock: Callable[[], int], overlap: timedelta = OVERLAP) -> None:
        self.store = store
        self.clock = clock
        self.overlap = overlap
        self._copies: dict[str, _Copy] = {}

    def participants(self, session_id: str) -> list[Participant]:
        now = self.clock()
        copy = self._copies.get(session_id)
        if copy is None or now - copy.full_read_at_ms > FULL_REFRESH_MS:
            copy = self._read_all(session_id, now)
        else:
            since = copy.read_time - self.overlap if copy.read_time else None
            changed, read_time = self.store.participants_changed(session_id, since)
            copy.by_uid.update((p.uid, p) for p in changed)
            copy.read_time = read_time or copy.read_time
            if self.store.participant_count(session_id) != len(copy.by_uid):
                copy = self._read_all(session_id, now)
        copy.used_at_ms = now
        self._evict_idle(now)
        return list(copy.by_uid.values())

    def _read_all(self, session_id: str, now: int) -> _Copy:
        everyone, read_time = self.store.participants_changed(session_id, since=None)
        copy = _Copy({p.uid: p for p in everyone}, read_time, now, now)
        self._copies[session_id] = copy
        return copy

    def _evict_idle(self, now: int) -> None:
        for session_id in [s for s, c in self._copies.items() if now - c.used_at_ms > IDLE_EVICT_MS]:
            del self._copies[session_id]
