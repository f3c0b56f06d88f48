"""What one account may cost: a day is a UTC day, a refusal says the limit and when more
comes, and a quiz file's size is bounded in bytes and in questions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import Kind, Question, Quiz
from vocabquiz.domain.quotas import (
    DailyQuota,
    QuotaExceeded,
    check_file_size,
    check_question_count,
    day_of,
    ms_until_next_day,
)
from vocabquiz.protocol import ErrorCode
from vocabquiz.service.config import ConfigError, load_config

ENV = {"GOOGLE_CLOUD_PROJECT": "demo-quiz", "FLUSH_URL": "http://flush/", "TIMER_URL": "http://timer/"}


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_a_day_is_a_utc_calendar_day() -> None:
    assert day_of(_ms("2030-01-31T23:59:59.999")) == "2030-01-31"
    assert day_of(_ms("2030-02-01T00:00:00")) == "2030-02-01"
    assert ms_until_next_day(_ms("2030-01-31T08:00:00")) == 16 * 3600 * 1000
    assert ms_until_next_day(_ms("2030-02-01T00:00:00")) == 24 * 3600 * 1000


def test_quota_refusal_says_the_limit_and_when_more_comes() -> None:
    refused = QuotaExceeded(DailyQuota("sessions", 50, "sessions created"), _ms("2030-01-31T20:29:30"))
    assert refused.code is ErrorCode.QUOTA_EXCEEDED
    assert refused.message == (
        "Quota reached: at most 50 sessions created per user per day (UTC); more in 3 h 31 min"
    )
    assert (refused.limit, refused.retry_after_s) == (50, 3 * 3600 + 30 * 60 + 30)


def test_quiz_over_the_size_or_question_limit_is_refused_with_the_limit() -> None:
    quiz = Quiz("big", "Big", tuple(Question(f"q{n}", Kind.TYPED, "?", (), ("a",)) for n in range(11)))
    check_file_size(1_000, max_bytes=1_000)
    check_question_count(quiz, max_questions=11)
    with pytest.raises(GameError) as by_bytes:
        check_file_size(1_001, max_bytes=1_000)
    with pytest.raises(GameError) as by_questions:
        check_question_count(quiz, max_questions=10)
    assert by_bytes.value.code is by_questions.value.code is ErrorCode.QUIZ_TOO_LARGE
    assert by_bytes.value.message == "The quiz file is 1001 bytes; the most is 1000 bytes"
    assert by_questions.value.message == "The quiz has 11 questions; the most is 10"


def test_config_reads_the_limits_with_defaults_and_refuses_nonsense() -> None:
    defaults = load_config(ENV)
    assert (defaults.max_sessions_per_user_per_day, defaults.max_quiz_uploads_per_user_per_day) == (50, 20)
    assert (defaults.max_quiz_bytes, defaults.max_quiz_questions) == (256 * 1024, 100)
    tuned = load_config(ENV | {"MAX_SESSIONS_PER_USER_PER_DAY": "5", "MAX_QUIZ_QUESTIONS": "200"})
    assert (tuned.session_quota.limit, tuned.max_quiz_questions) == (5, 200)
    for key, value in (
        ("MAX_SESSIONS_PER_USER_PER_DAY", "0"),
        ("MAX_QUIZ_UPLOADS_PER_USER_PER_DAY", "lots"),
        ("MAX_QUIZ_BYTES", str(2 * 1024 * 1024)),  # more than the API reads of a request
        ("MAX_QUIZ_QUESTIONS", "201"),  # more than a quiz file may have
    ):
        with pytest.raises(ConfigError, match=key):
            load_config(ENV | {key: value})
