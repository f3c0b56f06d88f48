"""JSON nested too deep at the functions' entry points, in-process on the memory twins: a
host's quiz upload gets 400 INVALID_MESSAGE (not a 500), and a quiz-commands message is
acknowledged as poison (not a failed invocation Pub/Sub delivers again and again)."""

from __future__ import annotations

import json

import flask
import pytest

from tests.unit.service.conftest import Table, as_user
from tests.unit.service.test_entry_points import _push, on_command  # noqa: F401 - the fixture
from vocabquiz.protocol import ErrorCode
from vocabquiz.protocol.envelope import ATTR_BATCH, ATTR_RECEIVED_AT_MS, ATTR_UID, encode_command
from vocabquiz.protocol.frames import MAX_JSON_DEPTH


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 3000])
def test_host_uploading_a_quiz_nested_too_deep_gets_400_invalid_message(
    api: flask.testing.FlaskClient, depth: int
) -> None:
    quiz = {"id": "deep", "title": "Deep", "questions": [], "tags": "SLOT"}
    text = json.dumps(quiz).replace('"SLOT"', "[" * depth + "]" * depth)
    refused = api.post("/api/v1/quizzes", data=text, headers=as_user("teacher"))
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == ErrorCode.INVALID_MESSAGE
    assert (
        error["message"] == f"body: not a quiz: arrays and objects nest deeper than {MAX_JSON_DEPTH} levels"
    )
    assert (
        api.get("/api/v1/quizzes", headers=as_user("teacher")).get_json()["quizzes"][-1]["quiz_id"] != "deep"
    )


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
def test_on_command_acknowledges_a_command_nested_too_deep_as_poison(
    table: Table,
    on_command: flask.testing.FlaskClient,  # noqa: F811 - test_entry_points' fixture
    batch: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stamps = {ATTR_UID: "ann", ATTR_RECEIVED_AT_MS: str(table.clock())}
    frame = b'{"type":"PING","payload":' + b"[" * 3000 + b"]" * 3000 + b"}"
    data, attributes = (
        (b"[" + encode_command(frame, stamps) + b"]", {ATTR_BATCH: "1"}) if batch else (frame, stamps)
    )
    assert _push(on_command, data, attributes) == 200  # acknowledged: never delivered again
    (dropped,) = [r for r in caplog.records if r.getMessage() == "poison command dropped"]
    assert "deeper than" in dropped.json_fields["error"]  # type: ignore[attr-defined]
    assert table.take() == []


@pytest.mark.parametrize("path", ["/api/v1/sessions", "/api/v1/sessions/ABCDEF/kick"])
def test_a_request_body_nested_too_deep_gets_400_invalid_message(
    api: flask.testing.FlaskClient, path: str
) -> None:
    text = '{"quiz_id": "vocab-101", "x": ' + "[" * 3000 + "]" * 3000 + "}"
    headers = as_user("teacher") | {"Content-Type": "application/json"}
    refused = api.post(path, data=text, headers=headers)
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert (error["code"], error["message"]) == (
        ErrorCode.INVALID_MESSAGE,
        f"Body's arrays and objects nest deeper than {MAX_JSON_DEPTH} levels",
    )
