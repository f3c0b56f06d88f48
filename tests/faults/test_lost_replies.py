"""A commit whose outcome is unknown: Firestore applied it, its reply was lost, and the
client library committed again (QUIZ_FAULTS=lost_commit_reply, adapters/rpcs.py). The
retry finds the work done; the game must count it once and tell the player the truth.
In-process, against the Firestore emulator, with the in-memory publisher and task queue."""

from __future__ import annotations

import time
import uuid

import pytest
from google.api_core import exceptions as gexc

from devstack.stack import PROJECT_ID
from tests.faults.games import game_on, open_question
from vocabquiz.adapters.memory import MemoryPublisher
from vocabquiz.adapters.rpcs import CountingClient
from vocabquiz.domain.model import Question
from vocabquiz.faults import Dice, Faults
from vocabquiz.protocol import now_ms
from vocabquiz.protocol.envelope import Command
from vocabquiz.service.game import Game

pytestmark = pytest.mark.stack


class ArmedDice(Dice):
    """Loses the replies of the next `armed` commits, and no others."""

    def __init__(self) -> None:
        super().__init__(Faults(lost_commit_reply=1.0))
        self.armed = 0

    def _hit(self, knob: str, probability: float) -> bool:
        if knob != "lost_commit_reply" or self.armed == 0:
            return False
        self.armed -= 1
        return True


@pytest.fixture
def dice(stack: object) -> ArmedDice:
    return ArmedDice()


@pytest.fixture
def game(dice: ArmedDice) -> Game:
    return game_on(CountingClient(project=PROJECT_ID, lost_replies=dice))


def _frames(game: Game) -> list[dict[str, object]]:
    assert isinstance(game.publisher, MemoryPublisher)
    return [dict(event.frame) for event in game.publisher.events]


def _started(game: Game) -> tuple[str, str, list[str], Question]:
    """A started vocab-101 session with two players: (its id, its host, its players, the
    question open: the first of the session's own order)."""
    store = game.store
    quiz = store.load_quiz("vocab-101")
    assert quiz is not None
    host_uid = f"host-{uuid.uuid4().hex[:8]}"
    uids = [f"uid-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    session = store.create_session(quiz, host_uid, 10, False, now_ms())
    for uid, name in zip(uids, ("Ann", "Bea"), strict=True):
        store.join(session.id, uid, name, now_ms())
    game.start(session.id, host_uid)
    assert isinstance(game.publisher, MemoryPublisher)
    game.publisher.events.clear()
    time.sleep(0.2)
    return session.id, host_uid, uids, open_question(game, session.id)


def test_answers_whose_commit_reply_is_lost_are_scored_once_with_their_verdicts(
    dice: ArmedDice, game: Game
) -> None:
    session_id, _, uids, question = _started(game)
    commands = [
        Command(
            {
                "type": "SUBMIT_ANSWER",
                "payload": {"session_id": session_id, "question_id": question.id, "answer": answer},
                "message_id": f"m-{uid}",
            },
            uid,
            now_ms(),
            f"conn-{uid}",
        )
        # Right, and wrong for every question of vocab-101.
        for uid, answer in zip(uids, (question.accepted[0], "sad"), strict=True)
    ]
    dice.armed = 1
    game.handle_commands(commands)  # one commit: applied, its reply lost, committed again
    assert dice.injected == {"lost_commit_reply": 1}

    scores = {f["payload"]["user_id"]: f for f in _frames(game) if f["type"] == "SCORE_UPDATED"}  # type: ignore[index]
    assert sorted(scores) == sorted(uids) and len(_frames(game)) == 2
    db = game.store.db  # type: ignore[attr-defined]
    for uid in uids:
        answer = db.document(f"sessions/{session_id}/answers/{uid}_{question.id}").get()
        participant = db.document(f"sessions/{session_id}/participants/{uid}").get()
        assert participant.get("answered_count") == 1
        assert participant.get("score") == answer.get("points")
        payload = scores[uid]["payload"]
        assert payload["new_score"] == answer.get("points") == payload["points_earned"]  # type: ignore[index]
        assert scores[uid]["message_id"] == f"score-{uid}_{question.id}"


def test_a_host_step_whose_commit_reply_is_lost_happens_once(dice: ArmedDice, game: Game) -> None:
    session_id, host_uid, _, _ = _started(game)
    dice.armed = 1
    after = game.next_question(session_id, host_uid)  # the reveal of the first question
    assert dice.injected == {"lost_commit_reply": 1}
    assert after.revealed and after.current is not None and after.current.index == 0
    assert [f["type"] for f in _frames(game)] == ["QUESTION_ENDED"]
    assert game.session(session_id).current.index == 0  # type: ignore[union-attr]


def test_a_join_whose_commit_reply_is_lost_seats_the_player_once_when_delivered_again(
    dice: ArmedDice, game: Game
) -> None:
    session_id, _, _, _ = _started(game)
    uid = f"uid-{uuid.uuid4().hex[:8]}"
    frame = {
        "type": "JOIN_SESSION",
        "payload": {"session_id": session_id, "username": "Cy"},
        "message_id": "j1",
    }
    command = Command(frame, uid, now_ms(), "conn-3")
    dice.armed = 1
    with pytest.raises(gexc.GoogleAPICallError):  # on_command answers 503: Pub/Sub delivers it again
        game.handle_command(command)
    game.handle_command(command)
    db = game.store.db  # type: ignore[attr-defined]
    participants = [
        doc.get("username") for doc in db.collection(f"sessions/{session_id}/participants").stream()
    ]
    assert sorted(participants) == ["Ann", "Bea", "Cy"]
    assert [f["type"] for f in _frames(game) if f["type"] == "SESSION_JOINED"] == ["SESSION_JOINED"]
