"""The functions' entry points in-process, on the memory twins: the host API through
Flask's test client, and `on_command` through functions-framework's own app receiving a
real Pub/Sub CloudEvent (the HTTP request Pub/Sub push makes, in binary content mode)."""

from __future__ import annotations

import base64
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import flask
import functions_framework
import pytest

from devstack.stack import FUNCTIONS_MAIN
from tests.unit.service.conftest import ENV, Table, as_user, frames_of
from vocabquiz.protocol import ErrorCode
from vocabquiz.protocol.envelope import (
    ATTR_BATCH,
    ATTR_RECEIVED_AT_MS,
    ATTR_UID,
    encode_command,
    encode_command_batch,
)

PUBSUB_PUSH_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"


def test_host_creates_starts_and_reads_results_through_the_api(
    table: Table, api: flask.testing.FlaskClient
) -> None:
    listed = api.get("/api/v1/quizzes", headers=as_user("host"))
    assert [q["quiz_id"] for q in listed.get_json()["quizzes"]] == ["vocab-101"]
    created = api.post(
        "/api/v1/sessions", json={"quiz_id": "vocab-101", "auto_advance": False}, headers=as_user("host")
    )
    assert created.status_code == 201
    code = created.get_json()["session_id"]
    table.send("ann", table.frame("JOIN_SESSION", session_id=code, username="Ann"))
    assert api.post(f"/api/v1/sessions/{code}/start", headers=as_user("host")).get_json()["question_open"]
    (started,) = frames_of(table.take(), "QUESTION_STARTED")
    first = started["question"]["question_id"]  # the session's order: not the file's
    table.advance(1000)
    table.send(
        "ann",
        table.frame("SUBMIT_ANSWER", session_id=code, question_id=first, answer=table.right_answer(first)),
    )
    csv = api.get(f"/api/v1/sessions/{code}/results?format=csv", headers=as_user("host"))
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines()[1].startswith("1,ann,Ann,15,1,1")


def test_api_refuses_another_players_host_step_and_an_unknown_field(api: flask.testing.FlaskClient) -> None:
    created = api.post("/api/v1/sessions", json={"quiz_id": "vocab-101"}, headers=as_user("host"))
    code = created.get_json()["code"]
    refused = api.post(f"/api/v1/sessions/{code}/start", headers=as_user("ann"))
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, ErrorCode.NOT_HOST)
    spoofed = api.post(
        "/api/v1/sessions", json={"quiz_id": "vocab-101", "host_uid": "ann"}, headers=as_user("ann")
    )
    assert spoofed.status_code == 400 and "host_uid" in spoofed.get_json()["error"]["message"]
    assert api.get(f"/api/v1/sessions/{code}").status_code == 401


def test_api_uploads_a_quiz_file_its_owner_may_replace_and_no_one_else(
    api: flask.testing.FlaskClient,
) -> None:
    quiz = {
        "id": "mine",
        "title": "Mine",
        "questions": [{"id": "q1", "kind": "typed", "text": "Cat?", "accepted": ["cat"]}],
    }
    assert api.post("/api/v1/quizzes", data=json.dumps(quiz), headers=as_user("ann")).status_code == 201
    assert api.post("/api/v1/quizzes", data=json.dumps(quiz), headers=as_user("ann")).status_code == 201
    taken = api.post("/api/v1/quizzes", data=json.dumps(quiz), headers=as_user("ben"))
    assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, ErrorCode.QUIZ_EXISTS)


@pytest.fixture
def on_command(table: Table, monkeypatch: pytest.MonkeyPatch) -> Iterator[flask.testing.FlaskClient]:
    """functions/main.py's on_command as functions-framework serves it, its game on the twins."""
    for name, value in ENV.items():  # main reads its config when it loads
        monkeypatch.setenv(name, value)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    earlier = sys.modules.get("main")
    app = functions_framework.create_app("on_command", str(FUNCTIONS_MAIN), "cloudevent")
    monkeypatch.setattr(sys.modules["main"], "game", lambda: table.game)
    yield app.test_client()
    root.handlers[:], root.level = handlers, level  # main configures JSON logging when it loads
    # This `main` was configured for the twins: a later test loading main gets its own.
    if earlier is None:
        sys.modules.pop("main", None)
    else:
        sys.modules["main"] = earlier


def _push(client: flask.testing.FlaskClient, data: bytes, attributes: dict[str, str]) -> int:
    """POST what Pub/Sub push sends for one message."""
    message = {
        "data": base64.b64encode(data).decode(),
        "attributes": attributes,
        "messageId": uuid.uuid4().hex,
    }
    headers = {
        "ce-id": message["messageId"],
        "ce-source": "//pubsub.googleapis.com/projects/demo-quiz/topics/quiz-commands",
        "ce-type": PUBSUB_PUSH_TYPE,
        "ce-specversion": "1.0",
        "Content-Type": "application/json",
    }
    body: dict[str, Any] = {"message": message, "subscription": "projects/demo-quiz/subscriptions/on-command"}
    return client.post("/", json=body, headers=headers).status_code


def _stamps(table: Table, uid: str) -> dict[str, str]:
    return {ATTR_UID: uid, ATTR_RECEIVED_AT_MS: str(table.clock())}


def test_on_command_scores_a_pushed_batch_of_answers(
    table: Table, on_command: flask.testing.FlaskClient
) -> None:
    code = table.game.create_session("vocab-101", "host", 10, False).id
    joins = [
        encode_command(
            json.dumps(table.frame("JOIN_SESSION", session_id=code, username=uid)).encode(),
            _stamps(table, uid),
        )
        for uid in ("ann", "ben")
    ]
    assert _push(on_command, encode_command_batch(joins), {ATTR_BATCH: "1"}) == 200
    table.game.start(code, "host")
    (started,) = frames_of(table.take(), "QUESTION_STARTED")
    first = started["question"]["question_id"]
    table.advance(3000)
    table.take()
    answers = [
        encode_command(
            json.dumps(
                table.frame("SUBMIT_ANSWER", session_id=code, question_id=first, answer=answer)
            ).encode(),
            _stamps(table, uid),
        )
        for uid, answer in (("ann", table.right_answer(first)), ("ben", "none of these"))
    ]
    assert _push(on_command, encode_command_batch(answers), {ATTR_BATCH: "1"}) == 200
    events = table.take()
    assert frames_of(events, "SCORE_UPDATED", "ann")[0]["new_score"] == 14
    assert frames_of(events, "SCORE_UPDATED", "ben")[0]["new_score"] == 0


def test_on_command_acknowledges_a_poison_message_so_it_is_not_retried(
    on_command: flask.testing.FlaskClient,
) -> None:
    assert _push(on_command, b"not json", {ATTR_UID: "ann", ATTR_RECEIVED_AT_MS: "1"}) == 200
