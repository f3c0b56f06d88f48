"""Nothing acknowledged is lost when Firestore is away for longer than the delivery budget.

A stack of its own, with the budget shortened (3 deliveries, each given 4 s) and the dead
letters' replay backing off to 2 s at most: players answer while Firestore is frozen, the
gateway acknowledges each answer, on_command's deliveries time out until the command is
dead-lettered, and on_command is then killed with its stuck requests, so nothing but the
replay can score the answers. Firestore comes back; every acknowledged answer is scored
exactly once, with the score the rules give for when the gateway received it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import firestore

from bots.client import Host, Player, sign_up_anonymously
from devstack.processes import frozen
from devstack.stack import (
    DEAD_LETTER_MAXIMUM_BACKOFF_VAR,
    PROJECT_ID,
    PUSH_ACK_DEADLINE_VAR,
    PUSH_MAX_DELIVERY_ATTEMPTS_VAR,
    Stack,
    running_stack,
)
from tests.faults.games import right_answer

pytestmark = pytest.mark.stack

BUDGET = {
    PUSH_ACK_DEADLINE_VAR: "4",
    PUSH_MAX_DELIVERY_ATTEMPTS_VAR: "3",
    DEAD_LETTER_MAXIMUM_BACKOFF_VAR: "2",
}
PLAYERS = 4


@pytest.fixture(scope="module")
def short_budget_stack() -> Iterator[Stack]:
    with running_stack(extra_env=BUDGET) as stack:
        yield stack


def _log_lines(stack: Stack, name: str, message: str) -> list[dict[str, Any]]:
    lines = []
    for path in stack.log_dir.glob(f"{name}*.log"):
        for raw in path.read_text().splitlines():
            with contextlib.suppress(ValueError):
                line = json.loads(raw)
                if isinstance(line, dict) and line.get("message") == message:
                    lines.append(line)
    return lines


async def _until(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.2)


async def test_answers_acknowledged_while_firestore_is_away_past_the_budget_are_scored_once_after(
    short_budget_stack: Stack,
) -> None:
    stack = short_budget_stack
    e = stack.endpoints
    ws, origin = f"ws://{e['gateway'].address}/ws", f"http://127.0.0.1:{e['gateway'].port}"
    _, host_token = await sign_up_anonymously(e["auth"].url)
    host = Host(e["sessions_api"].url, host_token)
    session_id = (await host.create_session("vocab-101", auto_advance=False))["session_id"]
    players = []
    for n in range(PLAYERS):
        uid, token = await sign_up_anonymously(e["auth"].url)
        player = Player(ws, token, uid, origin=origin)
        await player.connect()
        await player.send("JOIN_SESSION", {"session_id": session_id, "username": f"P{n}"})
        await player.expect("SESSION_JOINED", timeout_s=20)
        players.append(player)
    try:
        await host.action(session_id, "start")
        started = await players[0].expect("QUESTION_STARTED", timeout_s=20)
        # The first of the session's own order; its right answer read while Firestore is up.
        assert started["payload"]["index"] == 0
        first = started["payload"]["question"]["question_id"]
        right = right_answer(session_id, first)

        with frozen(stack.child("firestore")):
            sent = {}
            for n, player in enumerate(players):
                answer = right if n % 2 == 0 else "weary"  # "weary": wrong for all of vocab-101
                message_id = await player.send(
                    "SUBMIT_ANSWER", {"session_id": session_id, "question_id": first, "answer": answer}
                )
                await player.expect("ACK", timeout_s=10, message_id=message_id)
                sent[player.uid] = answer
            # One message per answer (each was acknowledged before the next was sent).
            dead_lettered = lambda: len(_log_lines(stack, "pusher", "dead-lettered")) == PLAYERS  # noqa: E731
            await _until(dead_lettered, 60, f"{PLAYERS} commands dead-lettered")
            # The stuck first deliveries die with on_command: only the replay can score now.
            await asyncio.to_thread(stack.restart, "on_command")
            await asyncio.sleep(3)  # the replay's pushes fail while Firestore is still away

        scores = {}
        for player in players:
            scored = await player.expect("SCORE_UPDATED", timeout_s=60, question_id=first)
            scores[player.uid] = scored["payload"]
    finally:
        for player in players:
            await player.close()

    for uid, answer in sent.items():
        correct = answer == right
        assert scores[uid]["is_correct"] is correct and (scores[uid]["new_score"] > 0) is correct
    db = firestore.Client(project=PROJECT_ID)
    answers = list(db.collection(f"sessions/{session_id}/answers").stream())
    assert sorted(doc.get("uid") for doc in answers) == sorted(sent), "each acknowledged answer stored once"
    for player in players:
        stored = db.document(f"sessions/{session_id}/participants/{player.uid}").get()
        assert stored.get("answered_count") == 1 and stored.get("score") == scores[player.uid]["new_score"]
    assert [line["attempts"] for line in _log_lines(stack, "pusher", "dead-lettered")] == [3] * PLAYERS
