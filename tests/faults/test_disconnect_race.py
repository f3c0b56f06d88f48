"""A disconnect racing a REJOIN on the player's document, against the Firestore emulator:
the disconnect is no transaction (its lock queued reconnect storms), so it must still
never mark away a player whose REJOIN landed between its read and its write."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from google.cloud import firestore

from devstack.stack import PROJECT_ID
from vocabquiz.adapters.store import Store
from vocabquiz.protocol import now_ms

pytestmark = pytest.mark.stack


def test_disconnect_whose_player_rejoined_between_its_read_and_write_changes_nothing(
    stack: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(firestore.Client(project=PROJECT_ID))
    quiz = store.load_quiz("vocab-101")
    assert quiz is not None
    session = store.create_session(quiz, f"host-{uuid.uuid4().hex[:8]}", 10, False, now_ms())
    store.join(session.id, "ann", "Ann", now_ms(), connection_id="old")
    ref = store.db.document(f"sessions/{session.id}/participants/ann")
    real_update = firestore.DocumentReference.update
    raced: list[str] = []

    def update_after_a_rejoin(self: firestore.DocumentReference, *args: Any, **kwargs: Any) -> Any:
        if self.path == ref.path and not raced:  # the REJOIN lands first, on another socket
            raced.append("rejoin")
            store.set_connected(session.id, "ann", True, "new")
        return real_update(self, *args, **kwargs)

    monkeypatch.setattr(firestore.DocumentReference, "update", update_after_a_rejoin)
    assert store.disconnect(session.id, "ann", "old") is None
    assert raced == ["rejoin"]
    doc = ref.get().to_dict() or {}
    assert doc["connected"] is True and doc["connection_id"] == "new"
