"""What one account may cost: sessions created and quizzes uploaded per user per day, and
how large a quiz may be. Anonymous sign-in makes accounts free, so the limits are per
uid and small enough that a script spends little before it is refused. A day is a UTC
calendar day; the store counts each user's uses of a day (`Store.use_quota`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import Quiz
from vocabquiz.protocol import ErrorCode

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class DailyQuota:
    action: str  # the store's key: "sessions", "uploads"
    limit: int
    counted: str  # what is counted, for people: "sessions created"


class QuotaExceeded(GameError):
    """A daily quota is used up; `retry_after_s` is when the next day (UTC) starts."""

    def __init__(self, quota: DailyQuota, now_ms: int) -> None:
        self.limit = quota.limit
        self.retry_after_s = -(-ms_until_next_day(now_ms) // 1000)
        hours, minutes = divmod(-(-self.retry_after_s // 60), 60)
        super().__init__(
            ErrorCode.QUOTA_EXCEEDED,
            f"Quota reached: at most {quota.limit} {quota.counted} per user per day (UTC); "
            f"more in {hours} h {minutes} min",
        )


def day_of(now_ms: int) -> str:
    """The UTC day a use counts on, as 2030-01-31."""
    return datetime.fromtimestamp(now_ms / 1000, UTC).date().isoformat()


def ms_until_next_day(now_ms: int) -> int:
    return DAY_MS - now_ms % DAY_MS


def check_file_size(size_bytes: int, max_bytes: int) -> None:
    """A quiz file larger than `max_bytes` is refused before it is read."""
    if size_bytes > max_bytes:
        raise GameError(
            ErrorCode.QUIZ_TOO_LARGE, f"The quiz file is {size_bytes} bytes; the most is {max_bytes} bytes"
        )


def check_question_count(quiz: Quiz, max_questions: int) -> None:
    if len(quiz.questions) > max_questions:
        raise GameError(
            ErrorCode.QUIZ_TOO_LARGE,
            f"The quiz has {len(quiz.questions)} questions; the most is {max_questions}",
        )
