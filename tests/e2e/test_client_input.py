"""What a client may send, through the local stack: a session code typed in any case (over
the socket and in the host API's paths), a name of any length judged by the name rules,
and a client's time_taken_ms accepted whatever it says while the server's is scored."""

from __future__ import annotations

import pytest

from bots.client import Host, Player
from tests.conftest import add_player

pytestmark = pytest.mark.stack


async def _code_with_letters(host: Host) -> str:
    """A session whose code has a letter to type in lower case (one in 4,096 is all digits)."""
    while True:
        code = str((await host.create_session("vocab-101"))["session_id"])
        if not code.isdigit():
            return code


async def test_a_code_typed_in_lower_case_joins_answers_and_runs_the_session(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    code = await _code_with_letters(host)
    typed = code.lower()
    ann = await add_player(players, urls)
    await ann.send("JOIN_SESSION", {"session_id": typed, "username": "Ann"})
    assert (await ann.expect("SESSION_JOINED"))["payload"]["session_id"] == code

    assert (await host.call("POST", f"/api/v1/sessions/{typed}/start")).json()["status"] == "active"
    started = (await ann.expect("QUESTION_STARTED"))["payload"]
    question = started["question"]
    answer = {
        "session_id": typed,
        "question_id": question["question_id"],
        "answer": (question["options"] or ["a word"])[0],
        "time_taken_ms": -3.5,  # a client's clock: accepted, ignored
    }
    await ann.send("SUBMIT_ANSWER", answer)
    score = (await ann.expect("SCORE_UPDATED"))["payload"]
    assert score["question_id"] == question["question_id"] and score["time_taken_ms"] >= 0

    kicked = await host.call("POST", f"/api/v1/sessions/{typed}/kick", {"user_id": ann.uid})
    assert kicked.json() == {"session_id": code, "kicked": ann.uid}
    assert (await ann.expect("ERROR"))["payload"]["code"] == "KICKED"
    assert (await host.call("POST", f"/api/v1/sessions/{typed}/end")).json()["status"] == "completed"
    assert (await host.call("GET", f"/api/v1/sessions/{typed}/results")).status_code == 200


async def test_every_name_too_short_or_too_long_gets_invalid_name(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    code = (await host.create_session("vocab-101"))["session_id"]
    zed = await add_player(players, urls)
    for name in ("", "x" * 33, "x" * 201, "x" * 9_000):
        sent = await zed.send("JOIN_SESSION", {"session_id": code, "username": name})
        refused = await zed.expect("ERROR")
        assert (refused["message_id"], refused["payload"]["code"]) == (sent, "INVALID_NAME"), len(name)
    await zed.send("JOIN_SESSION", {"session_id": code, "username": "x" * 32})
    assert (await zed.expect("SESSION_JOINED"))["payload"]["username"] == "x" * 32


async def test_any_time_taken_a_client_sends_is_acknowledged_and_the_servers_scored(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    code = (await host.create_session("vocab-101"))["session_id"]
    bots = [await add_player(players, urls) for _ in range(4)]
    for n, bot in enumerate(bots):
        await bot.send("JOIN_SESSION", {"session_id": code, "username": f"Bot {n}"})
        await bot.expect("SESSION_JOINED")
    await host.action(code, "start")
    for bot, claimed in zip(bots, (10**15, -1, "fast", [0]), strict=True):
        question = (await bot.expect("QUESTION_STARTED"))["payload"]["question"]
        payload = {
            "session_id": code,
            "question_id": question["question_id"],
            "answer": (question["options"] or ["a word"])[0],
            "time_taken_ms": claimed,
        }
        sent = await bot.send("SUBMIT_ANSWER", payload)
        await bot.expect("ACK", message_id=sent)
        score = (await bot.expect("SCORE_UPDATED"))["payload"]
        assert 0 <= score["time_taken_ms"] < 20_000, claimed
