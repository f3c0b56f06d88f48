"""Who sees and hosts which quiz. An uploaded quiz is its owner's, private unless they
made it public; a quiz stored with no owner (the operators' seeding and imports) is the
public library. A private quiz is listed to and hosted by its owner only: anyone who may
host a quiz steps through its reveals, so hosting is seeing the answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import Quiz
from vocabquiz.protocol import ErrorCode

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Visibility:
    # None: stored by an operator (seeding, the importer, the benches): the public library.
    owner_uid: str | None
    public: bool

    @classmethod
    def of(cls, owner_uid: str | None, public: bool) -> Visibility:
        """As stored: a quiz with no owner is public whatever was asked."""
        return cls(owner_uid, public or owner_uid is None)

    @property
    def library(self) -> bool:
        return self.owner_uid is None

    def may_host(self, uid: str) -> bool:
        """Listed to `uid`, and theirs to host: the same set (public + their own)."""
        return self.public or self.owner_uid == uid


@dataclass(frozen=True, slots=True)
class StoredQuiz:
    quiz: Quiz
    visibility: Visibility


@dataclass(frozen=True, slots=True)
class QuizEntry:
    """One line of a host's quiz list."""

    quiz_id: str
    title: str
    question_count: int
    visibility: Visibility

    def to_json(self, uid: str) -> dict[str, Any]:
        return {
            "quiz_id": self.quiz_id,
            "title": self.title,
            "question_count": self.question_count,
            "public": self.visibility.public,
            "library": self.visibility.library,
            "yours": self.visibility.owner_uid == uid,
        }


# A page of a host's quiz list, and the quiz id the next page starts after (None: the last).
QuizPage = tuple[list[QuizEntry], str | None]


def require_may_save(quiz_id: str, uid: str | None, existing: Visibility | None) -> None:
    """An owner creates a quiz or replaces their own; with no owner (operators' tools),
    any is written. `existing`: the stored quiz of that id, if any."""
    if uid is not None and existing is not None and existing.owner_uid != uid:
        raise GameError(ErrorCode.QUIZ_EXISTS, f"Quiz {quiz_id} exists and is not yours")


def require_may_host(stored: StoredQuiz, uid: str) -> None:
    if not stored.visibility.may_host(uid):
        raise GameError(
            ErrorCode.QUIZ_PRIVATE, f"Quiz {stored.quiz.id} is private: only its owner may host it"
        )
