"""Per-user daily quotas and the quiz size limit through the host API on the memory twins:
429 with the limit in the message and Retry-After until the next UTC day, 413 for a quiz
too large; one user's quota is not another's, and a refused request counts for nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient as Api

from tests.unit.service.conftest import ENV, Table, as_user, verify_test_token
from vocabquiz.protocol import ErrorCode
from vocabquiz.service.api import create_app
from vocabquiz.service.config import load_config

LIMITS = {
    "MAX_SESSIONS_PER_USER_PER_DAY": "3",
    "MAX_QUIZ_UPLOADS_PER_USER_PER_DAY": "2",
    "MAX_QUIZ_BYTES": "2000",
    "MAX_QUIZ_QUESTIONS": "5",
}


@pytest.fixture
def table() -> Table:
    return Table(load_config(ENV | LIMITS))


@pytest.fixture
def api(table: Table) -> Api:
    return create_app(lambda: table.game, verify_test_token, frozenset()).test_client()


def _create(api: Api, uid: str, quiz_id: str = "vocab-101") -> Any:
    return api.post("/api/v1/sessions", json={"quiz_id": quiz_id}, headers=as_user(uid))


def _quiz_file(quiz_id: str, questions: int = 1, padding: int = 0) -> str:
    return json.dumps(
        {
            "id": quiz_id,
            "title": "Quiz" + " " * padding,
            "questions": [
                {"id": f"q{n}", "kind": "typed", "text": "Cat?", "accepted": ["cat"]}
                for n in range(questions)
            ],
        }
    )


def _upload(api: Api, uid: str, text: str) -> Any:
    return api.post("/api/v1/quizzes", data=text, headers=as_user(uid))


def test_host_past_the_daily_session_quota_gets_429_with_the_limit_until_the_next_utc_day(
    table: Table, api: Api
) -> None:
    table.clock.now_ms = 1896121770000  # 2030-01-31T20:29:30Z: 3 h 30 min 30 s before the next UTC day
    assert [_create(api, "teacher").status_code for _ in range(3)] == [201, 201, 201]

    refused = _create(api, "teacher")

    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == ErrorCode.QUOTA_EXCEEDED
    assert "at most 3 sessions created per user per day (UTC)" in refused.get_json()["error"]["message"]
    assert refused.headers["Retry-After"] == "12630"
    assert _create(api, "colleague").status_code == 201  # a quota is per user
    table.clock.now_ms += 12_630 * 1000  # the next UTC day
    assert _create(api, "teacher").status_code == 201


def test_a_refused_session_counts_for_nothing(table: Table, api: Api) -> None:
    _upload(api, "owner", _quiz_file("owners"))
    for _ in range(5):
        assert _create(api, "teacher", "owners").status_code == 403  # private
        assert _create(api, "teacher", "no-such-quiz").status_code == 404
    assert [_create(api, "teacher").status_code for _ in range(4)] == [201, 201, 201, 429]


def test_a_refused_upload_counts_for_nothing(api: Api) -> None:
    assert _upload(api, "owner", _quiz_file("taken")).status_code == 201
    for _ in range(3):
        taken = _upload(api, "teacher", _quiz_file("taken"))
        assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, ErrorCode.QUIZ_EXISTS)
        assert _upload(api, "teacher", "{not json").status_code == 400
    assert [_upload(api, "teacher", _quiz_file(f"mine-{n}")).status_code for n in range(3)] == [201, 201, 429]


def test_host_past_the_daily_upload_quota_gets_429_and_nothing_is_stored(api: Api) -> None:
    assert _upload(api, "teacher", _quiz_file("one")).status_code == 201
    assert _upload(api, "teacher", _quiz_file("one")).status_code == 201  # a replacement counts

    refused = _upload(api, "teacher", _quiz_file("two"))

    assert (refused.status_code, refused.get_json()["error"]["code"]) == (429, ErrorCode.QUOTA_EXCEEDED)
    assert "at most 2 quizzes uploaded per user per day (UTC)" in refused.get_json()["error"]["message"]
    assert "Retry-After" in refused.headers
    listed = api.get("/api/v1/quizzes", headers=as_user("teacher")).get_json()["quizzes"]
    assert "two" not in {q["quiz_id"] for q in listed}


def test_quiz_too_large_in_bytes_or_questions_gets_413_with_the_limit_and_counts_for_nothing(
    api: Api,
) -> None:
    long_file = _quiz_file("long", padding=2000)
    many = _upload(api, "teacher", _quiz_file("many", questions=6))
    long = _upload(api, "teacher", long_file)

    assert (many.status_code, many.get_json()["error"]["code"]) == (413, ErrorCode.QUIZ_TOO_LARGE)
    assert many.get_json()["error"]["message"] == "The quiz has 6 questions; the most is 5"
    assert (long.status_code, long.get_json()["error"]["code"]) == (413, ErrorCode.QUIZ_TOO_LARGE)
    assert (
        long.get_json()["error"]["message"]
        == f"The quiz file is {len(long_file)} bytes; the most is 2000 bytes"
    )
    assert [_upload(api, "teacher", _quiz_file(f"ok-{n}")).status_code for n in range(3)] == [201, 201, 429]


def test_request_over_what_the_api_reads_gets_a_json_413(api: Api) -> None:
    too_big = _upload(api, "teacher", "x" * (1024 * 1024 + 1))
    assert (too_big.status_code, too_big.get_json()["error"]["code"]) == (413, ErrorCode.QUIZ_TOO_LARGE)


def test_an_upload_that_loses_the_race_for_its_id_counts_for_nothing(table: Table, api: Api) -> None:
    """Ben's check finds the id free, Ann's upload of it lands before Ben's is saved: Ben's
    is refused (409) and his two uploads of the day are still his."""
    ann_first = table.game.upload_quiz_file
    checked = table.store.stored_quiz

    def after_anns(quiz_id: str) -> Any:
        found = checked(quiz_id)
        table.store.stored_quiz = checked  # type: ignore[method-assign]
        ann_first(_quiz_file("raced").encode(), owner_uid="ann")  # between Ben's check and save
        return found

    table.store.stored_quiz = after_anns  # type: ignore[method-assign]
    lost = _upload(api, "ben", _quiz_file("raced"))
    assert (lost.status_code, lost.json["error"]["code"]) == (409, ErrorCode.QUIZ_EXISTS)
    assert [_upload(api, "ben", _quiz_file(f"bens-{n}")).status_code for n in range(3)] == [201, 201, 429]
