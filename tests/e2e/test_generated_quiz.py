"""A whole session on a quiz generated from WordNet (seeded by the stack like any other)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bots.client import Host, Player
from tests.conftest import add_player

pytestmark = pytest.mark.stack

QUIZ_FILE = Path(__file__).resolve().parents[2] / "quizzes" / "generated-b1.json"


async def test_host_lists_and_plays_a_generated_quiz_to_the_end(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    quiz = json.loads(QUIZ_FILE.read_text())
    listed = await _listed(host)
    assert listed[quiz["id"]] == {
        "quiz_id": quiz["id"],
        "title": quiz["title"],
        "question_count": len(quiz["questions"]),
        "public": True,  # seeded with no owner: the public library
        "library": True,
        "yours": False,
    }

    session_id = (await host.create_session(quiz["id"], auto_advance=False))["session_id"]
    ivy = await add_player(players, urls)
    await ivy.send("JOIN_SESSION", {"session_id": session_id, "username": "Ivy"})
    await ivy.expect("SESSION_JOINED")
    await host.action(session_id, "start")
    total = 0
    by_id = {question["id"]: question for question in quiz["questions"]}
    for index in range(len(by_id)):  # in the session's own order
        shown = (await ivy.expect("QUESTION_STARTED", index=index))["payload"]["question"]
        question = by_id.pop(shown["question_id"])
        assert (shown["text"], shown["kind"]) == (question["text"], question["kind"])
        assert sorted(shown["options"]) == sorted(question.get("options", []))
        answer = question["accepted"][0]
        await ivy.send(
            "SUBMIT_ANSWER", {"session_id": session_id, "question_id": question["id"], "answer": answer}
        )
        score = (await ivy.expect("SCORE_UPDATED", question_id=question["id"]))["payload"]
        assert score["is_correct"], question["text"]
        total = score["new_score"]
        await host.action(session_id, "next")
        ended = (await ivy.expect("QUESTION_ENDED", index=index))["payload"]
        assert ended["accepted_answers"] == question["accepted"]
        await host.action(session_id, "next")
    final = (await ivy.expect("SESSION_ENDED"))["payload"]
    assert final["standings"] == [{"rank": 1, "user_id": ivy.uid, "username": "Ivy", "score": total}]
    assert total >= 10 * len(quiz["questions"])


async def _listed(host: Host) -> dict[str, dict[str, Any]]:
    """Every quiz the host is shown, all pages walked, by id."""
    found: dict[str, dict[str, Any]] = {}
    token = ""
    while token is not None:
        page = (await host.call("GET", f"/api/v1/quizzes?page_token={token}")).json()
        found |= {q["quiz_id"]: q for q in page["quizzes"]}
        token = page["next_page_token"]
    return found
