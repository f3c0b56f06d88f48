"""The ports: all the service knows of storage, publishing and Cloud Tasks. Each has a
cloud adapter (`vocabquiz.adapters.store`, `.events`, `.tasks`) and an in-memory twin
(`vocabquiz.adapters.memory`) that keeps the same promises, so the service runs whole in
a test with no emulator.

The store's promises are the ones the game's exactly-once effects rest on: `transition`,
`join`, `kick`, `disconnect` and `score_answer` run their decision atomically on what they
read; `commit_answers` creates each answer only if absent, with its player's totals, in one
atomic write; every participant and answer write is stamped, so `*_changed` reads return
what changed after a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from vocabquiz.domain.catalog import QuizPage, StoredQuiz
from vocabquiz.domain.model import NewAnswer, Participant, Quiz, Session, Verdict
from vocabquiz.protocol.envelope import Event


@dataclass(frozen=True, slots=True)
class Joined:
    session: Session
    participant: Participant
    # Players present after the join (seated and connected; see `Store.present_count`).
    participant_count: int
    is_new: bool


@dataclass(frozen=True, slots=True)
class Stored:
    """An answer as stored: its verdict, the message that brought it, and its player's
    score right after it."""

    verdict: Verdict
    message_id: str
    score_after: int


@dataclass(frozen=True, slots=True)
class Scored:
    answer_id: str
    participant: Participant
    question_id: str
    verdict: Verdict
    # True when this command was already scored (a redelivery): republish, change nothing.
    replayed: bool
    # Times the transaction ran (more than one: the store retried it on contention).
    attempts: int = 1


class AnswersRefused(Exception):
    """A batch commit refused whole: an answer of it exists already (a redelivery or a
    second attempt) or a player's document does not (never joined, or kicked). Nothing
    was written; the caller sorts the batch out (`Store.stored_answers`)."""


# Judges an answer on the session as read (scoring.judge, bound to the answer).
Judge = Callable[[Session], NewAnswer]
# (changed participants, uids removed since, the read's time)
ParticipantChanges = tuple[list[Participant], set[str], datetime | None]
# (changed answers by answer id as (answer, is_correct), the read's time)
AnswerChanges = tuple[dict[str, tuple[str, bool]], datetime | None]


class Store(Protocol):
    # -- quizzes
    def save_quiz(
        self, quiz: Quiz, owner_uid: str | None = None, public: bool = False, anonymous: bool = False
    ) -> None:
        """An owner creates a quiz or replaces their own (QUIZ_EXISTS otherwise); with no
        owner (operators' tools) any is written, into the public library. An `anonymous`
        owner's quiz is deleted after a while, as the account is."""
        ...

    def list_quizzes(self, uid: str, limit: int, after: str | None = None) -> QuizPage:
        """Up to `limit` of the quizzes `uid` may host (public + their own) by id, after the
        id `after`; and the id to list after next, None on the last page."""
        ...

    def stored_quiz(self, quiz_id: str) -> StoredQuiz | None: ...
    def load_quiz(self, quiz_id: str) -> Quiz | None: ...
    def session_quiz(self, session_id: str) -> Quiz:
        """The quiz as frozen when the session was created, in its play order
        (INVALID_SESSION if none)."""
        ...

    # -- quotas
    def use_quota(self, uid: str, action: str, day: str, limit: int) -> bool:
        """Count one use of `action` by `uid` on `day`, atomically, unless `limit` uses are
        counted already: then count nothing and return False."""
        ...

    def return_quota(self, uid: str, action: str, day: str) -> None:
        """Take back one use counted by use_quota: the request it was for was refused."""
        ...

    # -- sessions
    def create_session(
        self, quiz: Quiz, host_uid: str, max_participants: int, auto_advance: bool, now_ms: int
    ) -> Session:
        """A session under a fresh code, freezing `quiz` in `play_order(quiz, code)`."""
        ...

    def get_session(self, session_id: str) -> Session: ...
    def transition(
        self, session_id: str, change: Callable[[Session], Session | None]
    ) -> tuple[Session, Session | None]:
        """Apply `change` atomically: (before, after); after None when nothing changed."""
        ...

    # -- participants
    def join(self, session_id: str, uid: str, username: str, now_ms: int, connection_id: str = "") -> Joined:
        """Seat (or welcome back) a player under a cleaned name, as `admission` decides."""
        ...

    def players_ahead(self, session_id: str, score: int) -> int: ...
    def participant(self, session_id: str, uid: str) -> Participant: ...
    def participants(self, session_id: str) -> list[Participant]: ...
    def seated(self, session_id: str, uids: Sequence[str]) -> set[str]:
        """Which of these players have a seat in the session (one read)."""
        ...

    def set_connected(
        self, session_id: str, uid: str, connected: bool, connection_id: str = ""
    ) -> tuple[Participant, int, bool]:
        """(the participant now, the players present after it, whether they were connected
        before)."""
        ...

    def disconnect(self, session_id: str, uid: str, connection_id: str) -> tuple[Participant, int] | None:
        """(away, the players present after it) if `connection_id` is their current
        connection; None otherwise."""
        ...

    def present_count(self, session_id: str) -> int:
        """Players present: seated (joined, not kicked) and connected (not left, socket
        not closed). What every frame's `participant_count` says; capacity counts seats."""
        ...

    def kick(self, session_id: str, uid: str) -> Participant: ...
    def participants_changed(self, session_id: str, since: datetime | None) -> ParticipantChanges: ...

    # -- answers
    def score_answer(self, session_id: str, answer: NewAnswer, judge: Judge) -> Scored:
        """Score one answer atomically, keyed by its player, question and message: replayed
        if stored already under that message, refused if under another; else `judge`
        decides again on the session as the store read it."""
        ...

    def commit_answers(self, session_id: str, answers: Sequence[NewAnswer]) -> list[Participant]:
        """Answers of distinct players, in one atomic write with no read; each player's
        totals after it, in order. AnswersRefused: nothing was written."""
        ...

    def stored_answers(self, session_id: str, answers: Sequence[tuple[str, str]]) -> dict[str, Stored]: ...
    def has_answered(self, session_id: str, uid: str, question_id: str) -> bool: ...
    def answers_to(self, session_id: str, question_id: str) -> Iterable[tuple[str, bool]]: ...
    def answers_changed(self, session_id: str, question_id: str, since: datetime | None) -> AnswerChanges: ...
    def all_answers(self, session_id: str) -> list[dict[str, Any]]:
        """Every stored answer: uid, question_id, answer, is_correct, points, time_taken_ms."""
        ...

    def answers_of(self, session_id: str, uid: str) -> list[dict[str, Any]]:
        """One player's stored answers, as all_answers gives them."""
        ...

    def save_leaderboard_snapshot(self, session_id: str, payload: dict[str, Any], now_ms: int) -> None: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Event]) -> None:
        """Publish all events and return once Pub/Sub has accepted every one."""


@dataclass(frozen=True, slots=True)
class TaskRequest:
    queue: str
    task_id: str
    url: str
    body: dict[str, Any]
    due_ms: int
    kind: str  # "lb", "snap", or a timer's action: for spans and logs


class TaskQueue(Protocol):
    def create(self, request: TaskRequest) -> bool:
        """Create the task; False when a task of that name exists or existed recently."""
