"""The flush's copy of a session's participants, kept current by reading only what
changed, against the real Firestore emulator."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.stack


@pytest.fixture
def store(stack: Any) -> Any:
    from google.cloud import firestore

    from devstack.stack import PROJECT_ID
    from vocabquiz.adapters.store import Store

    return Store(firestore.Client(project=PROJECT_ID))


def test_standings_follow_joins_changes_and_kicks_without_rereading_everyone(store: Any) -> None:
    from vocabquiz.protocol import now_ms
    from vocabquiz.service.standings import Standings

    quiz = store.load_quiz("vocab-101")
    session = store.create_session(quiz, "host", 10, False, now_ms())
    for name in ("Ann", "Ben", "Cat"):
        store.join(session.id, f"uid-{name}-{uuid.uuid4().hex[:6]}", name, now_ms())
    reads: list[str] = []
    original = store.participants_changed

    def counting(session_id: str, since: Any) -> Any:
        found, removed, read_time = original(session_id, since)
        reads.append(f"{'all' if since is None else 'changed'}:{len(found)}" + "-" * len(removed))
        return found, removed, read_time

    store.participants_changed = counting
    standings = Standings(store, now_ms, overlap=timedelta(0))  # exact reads; overlap tested below
    assert sorted(p.username for p in standings.participants(session.id)) == ["Ann", "Ben", "Cat"]
    assert standings.participants(session.id) and reads == ["all:3", "changed:0"]

    dan = f"uid-Dan-{uuid.uuid4().hex[:6]}"
    store.join(session.id, dan, "Dan", now_ms())
    ben = next(p for p in standings.participants(session.id) if p.username == "Ben")
    assert reads[-1] == "changed:1"
    store.set_connected(session.id, ben.uid, False)
    assert len(standings.participants(session.id)) == 4
    assert reads[-1] == "changed:1"  # Ben's write, and only his

    store.kick(session.id, dan)  # a deletion: its tombstone tells
    assert sorted(p.username for p in standings.participants(session.id)) == ["Ann", "Ben", "Cat"]
    assert reads[-1] == "changed:0-"  # no full read


def test_standings_read_again_what_changed_just_before_the_last_read(store: Any) -> None:
    from vocabquiz.protocol import now_ms
    from vocabquiz.service.standings import Standings

    session = store.create_session(store.load_quiz("vocab-101"), "host", 10, False, now_ms())
    store.join(session.id, f"uid-{uuid.uuid4().hex[:6]}", "Eve", now_ms())
    standings = Standings(store, now_ms, overlap=timedelta(seconds=30))
    reads: list[int] = []
    original = store.participants_changed

    def counting(session_id: str, since: Any) -> Any:
        found, removed, read_time = original(session_id, since)
        reads.append(len(found))
        return found, removed, read_time

    store.participants_changed = counting
    standings.participants(session.id)
    standings.participants(session.id)
    # Eve's join is older than the last read, but within the overlap: read once more.
    assert reads == [1, 1]


def test_answer_stats_read_only_the_answers_stored_since_the_last_read(store: Any) -> None:
    from vocabquiz.domain.model import NewAnswer, Verdict
    from vocabquiz.protocol import now_ms
    from vocabquiz.service.standings import Standings

    session = store.create_session(store.load_quiz("vocab-101"), "host", 10, False, now_ms())
    uids = [f"uid-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    for n, uid in enumerate(uids):
        store.join(session.id, uid, f"P{n}", now_ms())
    reads: list[str] = []
    original = store.answers_changed

    def counting(session_id: str, question_id: str, since: Any) -> Any:
        found, read_time = original(session_id, question_id, since)
        reads.append(f"{'all' if since is None else 'changed'}:{len(found)}")
        return found, read_time

    store.answers_changed = counting
    standings = Standings(store, now_ms, overlap=timedelta(0))

    def answer(uid: str, text: str, correct: bool) -> None:
        verdict = Verdict(correct, 15 if correct else 0, 100)
        store.commit_answers(session.id, [NewAnswer(uid, "q1", text, verdict, now_ms(), f"{uid}/m")])

    answer(uids[0], "elated", True)
    assert standings.answers_to(session.id, "q1") == [("elated", True)]
    answer(uids[1], "weary", False)
    assert sorted(standings.answers_to(session.id, "q1")) == [("elated", True), ("weary", False)]
    assert standings.answers_to(session.id, "q2") == []
    assert reads == ["all:1", "changed:1", "all:0"]
