"""Batches of answers through the game against the Firestore emulator (in-process, with
the in-memory publisher and task queue): one commit scores a batch; a redelivered batch,
a bad frame, a duplicate inside a batch, a batch that straddles a reveal and a player who
is not seated each leave nothing lost and nothing counted twice."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.cloud import firestore

from devstack.stack import PROJECT_ID
from vocabquiz.adapters.memory import MemoryPublisher, MemoryTaskQueue
from vocabquiz.adapters.store import Store
from vocabquiz.protocol.envelope import Command
from vocabquiz.service.config import load_config
from vocabquiz.service.game import Game

pytestmark = pytest.mark.stack

RIGHT = {"q1": "elated", "q2": "concise", "q3": "author", "q4": "modern", "q5": "café"}


class Clock:
    def __init__(self) -> None:
        self.now_ms = 1_900_000_000_000

    def __call__(self) -> int:
        return self.now_ms


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def game(stack: Any, clock: Clock) -> Game:
    config = load_config(
        {"GOOGLE_CLOUD_PROJECT": PROJECT_ID, "FLUSH_URL": "http://flush/", "TIMER_URL": "http://timer/"}
    )
    return Game(
        Store(firestore.Client(project=PROJECT_ID)), MemoryPublisher(), MemoryTaskQueue(), config, clock
    )


def _seat(game: Game, clock: Clock, players: int) -> tuple[str, str, list[str], str]:
    """A started vocab-101 session: (its id, its host, its players, the question open:
    the first of the session's own order)."""
    quiz = game.store.load_quiz("vocab-101")
    assert quiz is not None
    host = f"host-{uuid.uuid4().hex[:8]}"
    session = game.store.create_session(quiz, host, 50, False, clock())
    uids = [f"uid-{uuid.uuid4().hex[:8]}" for _ in range(players)]
    for n, uid in enumerate(uids):
        game.store.join(session.id, uid, f"P{n}", clock())
    game.start(session.id, host)
    return session.id, host, uids, _opened(_events(game))


def _opened(events: list[tuple[str | None, dict[str, Any]]]) -> str:
    (question_id,) = [
        f["payload"]["question"]["question_id"] for _, f in events if f["type"] == "QUESTION_STARTED"
    ]
    return str(question_id)


def _answer(
    session_id: str, question: str, uid: str, answer: str, at_ms: int, message_id: str = ""
) -> Command:
    frame = {
        "type": "SUBMIT_ANSWER",
        "payload": {"session_id": session_id, "question_id": question, "answer": answer},
        "message_id": message_id or uuid.uuid4().hex,
    }
    return Command(frame, uid, at_ms, f"conn-{uid}")


def _events(game: Game) -> list[tuple[str | None, dict[str, Any]]]:
    """(target uid, frame) of everything published since the last call."""
    assert isinstance(game.publisher, MemoryPublisher)
    events, game.publisher.events = game.publisher.events, []
    return [(e.target_uid, e.frame) for e in events]


def _scores(events: list[tuple[str | None, dict[str, Any]]]) -> dict[str | None, dict[str, Any]]:
    return {uid: f["payload"] for uid, f in events if f["type"] == "SCORE_UPDATED"}


def _errors(events: list[tuple[str | None, dict[str, Any]]]) -> dict[str | None, str]:
    return {uid: f["payload"]["code"] for uid, f in events if f["type"] == "ERROR"}


def _outcome(game: Game, session_id: str) -> tuple[dict[str | None, str], dict[str | None, int], Any]:
    """What a batch did: the refusals and new scores it published, and what is stored."""
    events = _events(game)
    scores = {uid: s["new_score"] for uid, s in _scores(events).items()}
    return _errors(events), scores, _stored(game, session_id)


def _stored(game: Game, session_id: str) -> tuple[dict[str, int], int]:
    """Each player's stored score, and how many answer documents the session holds."""
    db = game.store.db
    scores = {d.id: d.get("score") for d in db.collection(f"sessions/{session_id}/participants").stream()}
    return scores, len(list(db.collection(f"sessions/{session_id}/answers").stream()))


def test_batch_is_scored_in_one_commit_and_a_redelivery_replays_the_same_scores(
    game: Game, clock: Clock
) -> None:
    session_id, _, uids, first = _seat(game, clock, 3)
    batch = [
        _answer(session_id, first, uid, RIGHT[first] if n < 2 else "wrong", clock() + 2500)
        for n, uid in enumerate(uids)
    ]
    clock.now_ms += 3000
    game.handle_commands(batch)
    first = _events(game)
    assert _errors(first) == {}
    assert {uid: (s["new_score"], s["is_correct"]) for uid, s in _scores(first).items()} == {
        uids[0]: (14, True),
        uids[1]: (14, True),
        uids[2]: (0, False),
    }

    game.handle_commands(batch)  # Pub/Sub delivers the message again
    again = _events(game)
    assert _errors(again) == {} and _scores(again) == _scores(first)
    assert [f["message_id"] for _, f in again] == [f["message_id"] for _, f in first]
    assert _stored(game, session_id) == ({uids[0]: 14, uids[1]: 14, uids[2]: 0}, 3)


def test_bad_frame_in_a_batch_gets_its_error_and_the_rest_are_scored(game: Game, clock: Clock) -> None:
    session_id, _, uids, first = _seat(game, clock, 3)
    unknown_question = _answer(session_id, "q99", uids[1], RIGHT[first], clock() + 1000)
    malformed = Command(
        {"type": "SUBMIT_ANSWER", "payload": {"session_id": session_id}}, uids[2], clock(), "c"
    )
    clock.now_ms += 2000
    game.handle_commands(
        [_answer(session_id, first, uids[0], RIGHT[first], clock()), unknown_question, malformed]
    )
    events = _events(game)
    assert _errors(events) == {uids[1]: "INVALID_QUESTION", uids[2]: "INVALID_MESSAGE"}
    assert list(_scores(events)) == [uids[0]]
    assert _stored(game, session_id) == ({uids[0]: 14, uids[1]: 0, uids[2]: 0}, 1)


def test_duplicate_answers_inside_one_batch_count_once(game: Game, clock: Clock) -> None:
    session_id, _, uids, first = _seat(game, clock, 2)
    at = clock() + 500
    first_attempt = _answer(session_id, first, uids[0], "wrong", at, message_id="m1")
    second_attempt = _answer(session_id, first, uids[0], RIGHT[first], at + 10, message_id="m2")
    copy = _answer(session_id, first, uids[1], RIGHT[first], at, message_id="m3")
    clock.now_ms += 1000
    game.handle_commands([first_attempt, copy, second_attempt, copy])
    assert _outcome(game, session_id) == (
        {uids[0]: "ALREADY_ANSWERED"},
        {uids[0]: 0, uids[1]: 15},
        ({uids[0]: 0, uids[1]: 15}, 2),
    )


def test_batch_that_straddles_a_reveal_scores_only_answers_received_before_it(
    game: Game, clock: Clock
) -> None:
    session_id, host, uids, first = _seat(game, clock, 2)
    before = _answer(session_id, first, uids[0], RIGHT[first], clock() + 4000)
    clock.now_ms += 5000
    game.next_question(session_id, host)  # the host reveals early
    after = _answer(session_id, first, uids[1], RIGHT[first], clock() + 1)
    clock.now_ms += 100
    _events(game)
    game.handle_commands([before, after])  # both reach the functions after the reveal
    assert _outcome(game, session_id) == (
        {uids[1]: "QUESTION_CLOSED"},
        {uids[0]: 13},
        ({uids[0]: 13, uids[1]: 0}, 1),
    )


def test_one_players_answers_to_two_questions_in_one_batch_chain_their_scores(
    game: Game, clock: Clock
) -> None:
    session_id, host, uids, first = _seat(game, clock, 1)
    to_first = _answer(session_id, first, uids[0], RIGHT[first], clock() + 1000)
    clock.now_ms += 2000
    game.next_question(session_id, host)  # reveal the first
    game.next_question(session_id, host)  # open the second
    second = _opened(_events(game))
    to_second = _answer(session_id, second, uids[0], "wrong", clock() + 100)
    clock.now_ms += 200
    game.handle_commands([to_first, to_second])
    scores = [f["payload"]["new_score"] for _, f in _events(game) if f["type"] == "SCORE_UPDATED"]
    assert scores == [15, 15]
    game.handle_commands([to_second, to_first])  # redelivered, in another order: the same totals
    replayed = {f["payload"]["question_id"]: f["payload"]["new_score"] for _, f in _events(game)}
    assert replayed == {first: 15, second: 15}


def test_player_not_seated_is_refused_and_the_batch_is_scored(game: Game, clock: Clock) -> None:
    session_id, _, uids, first = _seat(game, clock, 1)
    stranger = f"uid-{uuid.uuid4().hex[:8]}"
    clock.now_ms += 1000
    game.handle_commands(
        [
            _answer(session_id, first, stranger, RIGHT[first], clock()),
            _answer(session_id, first, uids[0], RIGHT[first], clock()),
        ]
    )
    assert _outcome(game, session_id) == (
        {stranger: "NOT_JOINED"},
        {uids[0]: 15},
        ({uids[0]: 15}, 1),
    )


def test_answer_scored_in_time_and_delivered_again_after_the_reveal_gets_its_verdict_again(
    game: Game, clock: Clock
) -> None:
    session_id, host, uids, first = _seat(game, clock, 2)
    on_time = _answer(session_id, first, uids[0], RIGHT[first], clock() + 1000, message_id="m1")
    clock.now_ms += 1500
    game.handle_commands([on_time])
    (scored,) = _scores(_events(game)).values()
    game.next_question(session_id, host)  # the host reveals
    clock.now_ms += 100
    _events(game)
    # A copy held back by Pub/Sub (or resent after a reconnect), and a second attempt.
    late_attempt = _answer(session_id, first, uids[0], "wrong", clock(), message_id="m2")
    never = _answer(session_id, first, uids[1], RIGHT[first], clock(), message_id="m3")
    game.handle_commands([on_time, late_attempt, never])
    events = _events(game)
    assert _errors(events) == {uids[0]: "ALREADY_ANSWERED", uids[1]: "QUESTION_CLOSED"}
    assert _scores(events) == {uids[0]: scored}
    assert _stored(game, session_id) == ({uids[0]: 15, uids[1]: 0}, 1)
