"""Games on the Firestore emulator for the fault tests: a Game with in-memory events and
tasks, what the tests that act on Firestore's client (contention, lost replies) drive
in-process; and what a session's quiz, frozen in its own play order, holds as right."""

from __future__ import annotations

from google.cloud import firestore

from devstack.stack import PROJECT_ID
from vocabquiz.adapters.memory import MemoryPublisher, MemoryTaskQueue
from vocabquiz.adapters.store import Store
from vocabquiz.domain.model import Question
from vocabquiz.service.config import load_config
from vocabquiz.service.game import Game


def game_on(client: firestore.Client) -> Game:
    config = load_config(
        {"GOOGLE_CLOUD_PROJECT": PROJECT_ID, "FLUSH_URL": "http://flush/", "TIMER_URL": "http://timer/"}
    )
    return Game(Store(client), MemoryPublisher(), MemoryTaskQueue(), config)


def open_question(game: Game, session_id: str) -> Question:
    """The session's current question (its own order, not the quiz file's), answers included."""
    current = game.session(session_id).current
    assert current is not None, session_id
    question = game.store.session_quiz(session_id).question(current.question_id)
    assert question is not None, current.question_id
    return question


def right_answer(session_id: str, question_id: str) -> str:
    """An accepted answer to one of a session's questions, from the quiz as the store froze
    it for the session: for tests that play through the stack and see only what players see."""
    question = Store(firestore.Client(project=PROJECT_ID)).session_quiz(session_id).question(question_id)
    assert question is not None, question_id
    return question.accepted[0]
