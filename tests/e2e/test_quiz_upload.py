"""Hosts load their own quiz files through the API; bad files get the line and field."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from bots.client import Host, Player
from tests.conftest import add_player

pytestmark = pytest.mark.stack


def quiz_file(quiz_id: str) -> dict[str, object]:
    return {
        "id": quiz_id,
        "title": "Colours",
        "questions": [
            {"id": "q1", "kind": "typed", "text": "Sky colour?", "accepted": ["blue"], "time_limit_s": 10},
        ],
    }


async def test_host_uploads_a_quiz_and_hosts_a_session_on_it(host: Host) -> None:
    quiz_id = f"upload-{uuid.uuid4().hex[:8]}"
    response = await host.call("POST", "/api/v1/quizzes", quiz_file(quiz_id))
    assert response.status_code == 201
    assert response.json() == {"quiz_id": quiz_id, "title": "Colours", "question_count": 1}
    assert (await host.create_session(quiz_id))["question_count"] == 1


async def test_invalid_quiz_file_is_refused_with_its_line_and_field(host: Host) -> None:
    text = json.dumps(quiz_file("bad"), indent=2).replace('"time_limit_s": 10', '"time_limit_s": "soon"')
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{host.api_url}/api/v1/quizzes",
            content=text,
            headers={"Authorization": f"Bearer {host.token}", "Content-Type": "application/json"},
        )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "$.questions[0].time_limit_s" in message and "body:" in message


async def test_host_cannot_overwrite_someone_elses_quiz(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    quiz_id = f"mine-{uuid.uuid4().hex[:8]}"
    assert (await host.call("POST", "/api/v1/quizzes", quiz_file(quiz_id))).status_code == 201
    other = Host(urls["api"], (await add_player(players, urls)).token)
    response = await other.call("POST", "/api/v1/quizzes", quiz_file(quiz_id))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "QUIZ_EXISTS")
    seeded = await other.call("POST", "/api/v1/quizzes", quiz_file("vocab-101"))
    assert seeded.status_code == 409
