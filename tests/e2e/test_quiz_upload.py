"""Hosts load their own quiz files through the API; bad files get the line and field. An
upload is private unless made public: a player of it cannot host a copy to see its answers."""

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
    assert response.json() == {"quiz_id": quiz_id, "title": "Colours", "question_count": 1, "public": False}
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


async def test_player_of_a_private_quiz_is_refused_a_shadow_session_and_never_sees_it_listed(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    quiz_id = f"private-{uuid.uuid4().hex[:8]}"
    assert (await host.call("POST", "/api/v1/quizzes", quiz_file(quiz_id))).status_code == 201
    session_id = (await host.create_session(quiz_id))["session_id"]
    player = await add_player(players, urls)
    await player.send("JOIN_SESSION", {"session_id": session_id, "username": "Mallory"})
    joined = (await player.expect("SESSION_JOINED"))["payload"]
    as_host = Host(urls["api"], player.token)

    shadow = await as_host.call("POST", "/api/v1/sessions", {"quiz_id": joined["quiz_id"]})

    assert (shadow.status_code, shadow.json()["error"]["code"]) == (403, "QUIZ_PRIVATE")
    assert quiz_id not in await _listed(as_host)
    assert quiz_id in await _listed(host)


async def test_public_upload_is_listed_to_and_hosted_by_anyone(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    quiz_id = f"public-{uuid.uuid4().hex[:8]}"
    response = await host.call("POST", "/api/v1/quizzes?visibility=public", quiz_file(quiz_id))
    assert (response.status_code, response.json()["public"]) == (201, True)
    other = Host(urls["api"], (await add_player(players, urls)).token)

    listed = await _listed(other)

    assert (listed[quiz_id]["public"], listed[quiz_id]["library"], listed[quiz_id]["yours"]) == (
        True,
        False,
        False,
    )
    assert (await other.create_session(quiz_id))["question_count"] == 1


async def _listed(host: Host) -> dict[str, dict[str, object]]:
    """Every quiz the host is shown, all pages walked (a small page: several calls), by id."""
    found: dict[str, dict[str, object]] = {}
    token: str | None = ""
    while token is not None:
        page = (await host.call("GET", f"/api/v1/quizzes?page_size=20&page_token={token}")).json()
        found |= {q["quiz_id"]: q for q in page["quizzes"]}
        token = page["next_page_token"]
    return found
