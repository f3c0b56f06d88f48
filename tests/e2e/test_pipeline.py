"""The whole pipeline through real sockets: join -> answer -> score -> leaderboard.

Runs against the local stack (official Firestore and Pub/Sub emulators, the Auth
emulator, the Cloud Tasks stand-in, functions-framework servers and the gateway).
"""

from __future__ import annotations

import pytest

from bots.client import Host, Player
from tests.conftest import add_player

pytestmark = pytest.mark.stack

# vocab-101's questions (quizzes/vocab-101.json): an accepted answer, and the options.
RIGHT = {"q1": "elated", "q2": "concise", "q3": "author", "q4": "modern", "q5": "café"}
OPTIONS = {
    "q1": ["elated", "hostile", "meagre", "weary"],
    "q2": ["concise", "lengthy", "sturdy", "vivid"],
    "q4": ["aged", "antique", "historic", "modern"],
}


def expected_points(time_taken_ms: int) -> int:
    """The oracle, written out independently of quiz.scoring."""
    return 10 + max(0, 5 - time_taken_ms // 2000)


async def test_two_players_join_answer_and_see_scores_and_leaderboard(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session = await host.create_session("vocab-101", auto_advance=False, max_participants=10)
    session_id = session["session_id"]
    assert session["status"] == "waiting"

    alice = await add_player(players, urls)
    await alice.send("JOIN_SESSION", {"session_id": session_id, "username": "Alice"})
    joined = await alice.expect("SESSION_JOINED")
    assert joined["payload"]["participant_count"] == 1
    assert joined["payload"]["your_score"] == 0
    assert joined["payload"]["status"] == "waiting"

    bob = await add_player(players, urls)
    await bob.send("JOIN_SESSION", {"session_id": session_id, "username": "Bob"})
    assert (await bob.expect("SESSION_JOINED"))["payload"]["participant_count"] == 2
    seen_by_alice = await alice.expect("USER_JOINED", user_id=bob.uid)
    assert seen_by_alice["payload"] == {"user_id": bob.uid, "username": "Bob", "participant_count": 2}

    await host.action(session_id, "start")
    shown = []
    for player in (alice, bob):
        started = await player.expect("QUESTION_STARTED")
        question = started["payload"]["question"]
        # The first of the session's own order: any of vocab-101's, never with its answer.
        assert question["question_id"] in RIGHT and "accepted" not in question
        assert sorted(question["options"]) == OPTIONS.get(question["question_id"], [])
        assert started["payload"]["index"] == 0 and started["payload"]["count"] == 5
        shown.append(question)
    assert shown[0] == shown[1]
    first = shown[0]["question_id"]

    await alice.send(
        "SUBMIT_ANSWER", {"session_id": session_id, "question_id": first, "answer": RIGHT[first]}
    )
    await bob.send(
        "SUBMIT_ANSWER",
        # A client-claimed time is ignored: time is measured on server clocks.
        {"session_id": session_id, "question_id": first, "answer": "weary", "time_taken_ms": 0},
    )
    alice_score = (await alice.expect("SCORE_UPDATED"))["payload"]
    bob_score = (await bob.expect("SCORE_UPDATED"))["payload"]
    assert alice_score["is_correct"] is True
    assert alice_score["points_earned"] == expected_points(alice_score["time_taken_ms"])
    assert alice_score["new_score"] == alice_score["points_earned"]
    assert bob_score == {**bob_score, "is_correct": False, "points_earned": 0, "new_score": 0}
    # A SCORE_UPDATED goes to its player only.
    assert all(f["payload"]["user_id"] == alice.uid for f in alice.of_type("SCORE_UPDATED"))

    for player, rank in ((alice, 1), (bob, 2)):
        board = await _leaderboard_with(player, {alice.uid: alice_score["new_score"], bob.uid: 0})
        assert board["your_rank"] == rank
        assert board["total_participants"] == 2
        assert [e["username"] for e in board["leaderboard"]] == ["Alice", "Bob"]
        assert "ranks" not in board


async def test_player_resubmitting_an_answer_is_refused_and_scored_once(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
    carol = await add_player(players, urls)
    await carol.send("JOIN_SESSION", {"session_id": session_id, "username": "Carol"})
    await carol.expect("SESSION_JOINED")
    await host.action(session_id, "start")
    first = (await carol.expect("QUESTION_STARTED"))["payload"]["question"]["question_id"]

    answer = {"session_id": session_id, "question_id": first, "answer": RIGHT[first]}
    first_id = await carol.send("SUBMIT_ANSWER", answer)
    await carol.expect("ACK", message_id=first_id)
    # The same frame again (a client retry): acknowledged, not published twice.
    await carol.send("SUBMIT_ANSWER", answer, message_id=first_id)
    await carol.expect("ACK", message_id=first_id)
    score = (await carol.expect("SCORE_UPDATED"))["payload"]
    assert score["new_score"] == expected_points(score["time_taken_ms"])
    # A new attempt at the answered question: refused. (Sent before the first was scored,
    # it might be scored first: Pub/Sub does not keep one player's commands in order.)
    second_id = await carol.send("SUBMIT_ANSWER", {**answer, "answer": "weary"})
    error = await carol.expect("ERROR")
    assert error["payload"]["code"] == "ALREADY_ANSWERED"
    assert error["message_id"] == second_id

    board = await _leaderboard_with(carol, {carol.uid: score["new_score"]})
    assert board["your_rank"] == 1
    assert len(carol.of_type("SCORE_UPDATED")) == 1


async def test_joining_a_missing_session_gets_invalid_session(
    players: list[Player], urls: dict[str, str]
) -> None:
    dave = await add_player(players, urls)
    message_id = await dave.send("JOIN_SESSION", {"session_id": "NOPE99", "username": "Dave"})
    error = await dave.expect("ERROR")
    assert error["payload"]["code"] == "INVALID_SESSION"
    assert error["message_id"] == message_id


async def test_malformed_frame_gets_invalid_message_and_socket_stays_open(
    players: list[Player], urls: dict[str, str]
) -> None:
    erin = await add_player(players, urls)
    await erin.send("SUBMIT_ANSWER", {"session_id": "X"})
    assert (await erin.expect("ERROR"))["payload"]["code"] == "INVALID_MESSAGE"
    ping_id = await erin.send("PING", {})
    assert (await erin.expect("PONG"))["message_id"] == ping_id


async def _leaderboard_with(player: Player, scores: dict[str, int]) -> dict[str, object]:
    """The first LEADERBOARD_UPDATED showing exactly these scores (earlier flushes may
    have caught the session before every answer landed)."""
    while True:
        payload = (await player.expect("LEADERBOARD_UPDATED"))["payload"]
        shown = {entry["user_id"]: entry["score"] for entry in payload["leaderboard"]}
        if shown == scores:
            return payload
