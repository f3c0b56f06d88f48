"""Whole sessions, timers and all, checked frame by frame against an independent oracle.

The oracle scores from what the players did and when they sent it (same machine clock
as the server), with every answer timed well away from a 2-second bonus boundary.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from typing import Any

import httpx
import pytest

from bots.client import Host, Player
from tests.conftest import REVEAL_PAUSE_MS, add_player

pytestmark = pytest.mark.stack

TIME_LIMIT_S = 5  # the quiz format's shortest
QUIZ = {
    "id": "e2e-full",
    "title": "Timers, typing and ties",
    "questions": [
        {
            "id": "q1",
            "kind": "choice",
            "text": "Which word means 'very happy'?",
            "options": ["elated", "weary", "hostile", "meagre"],
            "accepted": ["elated"],
            "time_limit_s": TIME_LIMIT_S,
        },
        {
            "id": "q2",
            "kind": "typed",
            "text": "What do we call red, green or blue?",
            "accepted": ["colour", "color"],
            "time_limit_s": TIME_LIMIT_S,
            "explanation": "Both spellings count.",
        },
        {
            "id": "q3",
            "kind": "choice",
            "text": "Pick the synonym of 'brief'.",
            "options": ["lengthy", "concise", "vivid", "sturdy"],
            "accepted": ["concise"],
            "time_limit_s": TIME_LIMIT_S,
        },
    ],
}


class Oracle:
    """Scores computed from the rules as the README states them, not from quiz.scoring."""

    def __init__(self) -> None:
        self.scores: dict[str, int] = {}
        self.reached_at: dict[str, float] = {}

    def record(self, uid: str, correct: bool, sent_ms: float, started_ms: int) -> int:
        points = 10 + max(0, 5 - int((sent_ms - started_ms) // 2000)) if correct else 0
        self.scores[uid] = self.scores.get(uid, 0) + points
        if points:
            self.reached_at[uid] = sent_ms
        return points

    def standings(self, names: dict[str, str]) -> list[tuple[int, str, int]]:
        order = sorted(self.scores, key=lambda uid: (-self.scores[uid], self.reached_at.get(uid, 0)))
        ranked: list[tuple[int, str, int]] = []
        for position, uid in enumerate(order, start=1):
            tied = ranked and ranked[-1][2] == self.scores[uid]
            ranked.append((ranked[-1][0] if tied else position, names[uid], self.scores[uid]))
        return ranked


async def at(started_ms: int, offset_ms: int) -> float:
    """Sleep until `offset_ms` after the question started; returns the send time (ms)."""
    delay = (started_ms + offset_ms) / 1000 - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    return time.time() * 1000


async def answer(
    oracle: Oracle,
    player: Player,
    session_id: str,
    question: dict[str, Any],
    text: str,
    correct: bool,
    offset_ms: int,
) -> None:
    started_ms = question["started_ms"]
    sent_ms = await at(started_ms, offset_ms)
    payload = {"session_id": session_id, "question_id": question["id"], "answer": text}
    await player.send("SUBMIT_ANSWER", payload)
    expected = oracle.record(player.uid, correct, sent_ms, started_ms)
    score = (await player.expect("SCORE_UPDATED", question_id=question["id"]))["payload"]
    assert (score["is_correct"], score["points_earned"]) == (correct, expected)
    assert score["new_score"] == oracle.scores[player.uid]


async def question_for(players: list[Player], index: int) -> dict[str, Any]:
    """Every player gets the session's question at `index` (its own order: any of the
    quiz's), the same one, with its deadline and without its answer."""
    frames = [await p.expect("QUESTION_STARTED", index=index, timeout_s=15) for p in players]
    payloads = [f["payload"] for f in frames]
    qid = payloads[0]["question"]["question_id"]
    assert all(p["question"]["question_id"] == qid for p in payloads)
    assert all("accepted" not in p["question"] and "accepted_answers" not in p for p in payloads)
    first = payloads[0]
    assert first["deadline_ms"] - _ms(first["started_at"]) == TIME_LIMIT_S * 1000
    return {"id": qid, "index": index, "started_ms": _ms(first["started_at"])}


def _ms(timestamp: str) -> int:
    from vocabquiz.protocol import parse_timestamp_ms

    return parse_timestamp_ms(timestamp)


async def test_full_session_with_timers_typed_answers_reconnect_and_ties(
    host: Host, players: list[Player], urls: dict[str, str], save_quiz: Any
) -> None:
    quiz_id = save_quiz(QUIZ)
    session_id = (await host.create_session(quiz_id, auto_advance=True))["session_id"]
    oracle = Oracle()
    ann, ben, cat = [await add_player(players, urls) for _ in range(3)]
    names = {ann.uid: "Ann", ben.uid: "Ben", cat.uid: "Cat"}
    for player in (ann, ben, cat):
        await player.send("JOIN_SESSION", {"session_id": session_id, "username": names[player.uid]})
        await player.expect("SESSION_JOINED")
        oracle.scores[player.uid] = 0
    await host.action(session_id, "start")
    # The session plays the questions in its own order: what happens at each goes with
    # the question, whenever it comes. Cat reconnects and Dan joins during q2.
    seated = {"Ann": ann, "Ben": ben, "Cat": cat}
    answered: dict[str, int] = {}  # question id -> answers to it

    async def play_q1(q1: dict[str, Any]) -> None:
        """Two right at different speeds, one wrong; a second try is refused."""
        await asyncio.gather(
            answer(oracle, seated["Ann"], session_id, q1, "elated", True, 300),
            answer(oracle, seated["Ben"], session_id, q1, "weary", False, 300),
            answer(oracle, seated["Cat"], session_id, q1, "elated", True, 2400),
        )
        await seated["Ann"].send(
            "SUBMIT_ANSWER", {"session_id": session_id, "question_id": "q1", "answer": "weary"}
        )
        assert (await seated["Ann"].expect("ERROR"))["payload"]["code"] == "ALREADY_ANSWERED"
        ended = [
            (await p.expect("QUESTION_ENDED", index=q1["index"], timeout_s=15))["payload"]
            for p in seated.values()
        ]
        assert ended[0]["accepted_answers"] == ["elated"]
        assert ended[0]["stats"] == {
            "answered": 3,
            "correct": 2,
            "distribution": {"elated": 2, "weary": 1},
            "correct_answers": ["elated"],
        }
        assert all(e == ended[0] for e in ended)
        answered["q1"] = 3

    async def play_q2(q2: dict[str, Any]) -> None:
        """Typed: forgiving judging; Cat drops mid-question, rejoins, and is too late; Dan
        joins late and lands straight in the open question."""
        await cat.close()
        cat_again = Player(urls["ws"], cat.token, cat.uid, origin=urls["origin"])
        await cat_again.connect()
        players.append(cat_again)
        seated["Cat"] = cat_again
        await cat_again.send("REJOIN", {"session_id": session_id})
        rejoined = (await cat_again.expect("SESSION_JOINED"))["payload"]
        (cat_rank,) = [rank for rank, name, _ in oracle.standings(names) if name == "Cat"]
        assert (rejoined["username"], rejoined["your_score"], rejoined["answered_current"]) == (
            "Cat",
            oracle.scores[cat.uid],
            False,
        )
        assert rejoined["your_rank"] == cat_rank
        assert (await cat_again.expect("QUESTION_STARTED"))["payload"]["index"] == q2["index"]

        dan = await add_player(players, urls)
        names[dan.uid] = "Dan"
        oracle.scores[dan.uid] = 0
        await dan.send("JOIN_SESSION", {"session_id": session_id, "username": "Dan"})
        await dan.expect("SESSION_JOINED")
        assert (await dan.expect("QUESTION_STARTED"))["payload"]["question"]["question_id"] == "q2"
        seated["Dan"] = dan

        await asyncio.gather(
            answer(oracle, ann, session_id, q2, "Colour!", True, 300),
            answer(oracle, ben, session_id, q2, "the colur", True, 2300),
            answer(oracle, dan, session_id, q2, "red", False, 2500),
        )
        await at(q2["started_ms"], TIME_LIMIT_S * 1000 + 700)  # past the deadline and its grace
        await cat_again.send(
            "SUBMIT_ANSWER", {"session_id": session_id, "question_id": "q2", "answer": "colour"}
        )
        assert (await cat_again.expect("ERROR"))["payload"]["code"] == "QUESTION_CLOSED"
        ended_q2 = (await ann.expect("QUESTION_ENDED", index=q2["index"], timeout_s=15))["payload"]
        assert ended_q2["accepted_answers"] == ["colour", "color"]
        assert ended_q2["explanation"] == "Both spellings count."
        assert ended_q2["stats"] == {
            "answered": 3,
            "correct": 2,
            "distribution": {"colour": 1, "colur": 1, "red": 1},
            "correct_answers": ["colour", "colur"],  # "colur": one typo from "colour"
        }
        answered["q2"] = 3

    async def play_q3(q3: dict[str, Any]) -> None:
        """Ben and Cat both end on 29 (whoever of them got there first is listed first);
        Dan answers too if he has joined."""
        moves = [
            answer(oracle, seated["Ann"], session_id, q3, "vivid", False, 300),
            answer(oracle, seated["Ben"], session_id, q3, "concise", True, 300),
            answer(oracle, seated["Cat"], session_id, q3, "concise", True, 900),
        ]
        if "Dan" in seated:
            moves.append(answer(oracle, seated["Dan"], session_id, q3, "concise", True, 2500))
        await asyncio.gather(*moves)
        ended = (await seated["Ann"].expect("QUESTION_ENDED", index=q3["index"], timeout_s=15))["payload"]
        assert ended["stats"]["answered"] == len(moves)
        answered["q3"] = len(moves)

    moves = {"q1": play_q1, "q2": play_q2, "q3": play_q3}
    for index in range(len(QUIZ["questions"])):
        question = await question_for(list(seated.values()), index)
        await moves.pop(question["id"])(question)

    expected = oracle.standings(names)
    assert [rank for rank, _, _ in expected] == [1, 2, 2, 4]
    everyone = list(seated.values())
    for player in everyone:
        final = (await player.expect("SESSION_ENDED", timeout_s=15))["payload"]
        shown = [(s["rank"], s["username"], s["score"]) for s in final["standings"]]
        assert shown == expected
        assert final["total_participants"] == 4

    # The Firestore copy for direct readers: the final standings, within a snapshot window.
    snapshot = await _leaderboard_snapshot(session_id, expected)
    assert snapshot["total_participants"] == 4 and "ranks" not in snapshot

    results = (await host.call("GET", f"/api/v1/sessions/{session_id}/results")).json()
    assert results["status"] == "completed"
    assert [(p["rank"], p["username"], p["score"]) for p in results["players"]] == expected
    dan_answered_q3 = answered["q3"] == 4
    assert [p["correct_count"] for p in results["players"]] == [2, 2, 2, 1 if dan_answered_q3 else 0]
    # Per question, in the order the session played them, under the quiz's ids.
    played = [q["question_id"] for q in results["questions"]]
    assert sorted(played) == ["q1", "q2", "q3"]
    assert [q["index"] for q in results["questions"]] == [0, 1, 2]
    correct = {"q1": 2, "q2": 2, "q3": 3 if dan_answered_q3 else 2}
    assert [(q["answered"], q["correct"]) for q in results["questions"]] == [
        (answered[qid], correct[qid]) for qid in played
    ]
    csv_response = await host.call("GET", f"/api/v1/sessions/{session_id}/results?format=csv")
    assert csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert [(int(r["rank"]), r["username"], int(r["score"])) for r in rows] == expected


async def test_host_next_reveals_then_advances_and_end_publishes_final_standings(
    host: Host, players: list[Player], urls: dict[str, str], save_quiz: Any
) -> None:
    quiz_id = save_quiz(QUIZ)
    session_id = (await host.create_session(quiz_id, auto_advance=False))["session_id"]
    eve = await add_player(players, urls)
    await eve.send("JOIN_SESSION", {"session_id": session_id, "username": "Eve"})
    await eve.expect("SESSION_JOINED")
    await host.action(session_id, "start")
    first = (await eve.expect("QUESTION_STARTED", index=0))["payload"]["question"]["question_id"]
    revealed = await host.action(session_id, "next")
    assert revealed["question_open"] is False
    assert (await eve.expect("QUESTION_ENDED", index=0))["payload"]["stats"]["answered"] == 0
    # Revealed early by the host: the deadline is far, but the answer is out.
    right = {"q1": "elated", "q2": "colour", "q3": "concise"}[first]
    await eve.send("SUBMIT_ANSWER", {"session_id": session_id, "question_id": first, "answer": right})
    assert (await eve.expect("ERROR"))["payload"]["code"] == "QUESTION_CLOSED"
    await host.action(session_id, "next")
    second = (await eve.expect("QUESTION_STARTED", index=1))["payload"]["question"]["question_id"]
    await host.action(session_id, "end")
    assert (await eve.expect("QUESTION_ENDED", index=1))["payload"]["question_id"] == second != first
    final = (await eve.expect("SESSION_ENDED"))["payload"]
    assert final["standings"] == [{"rank": 1, "user_id": eve.uid, "username": "Eve", "score": 0}]
    # Without auto-advance no timer opens another question after the reveal.
    await asyncio.sleep(REVEAL_PAUSE_MS / 1000 + 0.5)
    assert len(eve.of_type("QUESTION_STARTED")) == 2


async def test_session_at_capacity_refuses_the_next_player(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101", max_participants=1))["session_id"]
    first, second = await add_player(players, urls), await add_player(players, urls)
    await first.send("JOIN_SESSION", {"session_id": session_id, "username": "First"})
    await first.expect("SESSION_JOINED")
    await second.send("JOIN_SESSION", {"session_id": session_id, "username": "Second"})
    error = (await second.expect("ERROR"))["payload"]
    assert (error["code"], error["message"]) == ("SESSION_FULL", "Session at capacity")


async def test_names_are_unique_clean_and_polite(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101"))["session_id"]
    first, second = await add_player(players, urls), await add_player(players, urls)
    await first.send("JOIN_SESSION", {"session_id": session_id, "username": "  Zoë  "})
    assert (await first.expect("SESSION_JOINED"))["payload"]["username"] == "Zoë"
    for name, code in (
        ("zoe", "NAME_TAKEN"),
        ("sh1t", "INVALID_NAME"),
        ("a\u200bb", "INVALID_NAME"),
        ("x" * 33, "INVALID_NAME"),
    ):
        await second.send("JOIN_SESSION", {"session_id": session_id, "username": name})
        assert (await second.expect("ERROR"))["payload"]["code"] == code, name


async def test_host_kicks_a_player_who_then_cannot_rejoin(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101"))["session_id"]
    stays, goes = await add_player(players, urls), await add_player(players, urls)
    for player, name in ((stays, "Stays"), (goes, "Goes")):
        await player.send("JOIN_SESSION", {"session_id": session_id, "username": name})
        await player.expect("SESSION_JOINED")
    response = await host.call("POST", f"/api/v1/sessions/{session_id}/kick", {"user_id": goes.uid})
    assert response.status_code == 200
    assert (await goes.expect("ERROR"))["payload"]["code"] == "KICKED"
    left = (await stays.expect("USER_LEFT"))["payload"]
    assert (left["user_id"], left["kicked"], left["participant_count"]) == (goes.uid, True, 1)
    await goes.send("JOIN_SESSION", {"session_id": session_id, "username": "Goes again"})
    assert (await goes.expect("ERROR"))["payload"]["code"] == "KICKED"


async def test_only_the_host_may_run_or_watch_the_session(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    session_id = (await host.create_session("vocab-101"))["session_id"]
    intruder = await add_player(players, urls)
    impostor = Host(urls["api"], intruder.token)
    for verb in ("start", "next", "end"):
        response = await impostor.call("POST", f"/api/v1/sessions/{session_id}/{verb}")
        assert (response.status_code, response.json()["error"]["code"]) == (403, "NOT_HOST"), verb
    for method, path in (("GET", "results"), ("POST", "kick")):
        response = await impostor.call(method, f"/api/v1/sessions/{session_id}/{path}", {"user_id": "x"})
        assert response.status_code == 403, path
    await intruder.send("WATCH_SESSION", {"session_id": session_id})
    assert (await intruder.expect("ERROR"))["payload"]["code"] == "NOT_HOST"
    async with httpx.AsyncClient() as http:
        no_token = await http.post(f"{urls['api']}/api/v1/sessions", json={"quiz_id": "vocab-101"})
    assert (no_token.status_code, no_token.json()["error"]["code"]) == (401, "UNAUTHENTICATED")
    forged = await Host(urls["api"], "not-a-token").call("POST", "/api/v1/sessions", {"quiz_id": "vocab-101"})
    assert (forged.status_code, forged.json()["error"]["code"]) == (401, "UNAUTHENTICATED")


async def test_host_socket_sees_joins_and_live_answer_stats(
    host: Host, players: list[Player], urls: dict[str, str], save_quiz: Any
) -> None:
    quiz_id = save_quiz(QUIZ)
    session_id = (await host.create_session(quiz_id, auto_advance=False))["session_id"]
    host_socket = Player(urls["ws"], host.token, "host", origin=urls["origin"])
    await host_socket.connect()
    players.append(host_socket)
    await host_socket.send("WATCH_SESSION", {"session_id": session_id})
    watching = (await host_socket.expect("SESSION_JOINED"))["payload"]
    assert (watching["role"], watching["participants"]) == ("host", [])
    fay = await add_player(players, urls)
    await fay.send("JOIN_SESSION", {"session_id": session_id, "username": "Fay"})
    assert (await host_socket.expect("USER_JOINED"))["payload"]["username"] == "Fay"
    await host.action(session_id, "start")
    first = (await fay.expect("QUESTION_STARTED"))["payload"]["question"]["question_id"]
    await fay.send("SUBMIT_ANSWER", {"session_id": session_id, "question_id": first, "answer": "weary"})
    while True:
        stats = (await host_socket.expect("ANSWER_STATS"))["payload"]
        if stats["answered"] == 1:
            break
    assert (stats["question_id"], stats["correct"], stats["distribution"]) == (first, 0, {"weary": 1})
    assert not fay.of_type("ANSWER_STATS")


async def _leaderboard_snapshot(session_id: str, expected: list[tuple[int, str, int]]) -> dict[str, Any]:
    from google.cloud import firestore

    from devstack.stack import PROJECT_ID

    ref = firestore.Client(project=PROJECT_ID).document(f"sessions/{session_id}/public/leaderboard")
    deadline = time.monotonic() + 5
    while True:
        data = ref.get().to_dict() or {}
        shown = [(e["rank"], e["username"], e["score"]) for e in data.get("leaderboard", [])]
        if shown == expected or time.monotonic() > deadline:
            assert shown == expected
            return data
        await asyncio.sleep(0.2)
