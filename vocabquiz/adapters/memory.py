"""In-memory twins of the three ports (store, events, tasks), keeping the cloud adapters'
promises: atomic decisions, create-if-absent answers, stamped changes, named tasks
refused when taken. The service runs whole on them in a unit test, with no emulator.

One lock stands for Firestore's transactions: every method's read-decide-write is atomic.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from vocabquiz.domain import admission, catalog, names, scoring
from vocabquiz.domain.catalog import QuizEntry, QuizPage, StoredQuiz, Visibility
from vocabquiz.domain.errors import GameError, NoSession, NotJoined
from vocabquiz.domain.ids import answer_id, new_session_code
from vocabquiz.domain.model import NewAnswer, Participant, Quiz, Session, Status
from vocabquiz.domain.play_order import play_order
from vocabquiz.protocol import ErrorCode, now_ms
from vocabquiz.protocol.envelope import Event
from vocabquiz.service.ports import AnswersRefused, Joined, Judge, Scored, Stored, TaskRequest


@dataclass
class _Seat:
    participant: Participant
    connection_id: str
    changed_at: datetime


@dataclass
class _Answer:
    answer: NewAnswer
    score_after: int
    changed_at: datetime


@dataclass
class _Session:
    session: Session
    quiz: Quiz  # frozen at creation, in the session's play order
    seats: dict[str, _Seat] = field(default_factory=dict)  # in seating order
    names: dict[str, str] = field(default_factory=dict)  # name key -> uid
    banned: dict[str, datetime] = field(default_factory=dict)  # uid -> when (a stamped tombstone)
    answers: dict[str, _Answer] = field(default_factory=dict)
    snapshot: dict[str, Any] | None = None


def _present(held: _Session) -> int:
    """Players seated and connected: the participant count frames carry."""
    return sum(1 for seat in held.seats.values() if seat.participant.connected)


class MemoryStore:
    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self._quizzes: dict[str, StoredQuiz] = {}
        self._sessions: dict[str, _Session] = {}
        self._quota_uses: dict[tuple[str, str, str], int] = {}  # (uid, action, day) -> uses
        self._last_stamp = datetime.fromtimestamp(0, UTC)

    def _stamp(self) -> datetime:
        """A commit time: the clock's, and strictly after every earlier one."""
        now = datetime.fromtimestamp(self.clock() / 1000, UTC)
        self._last_stamp = max(now, self._last_stamp + timedelta(microseconds=1))
        return self._last_stamp

    def _session(self, session_id: str) -> _Session:
        found = self._sessions.get(session_id)
        if found is None:
            raise NoSession(session_id)
        return found

    def _seat(self, session_id: str, uid: str) -> _Seat:
        seat = self._session(session_id).seats.get(uid)
        if seat is None:
            raise NotJoined(session_id)
        return seat

    # -- quizzes

    def save_quiz(
        self, quiz: Quiz, owner_uid: str | None = None, public: bool = False, anonymous: bool = False
    ) -> None:
        # Kept for the twin's lifetime: retention is the Firestore store's TTL policies.
        with self._lock:
            existing = self._quizzes.get(quiz.id)
            catalog.require_may_save(quiz.id, owner_uid, existing.visibility if existing else None)
            self._quizzes[quiz.id] = StoredQuiz(quiz, Visibility.of(owner_uid, public))

    def list_quizzes(self, uid: str, limit: int, after: str | None = None) -> QuizPage:
        with self._lock:
            listed = [
                QuizEntry(quiz_id, s.quiz.title, len(s.quiz.questions), s.visibility)
                for quiz_id, s in sorted(self._quizzes.items())
                if (after is None or quiz_id > after) and s.visibility.may_host(uid)
            ]
        page = listed[:limit]
        return page, page[-1].quiz_id if len(listed) > limit else None

    def stored_quiz(self, quiz_id: str) -> StoredQuiz | None:
        return self._quizzes.get(quiz_id)

    def load_quiz(self, quiz_id: str) -> Quiz | None:
        found = self._quizzes.get(quiz_id)
        return found.quiz if found else None

    def session_quiz(self, session_id: str) -> Quiz:
        return self._session(session_id).quiz

    def use_quota(self, uid: str, action: str, day: str, limit: int) -> bool:
        with self._lock:
            used = self._quota_uses.get((uid, action, day), 0)
            if used >= limit:
                return False
            self._quota_uses[(uid, action, day)] = used + 1
            return True

    def return_quota(self, uid: str, action: str, day: str) -> None:
        with self._lock:
            key = (uid, action, day)
            self._quota_uses[key] = max(0, self._quota_uses.get(key, 0) - 1)

    # -- sessions

    def create_session(
        self, quiz: Quiz, host_uid: str, max_participants: int, auto_advance: bool, now_ms: int
    ) -> Session:
        with self._lock:
            for _ in range(10):
                code = new_session_code()
                if code in self._sessions:
                    continue
                session = Session(
                    code,
                    quiz.id,
                    host_uid,
                    Status.WAITING,
                    max_participants,
                    len(quiz.questions),
                    auto_advance,
                    now_ms,
                )
                self._sessions[code] = _Session(session, play_order(quiz, code))
                return session
        raise RuntimeError("Could not draw a free session code in 10 tries")

    def get_session(self, session_id: str) -> Session:
        return self._session(session_id).session

    def transition(
        self, session_id: str, change: Callable[[Session], Session | None]
    ) -> tuple[Session, Session | None]:
        with self._lock:
            held = self._session(session_id)
            before = held.session
            after = change(before)
            if after is not None:
                held.session = after
            return before, after

    # -- participants

    def join(self, session_id: str, uid: str, username: str, now_ms: int, connection_id: str = "") -> Joined:
        with self._lock:
            held = self._session(session_id)
            seat = held.seats.get(uid)
            if seat is None:
                admission.check_capacity(len(held.seats), held.session.max_participants)
            key = names.name_key(username)
            participant = admission.admit(
                held.session,
                uid,
                username,
                now_ms,
                banned=uid in held.banned,
                seated=seat.participant if seat else None,
                name_owner=held.names.get(key),
            )
            if seat is not None and seat.participant.username != username:
                held.names.pop(names.name_key(seat.participant.username), None)
            held.names[key] = uid
            held.seats[uid] = _Seat(participant, connection_id, self._stamp())
            count = admission.shown_count(_present(held), held.session.max_participants)
            return Joined(held.session, participant, count, seat is None)

    def players_ahead(self, session_id: str, score: int) -> int:
        return sum(1 for s in self._session(session_id).seats.values() if s.participant.score > score)

    def participant(self, session_id: str, uid: str) -> Participant:
        return self._seat(session_id, uid).participant

    def participants(self, session_id: str) -> list[Participant]:
        return [s.participant for s in self._session(session_id).seats.values()]

    def seated(self, session_id: str, uids: Sequence[str]) -> set[str]:
        return set(uids) & set(self._session(session_id).seats)

    def set_connected(
        self, session_id: str, uid: str, connected: bool, connection_id: str = ""
    ) -> tuple[Participant, int, bool]:
        with self._lock:
            seat = self._seat(session_id, uid)
            was_connected = seat.participant.connected
            seat.participant = dataclasses.replace(seat.participant, connected=connected)
            if connected:
                seat.connection_id = connection_id
            seat.changed_at = self._stamp()
            return seat.participant, _present(self._session(session_id)), was_connected

    def disconnect(self, session_id: str, uid: str, connection_id: str) -> tuple[Participant, int] | None:
        with self._lock:
            held = self._session(session_id)
            seat = held.seats.get(uid)
            if seat is None or not seat.participant.connected or seat.connection_id != connection_id:
                return None
            seat.participant = dataclasses.replace(seat.participant, connected=False)
            seat.changed_at = self._stamp()
            return seat.participant, _present(held)

    def present_count(self, session_id: str) -> int:
        with self._lock:
            return _present(self._session(session_id))

    def kick(self, session_id: str, uid: str) -> Participant:
        with self._lock:
            held = self._session(session_id)
            seat = held.seats.pop(uid, None)
            if seat is None:
                raise GameError(ErrorCode.NOT_JOINED, f"{uid} is not in session {session_id}")
            held.names.pop(names.name_key(seat.participant.username), None)
            held.banned[uid] = self._stamp()
            return seat.participant

    def participants_changed(
        self, session_id: str, since: datetime | None
    ) -> tuple[list[Participant], set[str], datetime | None]:
        with self._lock:
            held = self._session(session_id)
            read_time = self._stamp()
            changed = [s.participant for s in held.seats.values() if since is None or s.changed_at > since]
            removed = {uid for uid, at in held.banned.items() if since is not None and at > since}
            return changed, removed, read_time

    # -- answers

    def score_answer(self, session_id: str, answer: NewAnswer, judge: Judge) -> Scored:
        uid, question_id, message_id = answer.uid, answer.question_id, answer.message_id
        with self._lock:
            held = self._session(session_id)
            seat = self._seat(session_id, uid)
            the_id = answer_id(uid, question_id)
            stored = held.answers.get(the_id)
            if stored is not None:
                scoring.require_same_message(stored.answer.message_id, message_id)
                replay = dataclasses.replace(seat.participant, score=stored.score_after)
                return Scored(the_id, replay, question_id, stored.answer.verdict, replayed=True)
            new = judge(held.session)
            self._store(held, seat, new)
            return Scored(the_id, seat.participant, question_id, new.verdict, replayed=False)

    def _store(self, held: _Session, seat: _Seat, new: NewAnswer) -> None:
        seat.participant = scoring.apply_totals(seat.participant, scoring.totals_change(new))
        seat.changed_at = stamp = self._stamp()
        held.answers[answer_id(new.uid, new.question_id)] = _Answer(new, seat.participant.score, stamp)

    def commit_answers(self, session_id: str, answers: Sequence[NewAnswer]) -> list[Participant]:
        with self._lock:
            held = self._session(session_id)
            for a in answers:
                if answer_id(a.uid, a.question_id) in held.answers or a.uid not in held.seats:
                    raise AnswersRefused(f"{a.uid} answered {a.question_id} already, or is not seated")
            totals = []
            for a in answers:
                seat = held.seats[a.uid]
                self._store(held, seat, a)
                totals.append(dataclasses.replace(seat.participant, username=""))
            return totals

    def stored_answers(self, session_id: str, answers: Sequence[tuple[str, str]]) -> dict[str, Stored]:
        held = self._session(session_id)
        found = {answer_id(uid, qid): held.answers.get(answer_id(uid, qid)) for uid, qid in answers}
        return {
            the_id: Stored(a.answer.verdict, a.answer.message_id, a.score_after)
            for the_id, a in found.items()
            if a is not None
        }

    def has_answered(self, session_id: str, uid: str, question_id: str) -> bool:
        return answer_id(uid, question_id) in self._session(session_id).answers

    def answers_to(self, session_id: str, question_id: str) -> list[tuple[str, bool]]:
        return list(self.answers_changed(session_id, question_id, None)[0].values())

    def answers_changed(
        self, session_id: str, question_id: str, since: datetime | None
    ) -> tuple[dict[str, tuple[str, bool]], datetime | None]:
        with self._lock:
            held = self._session(session_id)
            read_time = self._stamp()
            return {
                the_id: (a.answer.answer, a.answer.verdict.correct)
                for the_id, a in held.answers.items()
                if a.answer.question_id == question_id and (since is None or a.changed_at > since)
            }, read_time

    def all_answers(self, session_id: str) -> list[dict[str, Any]]:
        return self._answers(session_id, None)

    def answers_of(self, session_id: str, uid: str) -> list[dict[str, Any]]:
        return self._answers(session_id, uid)

    def _answers(self, session_id: str, uid: str | None) -> list[dict[str, Any]]:
        return [
            {
                "uid": a.answer.uid,
                "question_id": a.answer.question_id,
                "answer": a.answer.answer,
                "is_correct": a.answer.verdict.correct,
                "points": a.answer.verdict.points,
                "time_taken_ms": a.answer.verdict.time_taken_ms,
            }
            for a in self._session(session_id).answers.values()
            if uid is None or a.answer.uid == uid
        ]

    def save_leaderboard_snapshot(self, session_id: str, payload: dict[str, Any], now_ms: int) -> None:
        public = {k: v for k, v in payload.items() if k != "ranks"}
        self._session(session_id).snapshot = {**public, "updated_at_ms": now_ms}

    def leaderboard_snapshot(self, session_id: str) -> dict[str, Any] | None:
        """What direct readers would find at sessions/{id}/public/leaderboard."""
        return self._session(session_id).snapshot


class MemoryPublisher:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


class MemoryTaskQueue:
    """Named tasks: a name taken in its queue is refused, as Cloud Tasks does (it keeps a
    deleted task's name for about an hour; these are kept for the twin's life)."""

    def __init__(self) -> None:
        self.created: list[TaskRequest] = []
        self.names: set[tuple[str, str]] = set()

    def create(self, request: TaskRequest) -> bool:
        if (request.queue, request.task_id) in self.names:
            return False
        self.names.add((request.queue, request.task_id))
        self.created.append(request)
        return True
