"""The Firestore emulator with the real firestore.rules, a REST client that acts as named
users (unsigned ID tokens, which is how the emulator authenticates rule checks) or as the
admin, and the documents of one game in the shapes vocabquiz/adapters/store.py writes."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bots.tokens import unsigned_id_token
from devstack.processes import Child, spawn, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
RULES_PATH = ROOT / "firestore.rules"
PROJECT_ID = "demo-rules"
ADMIN = "owner"  # the emulator's bearer token that bypasses rules, as the Admin SDK does
GRACE_MS = 500  # vocabquiz/domain/scoring.py; the rules repeat it


@contextmanager
def running_emulator(port: int, log_dir: Path) -> Iterator[str]:
    """The gcloud Firestore emulator on 127.0.0.1:`port`, in its own process group; yields
    its address and stops the whole group (wrapper and JVM) afterwards."""
    argv = [
        "gcloud",
        "beta",
        "emulators",
        "firestore",
        "start",
        f"--host-port=127.0.0.1:{port}",
        f"--rules={RULES_PATH}",
    ]
    child: Child = spawn("firestore-rules", argv, dict(os.environ), log_dir, ROOT)
    try:
        wait_for_port(child, "127.0.0.1", port, timeout_s=60)
        yield f"127.0.0.1:{port}"
    finally:
        child.stop()


def id_token(uid: str) -> str:
    """An unsigned Firebase ID token (alg none): the emulator trusts its claims."""
    return unsigned_id_token(uid)


def to_value(value: Any) -> dict[str, Any]:
    """A Python value as a Firestore REST `Value`."""
    if value is None:
        return {"nullValue": None}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"integerValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, datetime):
        return {"timestampValue": value.isoformat().replace("+00:00", "Z")}
    if isinstance(value, list):
        return {"arrayValue": {"values": [to_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"mapValue": {"fields": to_fields(value)}}
    raise TypeError(f"No Firestore value for {value!r}")


def to_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {key: to_value(v) for key, v in data.items()}


class Firestore:
    """The emulator's REST API. `as_user` is a uid, None for a signed-out visitor, or
    ADMIN. Each call returns the HTTP status: 200 when the rules allow, 403 when not."""

    def __init__(self, client: httpx.Client, address: str) -> None:
        self.client = client
        self.host = f"http://{address}"
        self.root = f"projects/{PROJECT_ID}/databases/(default)/documents"
        self.url = f"{self.host}/v1/{self.root}"

    def _headers(self, as_user: str | None) -> dict[str, str]:
        if as_user is None:
            return {}
        return {"Authorization": f"Bearer {ADMIN if as_user == ADMIN else id_token(as_user)}"}

    def get(self, path: str, as_user: str | None) -> int:
        return self.client.get(f"{self.url}/{path}", headers=self._headers(as_user)).status_code

    def query(
        self,
        parent: str,
        collection: str,
        as_user: str | None,
        where: tuple[str, Any] | None = None,
        all_descendants: bool = False,
    ) -> tuple[int, list[str]]:
        """Run a query on `collection` under `parent` ("" for the root); returns the
        status and the paths of the documents it returned."""
        structured: dict[str, Any] = {
            "from": [{"collectionId": collection, "allDescendants": all_descendants}]
        }
        if where is not None:
            structured["where"] = {
                "fieldFilter": {"field": {"fieldPath": where[0]}, "op": "EQUAL", "value": to_value(where[1])}
            }
        url = f"{self.url}/{parent}:runQuery" if parent else f"{self.url}:runQuery"
        response = self.client.post(url, json={"structuredQuery": structured}, headers=self._headers(as_user))
        if response.status_code != 200:
            return response.status_code, []
        names = [row["document"]["name"] for row in response.json() if "document" in row]
        return 200, [name.removeprefix(f"{self.root}/") for name in names]

    def create(self, path: str, data: dict[str, Any], as_user: str | None) -> int:
        parent, _, doc_id = path.rpartition("/")
        return self.client.post(
            f"{self.url}/{parent}",
            params={"documentId": doc_id},
            json={"fields": to_fields(data)},
            headers=self._headers(as_user),
        ).status_code

    def update(self, path: str, data: dict[str, Any], as_user: str | None) -> int:
        params: dict[str, str | list[str]] = {
            "currentDocument.exists": "true",
            "updateMask.fieldPaths": list(data),
        }
        return self.client.patch(
            f"{self.url}/{path}",
            params=params,
            json={"fields": to_fields(data)},
            headers=self._headers(as_user),
        ).status_code

    def delete(self, path: str, as_user: str | None) -> int:
        return self.client.delete(f"{self.url}/{path}", headers=self._headers(as_user)).status_code

    def put_all(self, documents: dict[str, dict[str, Any]]) -> None:
        """Write documents as the admin, in one commit."""
        writes = [
            {"update": {"name": f"{self.root}/{p}", "fields": to_fields(d)}} for p, d in documents.items()
        ]
        response = self.client.post(
            f"{self.url}:commit", json={"writes": writes}, headers=self._headers(ADMIN)
        )
        response.raise_for_status()

    def remove(self, path: str) -> None:
        self.client.delete(f"{self.url}/{path}", headers=self._headers(ADMIN)).raise_for_status()

    def coverage(self) -> tuple[dict[str, Any], str]:
        """The emulator's rule coverage since it started: (JSON report, HTML report)."""
        base = f"{self.host}/emulator/v1/projects/{PROJECT_ID}"
        report = self.client.get(f"{base}:ruleCoverage")
        page = self.client.get(f"{base}:ruleCoverage.html")
        report.raise_for_status()
        page.raise_for_status()
        return report.json(), page.text


def now_ms() -> int:
    return int(time.time() * 1000)


def timing(index: int, question_id: str, started_at_ms: int, time_limit_s: int = 20) -> dict[str, Any]:
    return {
        "index": index,
        "question_id": question_id,
        "started_at_ms": started_at_ms,
        "deadline_ms": started_at_ms + time_limit_s * 1000,
    }


@dataclass
class Game:
    """One session mid-game, with fresh ids: question 1 revealed and left behind,
    question 2 open, a host, two players, a kicked player; and another host's session."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        t = self.tag
        self.quiz_id = f"quiz-{t}"
        self.library_quiz_id = f"library-{t}"
        self.session_id = f"S{t}".upper()
        self.other_session_id = f"T{t}".upper()
        self.host = f"host-{t}"
        self.player = f"player-{t}"
        self.other_player = f"other-player-{t}"
        self.other_host = f"other-host-{t}"
        self.stranger = f"stranger-{t}"
        self.kicked = f"kicked-{t}"
        self.closed_question = "q1"
        self.open_question = "q2"
        started = now_ms()
        self.timings = {
            "q1": timing(0, "q1", started - 60_000),
            "q2": timing(1, "q2", started),
        }

    # -- paths ----------------------------------------------------------------------

    @property
    def session(self) -> str:
        return f"sessions/{self.session_id}"

    @property
    def quota(self) -> str:
        """The host's count of sessions created on a day (vocabquiz/adapters/quotas.py)."""
        return f"quotas/{self.host}_sessions_2030-01-31"

    def answer(self, uid: str, question_id: str) -> str:
        return f"{self.session}/answers/{uid}_{question_id}"

    # -- documents ------------------------------------------------------------------

    def session_doc(self, **changes: Any) -> dict[str, Any]:
        return {
            "code": self.session_id,
            "quiz_id": self.quiz_id,
            "host_uid": self.host,
            "status": "active",
            "max_participants": 50,
            "question_count": 2,
            "auto_advance": False,
            "created_at_ms": self.timings["q1"]["started_at_ms"] - 5_000,
            "current": self.timings["q2"],
            "revealed": False,
            "timings": self.timings,
        } | changes

    def documents(self) -> dict[str, dict[str, Any]]:
        questions = [
            {"question_id": q, "kind": "multiple_choice", "text": f"Meaning of {q}?", "options": ["a", "b"]}
            | {"points": 10, "time_limit_s": 20}
            for q in ("q1", "q2")
        ]
        key = {q: {"accepted": ["a"], "explanation": "a is right"} for q in ("q1", "q2")}
        s = self.session
        docs: dict[str, dict[str, Any]] = {
            # The host's own upload, private (as vocabquiz/adapters/documents.py writes it),
            # and a quiz of the public library (stored with no owner).
            f"quizzes/{self.quiz_id}": {
                "title": "Rules quiz",
                "questions": questions,
                "question_count": len(questions),
                "owner_uid": self.host,
                "public": False,
            },
            f"quizzes/{self.quiz_id}/private/key": {"key": key},
            f"quizzes/{self.library_quiz_id}": {
                "title": "Library quiz",
                "questions": questions,
                "question_count": len(questions),
                "owner_uid": None,
                "public": True,
            },
            f"quizzes/{self.library_quiz_id}/private/key": {"key": key},
            s: self.session_doc(),
            f"{s}/private/quiz": {
                "quiz_id": self.quiz_id,
                "public": {"title": "Rules quiz", "questions": questions},
                "key": key,
            },
            self.quota: {
                "uid": self.host,
                "action": "sessions",
                "day": "2030-01-31",
                "count": 1,
                "expires_at": datetime(2030, 2, 2, tzinfo=UTC),
            },
            f"{s}/names/player-{self.tag}": {"uid": self.player},
            f"{s}/names/other-player-{self.tag}": {"uid": self.other_player},
            f"{s}/banned/{self.kicked}": {"uid": self.kicked},
            f"{s}/public/leaderboard": {
                "session_id": self.session_id,
                "version": 3,
                "leaderboard": [{"rank": 1, "user_id": self.player, "username": "player", "score": 15}],
                "total_participants": 2,
                "updated_at_ms": now_ms(),
            },
            f"sessions/{self.other_session_id}": self.session_doc(
                code=self.other_session_id, host_uid=self.other_host
            ),
        }
        for uid in (self.player, self.other_player):
            docs[f"{s}/participants/{uid}"] = {
                "uid": uid,
                "username": uid,
                "score": 15,
                "correct_count": 1,
                "answered_count": 2,
                "score_reached_at_ms": self.timings["q1"]["started_at_ms"] + 2_000,
                "joined_at_ms": self.timings["q1"]["started_at_ms"] - 1_000,
                "connected": True,
                "seated_at": datetime.now(UTC),
                "changed_at": datetime.now(UTC),
            }
            for question_id in ("q1", "q2"):
                docs[self.answer(uid, question_id)] = self.answer_doc(uid, question_id)
        return docs

    def answer_doc(self, uid: str, question_id: str) -> dict[str, Any]:
        started = self.timings[question_id]["started_at_ms"]
        return {
            "uid": uid,
            "question_id": question_id,
            "answer": "a",
            "is_correct": True,
            "points": 15,
            "time_taken_ms": 1_500,
            "received_at_ms": started + 1_500,
            "score_after": 15,
            "message_id": f"{uid}/m-{question_id}",
        }
