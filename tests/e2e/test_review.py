"""Issue 22 on the emulators, through the deployed functions and Firestore: after a game
each player gets their own review of the words they missed (JSON, CSV and an Anki deck),
the host the class view and the quiz's deck, and nobody gets anyone else's answers."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from bots.client import Host, Player
from tests.anki import anki_notes
from tests.conftest import add_player

pytestmark = pytest.mark.stack

QUIZ = {
    "id": "review",
    "title": "Review",
    "questions": [
        {
            "id": "pup",
            "kind": "typed",
            "text": "Write the word for 'a young dog'.",
            "accepted": ["puppy"],
            "explanation": "puppy: a young dog.",
            "example": "The puppy chewed my shoe.",
        },
        {
            "id": "big",
            "kind": "choice",
            "text": "Which word means 'very large'?",
            "options": ["huge", "tiny", "pale"],
            "accepted": ["huge"],
        },
    ],
}
RIGHT = {"pup": "puppy", "big": "huge"}
# Ann guesses the typed word wrong and lets the other pass; Ben has the typed one right.
ANN = {"pup": "kitten"}
BEN = {"pup": "puppy", "big": "tiny"}


async def _play(
    host: Host, players: list[Player], urls: dict[str, str], quiz_id: str
) -> tuple[str, Player, Player, Player]:
    session_id = (await host.create_session(quiz_id, auto_advance=False))["session_id"]
    ann, ben = await add_player(players, urls), await add_player(players, urls)
    for player, name in ((ann, "Ann"), (ben, "Ben")):
        await player.send("JOIN_SESSION", {"session_id": session_id, "username": name})
        await player.expect("SESSION_JOINED")
    await host.action(session_id, "start")
    for index in range(2):
        qid = (await ann.expect("QUESTION_STARTED", index=index))["payload"]["question"]["question_id"]
        for player, answers in ((ann, ANN), (ben, BEN)):
            if qid in answers:
                await player.send(
                    "SUBMIT_ANSWER", {"session_id": session_id, "question_id": qid, "answer": answers[qid]}
                )
                await player.expect("SCORE_UPDATED", question_id=qid)
        await host.action(session_id, "next")  # reveal
        await ann.expect("QUESTION_ENDED", index=index)
        if index == 0:  # Cy comes late: the first question was never his
            cy = await add_player(players, urls)
            await cy.send("JOIN_SESSION", {"session_id": session_id, "username": "Cy"})
            await cy.expect("SESSION_JOINED")
        await host.action(session_id, "next")  # the next, or the end
    await ann.expect("SESSION_ENDED")
    return session_id, ann, ben, cy


async def test_each_player_reviews_their_own_missed_words_and_the_host_the_class(
    host: Host, players: list[Player], urls: dict[str, str], save_quiz: Any
) -> None:
    quiz_id = save_quiz(QUIZ)
    session_id, ann, ben, cy = await _play(host, players, urls, quiz_id)
    as_ann, as_ben = Host(urls["api"], ann.token), Host(urls["api"], ben.token)

    review: dict[str, Any] = (
        await as_ann.call("GET", f"/api/v1/sessions/{session_id.lower()}/review")
    ).json()
    assert (review["username"], review["played"], review["correct"]) == ("Ann", 2, 0)
    by_id = {m["question_id"]: m for m in review["missed"]}
    assert (by_id["pup"]["outcome"], by_id["pup"]["your_answer"]) == ("wrong", "kitten")
    assert (by_id["pup"]["word"], by_id["pup"]["meaning"], by_id["pup"]["example"]) == (
        "puppy", "a young dog.", "The puppy chewed my shoe."
    )  # fmt: skip
    assert (by_id["big"]["outcome"], by_id["big"]["your_answer"]) == ("skipped", None)

    ben_review = (await as_ben.call("GET", f"/api/v1/sessions/{session_id}/review")).json()
    assert [(m["question_id"], m["your_answer"]) for m in ben_review["missed"]] == [("big", "tiny")]
    assert "kitten" not in str(ben_review)  # never another player's answer

    deck = await as_ann.call("GET", f"/api/v1/sessions/{session_id}/review?format=apkg")
    assert deck.status_code == 200
    assert sorted(n[0] for n in anki_notes(deck.content)) == ["huge", "puppy"]
    ben_deck = await as_ben.call("GET", f"/api/v1/sessions/{session_id}/review?format=apkg")
    assert [n[0] for n in anki_notes(ben_deck.content)] == ["huge"]
    rows = list(
        csv.reader(
            io.StringIO((await as_ben.call("GET", f"/api/v1/sessions/{session_id}/review?format=csv")).text)
        )
    )
    assert rows == [["huge", "Which word means 'very large'?", ""]]

    # Cy, who joined after the first reveal, is held to the second question alone.
    cy_review = (
        await Host(urls["api"], cy.token).call("GET", f"/api/v1/sessions/{session_id}/review")
    ).json()
    second = "big" if by_id["big"]["index"] == 1 else "pup"
    assert (cy_review["played"], [(m["question_id"], m["outcome"]) for m in cy_review["missed"]]) == (
        1, [(second, "skipped")]
    )  # fmt: skip

    view = (await host.call("GET", f"/api/v1/sessions/{session_id}/class")).json()
    assert view["players"] == 3
    players_of = {"big": 3 if second == "big" else 2, "pup": 3 if second == "pup" else 2}
    assert [
        (w["question_id"], w["players"], w["answered"], w["correct"], w["missed"], w["wrong_answers"])
        for w in view["words"]
    ] == [
        ("big", players_of["big"], 1, 0, players_of["big"], [{"answer": "tiny", "count": 1}]),
        ("pup", players_of["pup"], 2, 1, players_of["pup"] - 1, [{"answer": "kitten", "count": 1}]),
    ]
    whole = await host.call("GET", f"/api/v1/sessions/{session_id}/deck")
    assert sorted(n[0] for n in anki_notes(whole.content)) == ["huge", "puppy"]

    # Nobody reads what is not theirs: the host has no review, players no class view.
    assert (await host.call("GET", f"/api/v1/sessions/{session_id}/review")).status_code == 404
    for path in ("class", "class?format=csv", "deck"):
        assert (await as_ann.call("GET", f"/api/v1/sessions/{session_id}/{path}")).status_code == 403
