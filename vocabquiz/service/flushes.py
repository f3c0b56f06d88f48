"""Leaderboards: asking for a window's flush (one named task per session and window),
and running it: LEADERBOARD_UPDATED to the session every flush window, and every
snapshot window the Firestore copy for direct readers and the host's live answer stats."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vocabquiz.domain import leaderboard, messages
from vocabquiz.protocol import ServerType, server_frame
from vocabquiz.protocol.envelope import Event
from vocabquiz.service.config import Config
from vocabquiz.service.ports import EventPublisher, Store, TaskQueue
from vocabquiz.service.schedule import SNAPSHOT_KIND, flush_request
from vocabquiz.service.standings import Standings

log = logging.getLogger("quiz.game")

MAX_REMEMBERED_FLUSHES = 4096  # (session, kind) pairs an instance remembers asking a flush for


@dataclass(eq=False)
class Flushes:
    store: Store
    publisher: EventPublisher
    tasks: TaskQueue
    config: Config
    clock: Callable[[], int]
    standings: Standings = field(init=False)
    # (session, snapshot) -> the start (ms) of the last window this instance asked a flush for.
    _requested: dict[tuple[str, bool], int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.standings = Standings(self.store, self.clock)

    def request(self, session_id: str, snapshot: bool = False) -> bool:
        """One named task per (session, window): Cloud Tasks refuses the rest, and this
        instance does not ask twice. True when this call created the window's task
        (False: ALREADY_EXISTS, or already requested here). A snapshot's window is a second."""
        window_ms = self.config.snapshot_window_ms if snapshot else self.config.flush_window_ms
        now = self.clock()
        window = now // window_ms
        if self._requested.get((session_id, snapshot)) == window * window_ms:
            return False
        created = self.tasks.create(flush_request(self.config, session_id, window, snapshot=snapshot))
        if len(self._requested) >= MAX_REMEMBERED_FLUSHES:  # forget long-quiet sessions
            self._requested = {k: at for k, at in self._requested.items() if at >= now - 60_000}
        self._requested[(session_id, snapshot)] = window * window_ms
        return created

    def flush(self, session_id: str, window: int, snapshot: bool) -> None:
        """Every flush window: LEADERBOARD_UPDATED to the session. Every snapshot window
        (a second): the Firestore copy for direct readers, and the host's live answer
        stats (they cost a read per answer so far, so not ten times a second)."""
        started = time.perf_counter()
        ranked = leaderboard.rank_participants(self.standings.participants(session_id))
        payload = leaderboard.leaderboard_payload(session_id, window, ranked)
        fields: dict[str, Any] = {
            "session_id": session_id,
            "window": window,
            "snapshot": snapshot,
            "participants": len(ranked),
        }
        window_ms = self.config.snapshot_window_ms if snapshot else self.config.flush_window_ms
        if snapshot:
            self.store.save_leaderboard_snapshot(session_id, payload, self.clock())
            self._publish_answer_stats(session_id)
        else:
            frame = server_frame(
                ServerType.LEADERBOARD_UPDATED, payload, message_id=f"lb-{session_id}-{window}"
            )
            self.publisher.publish([Event(session_id, frame)])
            created = self.request(session_id, snapshot=True)
            fields |= {"task_kind": SNAPSHOT_KIND, "task_created": created}
        # One line per flush (at most one per session and window), never one per frame.
        fields |= {
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            # How long after its window closed the flush was done: the leaderboard's delay.
            "lag_ms": self.clock() - (window + 1) * window_ms,
        }
        log.info("leaderboard flushed", extra={"json_fields": fields})

    def _publish_answer_stats(self, session_id: str) -> None:
        session = self.store.get_session(session_id)
        open_question = session.open_question
        if open_question is None:
            return
        question = self.store.session_quiz(session_id).questions[open_question.index]
        stats = messages.question_stats(question, self.standings.answers_to(session_id, question.id))
        frame = messages.answer_stats(session, open_question, stats)
        self.publisher.publish([Event(session_id, frame, target_uid=session.host_uid)])
