"""The service on its in-memory twins: a `Table` holds a Game over MemoryStore,
MemoryPublisher and MemoryTaskQueue with a clock the test moves, and plays the parts
the cloud plays (the gateway's stamps, Cloud Tasks firing what is due)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import flask
import pytest

from vocabquiz.adapters.memory import MemoryPublisher, MemoryStore, MemoryTaskQueue
from vocabquiz.domain.model import Question
from vocabquiz.domain.quizfile import quiz_from_dict
from vocabquiz.protocol.envelope import Command
from vocabquiz.service.api import Caller, create_app
from vocabquiz.service.config import Config, load_config
from vocabquiz.service.game import Game
from vocabquiz.service.ports import TaskRequest

QUIZ_FILE = Path(__file__).resolve().parents[3] / "quizzes" / "vocab-101.json"
ENV = {"GOOGLE_CLOUD_PROJECT": "demo-quiz", "FLUSH_URL": "http://flush/", "TIMER_URL": "http://timer/"}


class Clock:
    def __init__(self) -> None:
        self.now_ms = 1_900_000_000_000

    def __call__(self) -> int:
        return self.now_ms


class Table:
    """One game on the twins. `send` is a gateway publishing a command; `advance` is time
    passing, with Cloud Tasks running each task as it comes due; `take` reads what the
    game published since the last look."""

    def __init__(self, config: Config | None = None) -> None:
        self.clock = Clock()
        self.store = MemoryStore(self.clock)
        self.publisher = MemoryPublisher()
        self.tasks = MemoryTaskQueue()
        self.game = Game(self.store, self.publisher, self.tasks, config or load_config(ENV), self.clock)
        self._ran = 0
        quiz = quiz_from_dict(json.loads(QUIZ_FILE.read_text()))
        self.store.save_quiz(quiz)
        self.quiz = quiz

    def question(self, question_id: str) -> Question:
        """One of the quiz's questions, as the quiz file has it (answers included)."""
        question = self.quiz.question(question_id)
        assert question is not None, question_id
        return question

    def right_answer(self, question_id: str) -> str:
        return self.question(question_id).accepted[0]

    def frame(self, frame_type: str, message_id: str = "", **payload: Any) -> dict[str, Any]:
        return {"type": frame_type, "payload": payload, "message_id": message_id or uuid.uuid4().hex}

    def send(
        self, uid: str, frame: dict[str, Any], *, connection_id: str = "", disconnected: bool = False
    ) -> None:
        self.game.handle_commands(
            [self.command(uid, frame, connection_id=connection_id, disconnected=disconnected)]
        )

    def command(
        self, uid: str, frame: dict[str, Any], *, connection_id: str = "", disconnected: bool = False
    ) -> Command:
        return Command(frame, uid, self.clock(), connection_id or f"conn-{uid}", disconnected=disconnected)

    def advance(self, ms: int) -> None:
        """Let `ms` pass, running every task due by then in due order (a task a task
        creates runs too, if it is due)."""
        target = self.clock.now_ms + ms
        while True:
            due = sorted(
                (t for t in self.tasks.created[self._ran :] if t.due_ms <= target), key=lambda t: t.due_ms
            )
            if not due:
                break
            task = due[0]
            self.tasks.created.remove(task)
            self.tasks.created.insert(self._ran, task)
            self._ran += 1
            self.clock.now_ms = max(self.clock.now_ms, task.due_ms)
            self._run(task)
        self.clock.now_ms = target

    def _run(self, task: TaskRequest) -> None:
        body = task.body
        if task.url == self.game.config.flush_url:
            self.game.flush_leaderboard(body["session_id"], body["window"], body["snapshot"])
        else:
            self.game.on_timer(body["session_id"], body["action"], body["index"])

    def take(self) -> list[tuple[str | None, dict[str, Any]]]:
        """(target uid, frame) of everything published since the last call."""
        events, self.publisher.events = self.publisher.events, []
        return [(e.target_uid, e.frame) for e in events]


def frames_of(
    events: list[tuple[str | None, dict[str, Any]]], frame_type: str, uid: str | None = None
) -> list[dict[str, Any]]:
    return [f["payload"] for to, f in events if f["type"] == frame_type and (uid is None or to == uid)]


@pytest.fixture
def table() -> Table:
    return Table()


def verify_test_token(token: str) -> Caller:
    """Tokens here are "token-<uid>", or "anonymous-<uid>" for an anonymous account; the
    real check (Firebase) is the e2e suites'."""
    for prefix, anonymous in (("token-", False), ("anonymous-", True)):
        if token.startswith(prefix):
            return Caller(token.removeprefix(prefix), anonymous=anonymous)
    raise ValueError("not a test token")


def as_user(uid: str) -> dict[str, str]:
    return {"Authorization": f"Bearer token-{uid}"}


def as_anonymous_user(uid: str) -> dict[str, str]:
    return {"Authorization": f"Bearer anonymous-{uid}"}


@pytest.fixture
def api(table: Table) -> flask.testing.FlaskClient:
    """The host API (create_app) in-process, on the table's game."""
    return create_app(
        lambda: table.game, verify_test_token, frozenset({"https://quiz.example"})
    ).test_client()
