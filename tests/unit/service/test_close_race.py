"""The close race, on the memory twins with several function instances (each its own
`Game`, its own caches) over one store: answers received on both sides of the deadline +
grace and of an early reveal, handled before or after the reveal commits, each checked
against the README's rule: an answer counts if the gateway received it by the deadline +
grace and not after the reveal, however late its command is handled."""

from __future__ import annotations

import pytest

from tests.unit.service.conftest import Table, frames_of
from vocabquiz.protocol import ErrorCode
from vocabquiz.protocol.envelope import Command
from vocabquiz.service.game import Game

GRACE_MS = 500  # the README's, written out
PLAYERS = [f"p{n}" for n in range(6)]


def _instances(table: Table, count: int) -> list[Game]:
    return [table.game] + [
        Game(table.store, table.publisher, table.tasks, table.game.config, table.clock)
        for _ in range(count - 1)
    ]


def _seated(table: Table) -> tuple[str, str, int, int]:
    """A started session with every player seated: (code, the first question's id (the
    session's play order), its start, its deadline)."""
    code = table.game.create_session("vocab-101", "host", 50, False).id
    for uid in PLAYERS:
        table.send(uid, table.frame("JOIN_SESSION", session_id=code, username=uid.upper()))
    table.game.start(code, "host")
    (started,) = frames_of(table.take(), "QUESTION_STARTED")
    question_id = started["question"]["question_id"]
    timing = table.store.get_session(code).timings[question_id]
    return code, question_id, timing.started_at_ms, started["deadline_ms"]


def _answer(table: Table, code: str, question_id: str, uid: str, received_at_ms: int) -> Command:
    answer = table.right_answer(question_id)
    frame = table.frame("SUBMIT_ANSWER", session_id=code, question_id=question_id, answer=answer)
    return Command(frame, uid, received_at_ms, f"conn-{uid}")


def _outcomes(table: Table) -> dict[str, str]:
    events = table.take()
    scored = {to: "scored" for to, f in events if f["type"] == "SCORE_UPDATED"}
    refused = {to: f["payload"]["code"] for to, f in events if f["type"] == "ERROR"}
    return {uid: scored.get(uid) or refused.get(uid, "nothing") for uid in PLAYERS if uid in scored | refused}


@pytest.mark.parametrize("handled_after_close", [False, True])
def test_answers_either_side_of_the_deadline_and_grace_follow_the_rule(
    table: Table, handled_after_close: bool
) -> None:
    code, question_id, _, deadline_ms = _seated(table)
    received = {
        "p0": deadline_ms - 1,
        "p1": deadline_ms,
        "p2": deadline_ms + GRACE_MS,
        "p3": deadline_ms + GRACE_MS + 1,
        "p4": deadline_ms + 5_000,
    }
    games = _instances(table, 3)
    commands = [_answer(table, code, question_id, uid, at) for uid, at in received.items()]
    table.clock.now_ms = deadline_ms + GRACE_MS + 2
    if handled_after_close:  # the deadline's timer fires first, on another instance
        games[2].on_timer(code, "close", 0)
        table.take()
    for n, command in enumerate(commands):  # each on its own instance, as Pub/Sub spreads them
        games[n % 2].handle_commands([command])
    expected = {
        uid: "scored" if at <= deadline_ms + GRACE_MS else ErrorCode.QUESTION_CLOSED
        for uid, at in received.items()
    }
    assert _outcomes(table) == expected
    stored = table.store.stored_answers(code, [(uid, question_id) for uid in PLAYERS])
    assert sorted(stored) == [f"{uid}_{question_id}" for uid in ("p0", "p1", "p2")]


def test_answers_either_side_of_an_early_reveal_follow_the_rule_on_every_instance(table: Table) -> None:
    code, question_id, started_ms, _ = _seated(table)
    games = _instances(table, 3)
    table.clock.now_ms = started_ms + 4_000
    games[0].next_question(code, "host")  # the host reveals early, on one instance
    table.take()
    revealed_ms = table.store.get_session(code).timings[question_id].revealed_at_ms
    assert revealed_ms == started_ms + 4_000
    received = {"p0": revealed_ms - 1, "p1": revealed_ms, "p2": revealed_ms + 1, "p3": revealed_ms + 2_000}
    table.clock.now_ms += 3_000  # the commands reach the other instances late
    batch = [_answer(table, code, question_id, uid, at) for uid, at in received.items()]
    games[1].handle_commands(batch[:2])
    games[2].handle_commands(batch[2:])
    expected = {
        uid: "scored" if at <= revealed_ms else ErrorCode.QUESTION_CLOSED for uid, at in received.items()
    }
    assert _outcomes(table) == expected
