"""What a client may send, played on the memory twins: session codes in any case (frames
and the host API's paths), a name of any length judged by the name rules (INVALID_NAME),
and a client's time_taken_ms accepted whatever it says and ignored."""

from __future__ import annotations

import flask
import pytest

from tests.unit.service.conftest import Table, as_user, frames_of
from vocabquiz.protocol import ErrorCode


def test_a_player_joins_answers_leaves_and_rejoins_with_the_code_in_lower_case(table: Table) -> None:
    code = table.game.create_session("vocab-101", "host", 10, False).id
    typed = code.lower()
    assert typed != code

    table.send("ann", table.frame("JOIN_SESSION", session_id=typed, username="Ann"))
    (welcome,) = frames_of(table.take(), "SESSION_JOINED", "ann")
    assert welcome["session_id"] == code

    table.game.start(code, "host")
    (started,) = frames_of(table.take(), "QUESTION_STARTED")
    question_id = started["question"]["question_id"]
    answer = table.right_answer(question_id)
    table.send("ann", table.frame("SUBMIT_ANSWER", session_id=typed, question_id=question_id, answer=answer))
    assert frames_of(table.take(), "SCORE_UPDATED", "ann")[0]["is_correct"] is True

    table.send("ann", table.frame("LEAVE_SESSION", session_id=typed.capitalize()))
    assert frames_of(table.take(), "USER_LEFT")[0]["user_id"] == "ann"
    table.send("ann", table.frame("REJOIN", session_id=typed))
    assert frames_of(table.take(), "SESSION_JOINED", "ann")[0]["your_score"] > 0

    table.send("host", table.frame("WATCH_SESSION", session_id=typed))
    assert frames_of(table.take(), "SESSION_JOINED", "host")[0]["role"] == "host"


def test_the_host_api_reads_a_session_code_in_any_case(table: Table, api: flask.testing.FlaskClient) -> None:
    code = table.game.create_session("vocab-101", "host", 10, False).id
    table.send("ann", table.frame("JOIN_SESSION", session_id=code, username="Ann"))
    typed = code.lower()
    host = as_user("host")

    assert api.get(f"/api/v1/sessions/{typed}", headers=host).get_json()["session_id"] == code
    assert api.post(f"/api/v1/sessions/{typed}/start", headers=host).get_json()["status"] == "active"
    assert api.post(f"/api/v1/sessions/{typed}/next", headers=host).status_code == 200
    kicked = api.post(f"/api/v1/sessions/{typed}/kick", json={"user_id": "ann"}, headers=host)
    assert kicked.get_json() == {"session_id": code, "kicked": "ann"}
    assert api.post(f"/api/v1/sessions/{typed}/end", headers=host).get_json()["status"] == "completed"
    results = api.get(f"/api/v1/sessions/{typed}/results?format=csv", headers=host)
    assert results.status_code == 200
    assert f'filename="results-{code}.csv"' in results.headers["Content-Disposition"]


@pytest.mark.parametrize("username", ["", "   ", "x" * 33, "x" * 201, "y" * 5000])
def test_a_name_too_short_or_too_long_is_refused_as_invalid_name(table: Table, username: str) -> None:
    code = table.game.create_session("vocab-101", "host", 10, False).id
    table.send("ann", table.frame("JOIN_SESSION", session_id=code, username=username))
    (refused,) = frames_of(table.take(), "ERROR", "ann")
    assert refused["code"] == ErrorCode.INVALID_NAME
    assert refused["message"] == f"Name must be 1-32 characters, not {len(username.strip())}"


@pytest.mark.parametrize("claimed", [-5, 0, 3.5, 10**15, "soon", None, [1]])
def test_a_clients_time_taken_is_accepted_and_the_servers_is_scored(table: Table, claimed: object) -> None:
    code = table.game.create_session("vocab-101", "host", 10, False).id
    table.send("ann", table.frame("JOIN_SESSION", session_id=code, username="Ann"))
    table.game.start(code, "host")
    (started,) = frames_of(table.take(), "QUESTION_STARTED")
    question_id = started["question"]["question_id"]
    table.advance(4_100)  # 10 points + a bonus of 5 - 2

    answer = table.frame(
        "SUBMIT_ANSWER",
        session_id=code,
        question_id=question_id,
        answer=table.right_answer(question_id),
        time_taken_ms=claimed,
    )
    table.send("ann", answer)
    (score,) = frames_of(table.take(), "SCORE_UPDATED", "ann")
    assert (score["time_taken_ms"], score["points_earned"]) == (4_100, 13)
