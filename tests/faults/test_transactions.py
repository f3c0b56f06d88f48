"""Transactions stay pure: when Firestore makes a transaction run again (contention), the
retry publishes nothing twice and creates no task twice, because every publish and task
happens after the transaction, once. An answer batch's single commit that contention
aborts is Busy: nothing published, and the redelivery scores it once. In-process,
against the Firestore emulator, with the in-memory publisher and task queue.

The conflict is real: another client's transaction reads the contested document first and
holds it; the emulator (pessimistic locking) times out our first commit with ABORTED, the
client library runs the transaction function again, and the other transaction lets go."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.cloud import firestore

from devstack.stack import PROJECT_ID
from tests.faults.games import game_on, open_question
from vocabquiz.adapters.memory import MemoryPublisher, MemoryTaskQueue
from vocabquiz.domain.errors import Busy
from vocabquiz.protocol import now_ms
from vocabquiz.protocol.envelope import Command
from vocabquiz.service.game import Game

pytestmark = pytest.mark.stack

HOLD_S = 2.6  # longer than the emulator's 2 s lock wait: the first commit is aborted


class ConflictingTransaction(firestore.Transaction):
    """Counts attempts; at the first one, lets the blocker go a little after our commit
    has given up waiting for it."""

    def __init__(self, client: ContendedClient, **options: Any) -> None:
        super().__init__(client, **options)
        self.contended = client

    def _begin(self, retry_id: bytes | None = None) -> None:
        self.contended.attempts += 1
        if self.contended.attempts == 1 and self.contended.blocker is not None:
            threading.Timer(HOLD_S, self.contended.release).start()
        super()._begin(retry_id=retry_id)

    def _commit(self) -> list[Any]:
        try:
            return super()._commit()
        except gexc.Aborted:
            self.contended.aborted += 1
            raise


class ContendedClient(firestore.Client):
    """A client whose next transaction meets another transaction holding `path`."""

    def __init__(self) -> None:
        super().__init__(project=PROJECT_ID)
        self.other = firestore.Client(project=PROJECT_ID)
        self.attempts = 0
        self.aborted = 0
        self.blocker: Any = None

    def contend(self, path: str) -> None:
        self.attempts = self.aborted = 0
        self.blocker = self.other.transaction()
        self.blocker._begin()
        self.other.document(path).get(transaction=self.blocker)  # a lock on the document

    def release(self) -> None:
        blocker, self.blocker = self.blocker, None
        if blocker is not None:
            blocker._rollback()

    def transaction(self, max_attempts: int = 5, read_only: bool = False) -> firestore.Transaction:
        return ConflictingTransaction(self, max_attempts=max_attempts, read_only=read_only)


@pytest.fixture
def contended(stack: Any) -> ContendedClient:
    return ContendedClient()


@pytest.fixture
def game(contended: ContendedClient) -> Game:
    return game_on(contended)


def _types(game: Game) -> list[str]:
    assert isinstance(game.publisher, MemoryPublisher)
    return [event.frame["type"] for event in game.publisher.events]


def _tasks(game: Game) -> list[str]:
    assert isinstance(game.tasks, MemoryTaskQueue)
    return [task.task_id.split("-")[1] for task in game.tasks.created]


def _open_session(game: Game, auto_advance: bool = False) -> tuple[str, str, str]:
    store = game.store
    quiz = store.load_quiz("vocab-101")
    assert quiz is not None
    host_uid, uid = f"host-{uuid.uuid4().hex[:8]}", f"uid-{uuid.uuid4().hex[:8]}"
    session = store.create_session(quiz, host_uid, 10, auto_advance, now_ms())
    store.join(session.id, uid, "Ann", now_ms())
    return session.id, host_uid, uid


def test_answer_whose_commit_meets_a_held_lock_is_busy_then_scored_once_when_delivered_again(
    contended: ContendedClient, game: Game
) -> None:
    session_id, host_uid, uid = _open_session(game)
    game.start(session_id, host_uid)
    assert isinstance(game.publisher, MemoryPublisher) and isinstance(game.tasks, MemoryTaskQueue)
    game.publisher.events.clear()
    game.tasks.created.clear()
    time.sleep(0.2)
    question = open_question(game, session_id)  # the first of the session's own order

    contended.contend(f"sessions/{session_id}/participants/{uid}")
    frame = {
        "type": "SUBMIT_ANSWER",
        "payload": {"session_id": session_id, "question_id": question.id, "answer": question.accepted[0]},
        "message_id": "m1",
    }
    command = Command(frame, uid, now_ms(), "conn-1")
    # A batch is one commit, not a transaction: the emulator aborts it after its lock wait,
    # and on_command answers 503 so Pub/Sub delivers the batch again.
    with pytest.raises(Busy):
        game.handle_command(command)
    assert _types(game) == [] and _tasks(game) == []
    contended.release()
    game.handle_command(command)  # the redelivery

    assert _types(game) == ["SCORE_UPDATED"]
    assert _tasks(game) == ["lb"]
    answers = list(contended.collection(f"sessions/{session_id}/answers").stream())
    assert [doc.id for doc in answers] == [f"{uid}_{question.id}"]
    points = answers[0].get("points")
    assert points == 10 + max(0, 5 - answers[0].get("time_taken_ms") // 2000)
    participant = contended.document(f"sessions/{session_id}/participants/{uid}").get()
    assert participant.get("score") == points and participant.get("answered_count") == 1
    assert game.publisher.events[0].frame["payload"]["new_score"] == points


def test_host_steps_whose_transactions_retry_announce_once_and_arm_one_timer(
    contended: ContendedClient, game: Game
) -> None:
    session_id, host_uid, _ = _open_session(game, auto_advance=True)

    contended.contend(f"sessions/{session_id}")
    game.start(session_id, host_uid)
    assert contended.aborted == 1 and contended.attempts == 2
    assert _types(game) == ["QUESTION_STARTED"]
    assert _tasks(game) == ["close"]

    contended.contend(f"sessions/{session_id}")
    game.next_question(session_id, host_uid)  # reveal; auto-advance arms the next opening
    assert contended.aborted == 1 and contended.attempts == 2
    assert _types(game) == ["QUESTION_STARTED", "QUESTION_ENDED"]
    assert _tasks(game) == ["close", "open"]


def test_join_whose_transaction_retries_announces_the_player_once(
    contended: ContendedClient, game: Game
) -> None:
    session_id, _, _ = _open_session(game)
    uid = f"uid-{uuid.uuid4().hex[:8]}"
    contended.contend(f"sessions/{session_id}/participants/{uid}")  # the seat it is about to take
    frame = {
        "type": "JOIN_SESSION",
        "payload": {"session_id": session_id, "username": "Bea"},
        "message_id": "j1",
    }
    game.handle_command(Command(frame, uid, now_ms(), "conn-2"))
    assert contended.aborted == 1 and contended.attempts == 2
    assert sorted(_types(game)) == ["SESSION_JOINED", "USER_JOINED"]
    assert _tasks(game) == ["lb"]
    participants = contended.collection(f"sessions/{session_id}/participants").stream()
    assert sorted(doc.get("username") for doc in participants) == ["Ann", "Bea"]
