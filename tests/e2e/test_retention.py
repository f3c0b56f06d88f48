"""Nothing a session or an anonymous upload leaves in Firestore is kept for ever: after a
whole game through the real pipeline, every document under the session carries an
`expires_at` about SESSION_RETENTION ahead, and each collection group found has a TTL
policy on that field (firestore.indexes.json, which terraform applies). The emulator does
not delete expired documents; Firestore's TTL does, within a day of the time."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bots.client import Host, Player
from tests.conftest import add_player
from vocabquiz.adapters.documents import ANONYMOUS_QUIZ_RETENTION, EXPIRES_AT, SESSION_RETENTION

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
SLACK = timedelta(minutes=5)
QUIZ = {
    "id": "",
    "title": "Kept a while",
    "questions": [
        {
            "id": "expires_at",  # a question may carry the field's name: the key is nested
            "kind": "choice",
            "text": "Which word means 'very happy'?",
            "options": ["elated", "weary"],
            "accepted": ["elated"],
            "time_limit_s": 30,
        },
    ],
}


def _db() -> Any:
    from google.cloud import firestore

    from devstack.stack import PROJECT_ID

    return firestore.Client(project=PROJECT_ID)


def _tree(doc: Any) -> list[Any]:
    """A document's snapshot and those of every document below it."""
    found = [doc.get()]
    for collection in doc.collections():
        for child in collection.list_documents():
            found += _tree(child)
    return found


def _ttl_groups() -> set[str]:
    overrides = json.loads((ROOT / "firestore.indexes.json").read_text())["fieldOverrides"]
    return {o["collectionGroup"] for o in overrides if o.get("ttl") and o["fieldPath"] == EXPIRES_AT}


def _assert_expires_in(snapshots: list[Any], retention: timedelta, since: datetime) -> None:
    for snap in snapshots:
        assert snap.exists, snap.reference.path
        expires_at = (snap.to_dict() or {}).get(EXPIRES_AT)
        assert isinstance(expires_at, datetime), f"{snap.reference.path} has no {EXPIRES_AT}"
        assert since + retention - SLACK <= expires_at <= datetime.now(UTC) + retention + SLACK
        assert snap.reference.parent.id in _ttl_groups(), f"no TTL policy on {snap.reference.parent.id}"


async def test_a_played_session_and_an_anonymous_upload_expire(
    host: Host, players: list[Player], urls: dict[str, str]
) -> None:
    since = datetime.now(UTC)
    quiz_id = f"kept-{uuid.uuid4().hex[:8]}"
    assert (await host.call("POST", "/api/v1/quizzes", QUIZ | {"id": quiz_id})).status_code == 201
    session_id = (await host.create_session(quiz_id))["session_id"]
    ann, bob = await add_player(players, urls), await add_player(players, urls)
    for player, name in ((ann, "Ann"), (bob, "Bob")):
        await player.send("JOIN_SESSION", {"session_id": session_id, "username": name})
        await player.expect("SESSION_JOINED")
    assert (await host.call("POST", f"/api/v1/sessions/{session_id}/kick", {"user_id": bob.uid})).is_success
    await host.action(session_id, "start")
    started = (await ann.expect("QUESTION_STARTED"))["payload"]
    answer = {"session_id": session_id, "question_id": started["question"]["question_id"], "answer": "elated"}
    await ann.send("SUBMIT_ANSWER", answer)
    await ann.expect("SCORE_UPDATED")
    await host.action(session_id, "end")
    await ann.expect("SESSION_ENDED", timeout_s=15)

    db = _db()
    session = db.document(f"sessions/{session_id}")
    deadline = time.monotonic() + 10
    while not session.collection("public").document("leaderboard").get().exists:
        assert time.monotonic() < deadline, "no leaderboard snapshot was saved"
        await asyncio.sleep(0.2)
    stored = _tree(session)
    groups = {snap.reference.parent.id for snap in stored}
    assert groups >= {"sessions", "private", "participants", "names", "banned", "answers", "public"}
    _assert_expires_in(stored, SESSION_RETENTION, since)
    # Reviews, the class view and decks are built on each request and never stored: they
    # go when the session's answers do.
    as_ann = Host(urls["api"], ann.token)
    for caller, path in ((as_ann, "review"), (as_ann, "review?format=apkg"), (host, "class"), (host, "deck")):
        assert (await caller.call("GET", f"/api/v1/sessions/{session_id}/{path}")).status_code == 200, path
    assert sorted(s.reference.path for s in _tree(session)) == sorted(s.reference.path for s in stored)

    _assert_expires_in(_tree(db.document(f"quizzes/{quiz_id}")), ANONYMOUS_QUIZ_RETENTION, since)


def test_the_library_is_kept(stack: object) -> None:
    """The seeded quizzes (no owner, public) carry no expiry: the TTL never takes them."""
    for snap in _tree(_db().document("quizzes/vocab-101")):
        assert snap.exists and EXPIRES_AT not in (snap.to_dict() or {}), snap.reference.path
