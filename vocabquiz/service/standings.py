"""What a flush needs, as this function instance last saw it, brought up to date with only
what changed since: each session's participants (the leaderboard) and the answers to its
open question (the host's live stats). A flush then costs the changed documents, not one
read per player or per answer. Firestore stays the only copy that counts: a cold instance
reads everything, and so does any instance at least every FULL_REFRESH_MS. A kick leaves
a stamped tombstone, so removals arrive with the changes too."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from vocabquiz.domain.model import Participant
from vocabquiz.service.ports import Store

FULL_REFRESH_MS = 10_000
# Each read asks again for what changed shortly before the last read time: the emulator
# can give a commit a timestamp a little before a read that does not see it yet (real
# Firestore cannot). Each changed document is read about OVERLAP / window times.
OVERLAP = timedelta(milliseconds=500)
IDLE_EVICT_MS = 15 * 60_000

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class _Copy(Generic[V]):
    by_id: dict[str, V]
    read_time: datetime | None
    full_read_at_ms: int
    used_at_ms: int
    # When the last read of it began (this instance's clock).
    read_at_ms: int


# Reads what changed since a time (everything for None): (changed by id, removed ids,
# the read's time).
ReadChanged = Callable[[K, datetime | None], tuple[dict[str, V], set[str], datetime | None]]


class ChangedSince(Generic[K, V]):
    """Per key, documents as last read, refreshed by reading only what changed since."""

    def __init__(self, read: ReadChanged[K, V], clock: Callable[[], int], overlap: timedelta) -> None:
        self.read = read
        self.clock = clock
        self.overlap = overlap
        self._copies: dict[K, _Copy[V]] = {}
        self._locks: dict[K, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def current(self, key: K) -> dict[str, V]:
        """The documents of `key` as of a read that began after this call: a flush sees
        every write committed before it asked. Concurrent callers for one key (a backlog
        of flushes of a session, on an instance's threads) take turns, and one whose turn
        comes after a read that began after it asked takes that read's copy: a crowd of k
        costs at most two reads, not k."""
        asked = self.clock()
        with self._lock(key):
            copy = self._copies.get(key)
            if copy is not None and copy.read_at_ms > asked:
                return copy.by_id
            now = self.clock()
            if copy is None or now - copy.full_read_at_ms > FULL_REFRESH_MS:
                everything, _, read_time = self.read(key, None)
                copy = self._copies[key] = _Copy(everything, read_time, now, now, now)
            else:
                since = copy.read_time - self.overlap if copy.read_time else None
                changed, removed, read_time = self.read(key, since)
                copy.by_id.update(changed)
                for gone in removed:
                    copy.by_id.pop(gone, None)
                copy.read_time = read_time or copy.read_time
                copy.read_at_ms = now
            copy.used_at_ms = now
        self._evict_idle(now)
        return copy.by_id

    def _lock(self, key: K) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())

    def _evict_idle(self, now: int) -> None:
        with self._locks_lock:
            for idle in [k for k, c in self._copies.items() if now - c.used_at_ms > IDLE_EVICT_MS]:
                del self._copies[idle]
                self._locks.pop(idle, None)


class Standings:
    def __init__(self, store: Store, clock: Callable[[], int], overlap: timedelta = OVERLAP) -> None:
        self.store = store
        self._participants: ChangedSince[str, Participant] = ChangedSince(
            self._read_participants, clock, overlap
        )
        self._answers: ChangedSince[tuple[str, str], tuple[str, bool]] = ChangedSince(
            self._read_answers, clock, overlap
        )

    def participants(self, session_id: str) -> list[Participant]:
        return list(self._participants.current(session_id).values())

    def answers_to(self, session_id: str, question_id: str) -> list[tuple[str, bool]]:
        """(answer, is_correct) of every answer to the question so far."""
        return list(self._answers.current((session_id, question_id)).values())

    def _read_participants(
        self, session_id: str, since: datetime | None
    ) -> tuple[dict[str, Participant], set[str], datetime | None]:
        changed, removed, read_time = self.store.participants_changed(session_id, since)
        return {p.uid: p for p in changed}, removed, read_time

    def _read_answers(
        self, key: tuple[str, str], since: datetime | None
    ) -> tuple[dict[str, tuple[str, bool]], set[str], datetime | None]:
        changed, read_time = self.store.answers_changed(*key, since)
        return changed, set(), read_time
