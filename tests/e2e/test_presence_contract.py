"""The Store port's count of players present, held by both adapters (the Firestore store
on the emulator and its in-memory twin): seated and connected, after each join, leave,
disconnect, return and kick; capacity counting seats, present or away."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from vocabquiz.adapters.memory import MemoryStore
from vocabquiz.domain.errors import GameError
from vocabquiz.domain.model import Kind, Question, Quiz, Session
from vocabquiz.protocol import ErrorCode, now_ms
from vocabquiz.service import ports

QUIZ = Quiz("presence", "Presence", (Question("q1", Kind.CHOICE, "Pick", ("yes", "no"), ("yes",)),))


@pytest.fixture(params=["memory", pytest.param("firestore", marks=pytest.mark.stack)])
def store(request: pytest.FixtureRequest) -> ports.Store:
    if request.param == "memory":
        return MemoryStore()
    from google.cloud import firestore

    from devstack.stack import PROJECT_ID
    from vocabquiz.adapters.store import Store

    request.getfixturevalue("stack")
    return Store(firestore.Client(project=PROJECT_ID))


def _session(store: ports.Store, seats: int = 10) -> Session:
    quiz = dataclasses.replace(QUIZ, id=f"presence-{uuid.uuid4().hex[:8]}")
    store.save_quiz(quiz)
    return store.create_session(quiz, "host", seats, False, now_ms())


def test_store_counts_players_present_through_leave_disconnect_return_and_kick(store: ports.Store) -> None:
    code = _session(store).id
    assert store.join(code, "ann", "Ann", now_ms(), "c-ann").participant_count == 1
    assert store.join(code, "ben", "Ben", now_ms(), "c-ben").participant_count == 2

    _, count, was_connected = store.set_connected(code, "ben", False)  # LEAVE_SESSION
    assert (count, was_connected, store.present_count(code)) == (1, True, 1)
    assert store.join(code, "cal", "Cal", now_ms(), "c-cal").participant_count == 2

    away = store.disconnect(code, "cal", "c-cal")
    assert away is not None and (away[0].connected, away[1]) == (False, 1)
    assert store.disconnect(code, "cal", "c-cal") is None  # away already: nothing to count

    _, count, was_connected = store.set_connected(code, "cal", True, "c-cal-2")  # REJOIN
    assert (count, was_connected) == (2, False)
    assert store.join(code, "ben", "Ben", now_ms(), "c-ben-2").participant_count == 3  # JOIN again

    store.kick(code, "ann")
    assert store.present_count(code) == 2
    store.set_connected(code, "ben", False)
    store.kick(code, "ben")  # away already
    assert store.present_count(code) == 1
    assert {p.uid: p.connected for p in store.participants(code)} == {"cal": True}


def test_store_capacity_counts_seats_present_or_away(store: ports.Store) -> None:
    code = _session(store, seats=2).id
    store.join(code, "ann", "Ann", now_ms(), "c-ann")
    store.join(code, "ben", "Ben", now_ms(), "c-ben")
    store.set_connected(code, "ben", False)
    with pytest.raises(GameError) as refused:
        store.join(code, "cal", "Cal", now_ms(), "c-cal")
    assert refused.value.code is ErrorCode.SESSION_FULL
    assert store.join(code, "ben", "Ben", now_ms(), "c-ben-2").participant_count == 2
    assert {p.uid: p.connected for p in store.participants(code)} == {"ann": True, "ben": True}
