"""Plain data the domain works on: quizzes, sessions, participants, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

DEFAULT_POINTS = 10
DEFAULT_TIME_LIMIT_S = 20


class Status(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    COMPLETED = "completed"


class Kind(StrEnum):
    CHOICE = "choice"
    TYPED = "typed"


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    kind: Kind
    text: str
    options: tuple[str, ...]
    accepted: tuple[str, ...]
    points: int = DEFAULT_POINTS
    time_limit_s: int = DEFAULT_TIME_LIMIT_S
    explanation: str = ""
    # A sentence using the word, shown after the game in reviews and decks (never while
    # the question is open: it gives the answer away).
    example: str = ""

    def public(self) -> dict[str, Any]:
        """What players may see while the question is open: never the answer."""
        return {
            "question_id": self.id,
            "kind": self.kind.value,
            "text": self.text,
            "options": list(self.options),
            "points": self.points,
            "time_limit_s": self.time_limit_s,
        }


@dataclass(frozen=True, slots=True)
class Quiz:
    id: str
    title: str
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@dataclass(frozen=True, slots=True)
class Timing:
    """When a question opened and closes, both on server clocks (epoch ms)."""

    index: int
    question_id: str
    started_at_ms: int
    deadline_ms: int
    # Set when the answer was revealed (the timer at the deadline, or the host earlier).
    revealed_at_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    quiz_id: str
    host_uid: str
    status: Status
    max_participants: int
    question_count: int
    auto_advance: bool
    created_at_ms: int
    # The open or last-opened question, and whether it has been revealed.
    current: Timing | None = None
    revealed: bool = False
    timings: dict[str, Timing] = field(default_factory=dict)

    @property
    def open_question(self) -> Timing | None:
        if self.status is Status.ACTIVE and self.current and not self.revealed:
            return self.current
        return None


@dataclass(frozen=True, slots=True)
class Participant:
    uid: str
    username: str
    score: int = 0
    correct_count: int = 0
    answered_count: int = 0
    # When the current score was reached: ties rank the earlier one first.
    score_reached_at_ms: int = 0
    joined_at_ms: int = 0
    connected: bool = True


@dataclass(frozen=True, slots=True)
class Verdict:
    correct: bool
    points: int
    time_taken_ms: int


@dataclass(frozen=True, slots=True)
class NewAnswer:
    """An answer judged against the session as read for its batch, to be stored."""

    uid: str
    question_id: str
    answer: str
    verdict: Verdict
    received_at_ms: int
    message_id: str  # "<uid>/<client message id>": tells a redelivery from a second attempt
