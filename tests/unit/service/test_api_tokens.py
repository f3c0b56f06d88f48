"""The host API's token checks through Flask's test client, on the memory twins: a refused
ID or App Check token gets a fixed message while the reason goes to the log; App Check is
required only where it is enforced; an anonymous caller's upload is marked anonymous."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask.testing import FlaskClient as Api

from tests.unit.service.conftest import Table, as_anonymous_user, as_user, verify_test_token
from vocabquiz.domain.model import Quiz
from vocabquiz.protocol import ErrorCode
from vocabquiz.service.api import Caller, create_app

WEB = "https://quiz.example"
REASON = 'Firebase ID token has incorrect "aud" (audience) claim. Expected "demo-quiz"'
APP_CHECK_REASON = "The provided App Check token has an incorrect alg header. Expected RS256 but got HS256."


def _forged(token: str) -> Caller:
    """An ID-token check that refuses everything, with the kind of reason firebase-admin gives."""
    raise ValueError(REASON)


def _app_check(token: str) -> None:
    """Only "attested" passes; the reason for anything else is firebase-admin's kind."""
    if token != "attested":
        raise ValueError(APP_CHECK_REASON)


@pytest.fixture
def enforced(table: Table) -> Api:
    """The API where App Check is enforced."""
    return create_app(lambda: table.game, verify_test_token, frozenset({WEB}), _app_check).test_client()


def _refusal(reply: Any) -> tuple[int, str, str]:
    error = reply.get_json()["error"]
    return reply.status_code, error["code"], error["message"]


def _reasons(caplog: pytest.LogCaptureFixture, message: str) -> list[str]:
    return [
        r.json_fields["reason"]  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == message and r.levelno == logging.WARNING
    ]


def test_client_with_a_refused_id_token_gets_a_fixed_message_and_the_reason_is_logged(
    table: Table, caplog: pytest.LogCaptureFixture
) -> None:
    api = create_app(lambda: table.game, _forged, frozenset()).test_client()
    with caplog.at_level(logging.WARNING, logger="quiz.api"):
        reply = api.get("/api/v1/quizzes", headers={"Authorization": "Bearer forged"})
    assert _refusal(reply) == (401, ErrorCode.UNAUTHENTICATED, "Invalid or expired ID token")
    assert "audience" not in reply.get_data(as_text=True)
    assert _reasons(caplog, "id token refused") == [REASON]


def test_refused_token_reason_is_not_sent_to_any_route(api: Api) -> None:
    for method, path in (
        ("GET", "/api/v1/quizzes"),
        ("POST", "/api/v1/sessions"),
        ("POST", "/api/v1/quizzes"),
    ):
        reply = api.open(path, method=method, headers={"Authorization": "Bearer not-a-token"})
        assert _refusal(reply) == (401, ErrorCode.UNAUTHENTICATED, "Invalid or expired ID token")


def test_app_check_is_not_asked_for_where_it_is_not_enforced(api: Api) -> None:
    assert api.get("/api/v1/quizzes", headers=as_user("ann")).status_code == 200
    garbage = as_user("ann") | {"X-Firebase-AppCheck": "garbage"}
    assert api.get("/api/v1/quizzes", headers=garbage).status_code == 200


def test_enforced_app_check_refuses_a_request_without_a_token(
    enforced: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="quiz.api"):
        reply = enforced.get("/api/v1/quizzes", headers=as_user("ann"))
    assert _refusal(reply) == (401, ErrorCode.UNAUTHENTICATED, "App Check token missing or invalid")
    assert _reasons(caplog, "app check token refused") == ["missing"]


def test_enforced_app_check_refuses_an_invalid_token_and_logs_why(
    enforced: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="quiz.api"):
        reply = enforced.post(
            "/api/v1/sessions",
            json={"quiz_id": "vocab-101"},
            headers=as_user("ann") | {"X-Firebase-AppCheck": "forged"},
        )
    assert _refusal(reply) == (401, ErrorCode.UNAUTHENTICATED, "App Check token missing or invalid")
    assert "RS256" not in reply.get_data(as_text=True)
    assert _reasons(caplog, "app check token refused") == [APP_CHECK_REASON]


def test_enforced_app_check_lets_an_attested_request_through(enforced: Api) -> None:
    attested = as_user("ann") | {"X-Firebase-AppCheck": "attested"}
    assert enforced.get("/api/v1/quizzes", headers=attested).status_code == 200
    created = enforced.post("/api/v1/sessions", json={"quiz_id": "vocab-101"}, headers=attested)
    assert created.status_code == 201


def test_enforced_app_check_refusal_still_lets_the_browser_read_it(enforced: Api) -> None:
    reply = enforced.get("/api/v1/quizzes", headers=as_user("ann") | {"Origin": WEB})
    assert reply.status_code == 401
    assert reply.headers["Access-Control-Allow-Origin"] == WEB


def test_browser_preflight_allows_the_app_check_header_even_where_it_is_enforced(enforced: Api) -> None:
    """A preflight carries no custom header (Fetch standard): it must not need App Check."""
    reply = enforced.options(
        "/api/v1/sessions",
        headers={
            "Origin": WEB,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-firebase-appcheck",
        },
    )
    assert reply.status_code == 204
    allowed = {h.strip().lower() for h in reply.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-firebase-appcheck"} <= allowed


class _Uploads:
    """The table's game, noting how each upload was asked for."""

    def __init__(self, table: Table) -> None:
        self.game = table.game
        self.asked: list[dict[str, Any]] = []

    def upload_quiz_file(self, data: bytes, **how: Any) -> Quiz:
        self.asked.append(how)
        return self.game.upload_quiz_file(data, **how)


@pytest.mark.parametrize(
    ("headers", "anonymous"), [(as_anonymous_user("guest"), True), (as_user("guest"), False)]
)
def test_upload_tells_the_game_whether_its_owner_is_anonymous(
    table: Table, headers: dict[str, str], anonymous: bool
) -> None:
    uploads = _Uploads(table)
    api = create_app(lambda: uploads, verify_test_token, frozenset()).test_client()  # type: ignore[arg-type, return-value]
    quiz = {
        "id": "guest-quiz",
        "title": "Guest",
        "questions": [{"id": "q1", "kind": "typed", "text": "Cat?", "accepted": ["cat"]}],
    }
    reply = api.post("/api/v1/quizzes?visibility=public", data=json.dumps(quiz), headers=headers)
    assert reply.status_code == 201
    assert uploads.asked == [{"owner_uid": "guest", "public": True, "anonymous": anonymous}]


def test_caller_is_anonymous_only_when_firebase_says_it_signed_in_anonymously() -> None:
    anonymous = {"uid": "a", "firebase": {"sign_in_provider": "anonymous", "identities": {}}}
    assert Caller.from_claims(anonymous) == Caller("a", anonymous=True)
    assert Caller.from_claims({"uid": "g", "firebase": {"sign_in_provider": "google.com"}}).anonymous is False
    assert Caller.from_claims({"uid": "c", "firebase": {"sign_in_provider": "custom"}}).anonymous is False
    assert Caller.from_claims({"uid": "x"}).anonymous is False
