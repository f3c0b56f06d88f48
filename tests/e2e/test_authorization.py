"""Who may do what through the API and the socket: identity comes from the verified
token only, never from a body or a frame; players act only in sessions they joined."""

from __future__ import annotations

import pytest

from bots.client import Host, Player
from tests.conftest import add_player

pytestmark = pytest.mark.stack


async def test_session_body_naming_another_host_still_makes_the_caller_host(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    victim = await add_player(players, urls)
    response = await host.call("POST", "/api/v1/sessions", {"quiz_id": "vocab-101", "host_uid": victim.uid})
    assert response.status_code == 400  # an unknown field is refused, not silently ignored
    session_id = (await host.create_session("vocab-101"))["session_id"]
    as_victim = Host(urls["api"], victim.token)
    assert (await as_victim.call("POST", f"/api/v1/sessions/{session_id}/start")).status_code == 403


async def test_frame_naming_another_user_is_refused_as_invalid(
    players: list[Player], urls: dict[str, str]
) -> None:
    mallory = await add_player(players, urls)
    await mallory.send("JOIN_SESSION", {"session_id": "ANY123", "username": "M", "user_id": "someone-else"})
    assert (await mallory.expect("ERROR"))["payload"]["code"] == "INVALID_MESSAGE"


async def test_player_cannot_answer_in_a_session_they_did_not_join(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
    member, outsider = await add_player(players, urls), await add_player(players, urls)
    await member.send("JOIN_SESSION", {"session_id": session_id, "username": "Member"})
    await member.expect("SESSION_JOINED")
    await host.action(session_id, "start")
    await member.expect("QUESTION_STARTED")
    await outsider.send("SUBMIT_ANSWER", {"session_id": session_id, "question_id": "q1", "answer": "elated"})
    assert (await outsider.expect("ERROR"))["payload"]["code"] == "NOT_JOINED"
    await outsider.send("REJOIN", {"session_id": session_id})
    assert (await outsider.expect("ERROR"))["payload"]["code"] == "NOT_JOINED"
    assert not outsider.of_type("QUESTION_STARTED")
