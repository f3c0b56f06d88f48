"""Firestore as the ledger run sees it, directly (not through the game): the quiz it
seeds, a fingerprint to tell when the store has settled, and what the checker reads."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.faults.options import OPTIONS, RIGHT
from devstack.stack import PROJECT_ID
from vocabquiz.adapters.documents import timing_from_doc
from vocabquiz.domain.model import Timing


def firestore() -> Any:
    from google.cloud import firestore

    return firestore.Client(project=PROJECT_ID)


def seed_quiz(questions: int, time_limit_s: int, shorter: dict[int, int]) -> str:
    """A quiz of `questions` choice questions of `time_limit_s` (`shorter`: index -> its own)."""
    from vocabquiz.adapters.store import Store
    from vocabquiz.domain.quizfile import quiz_from_dict

    quiz = quiz_from_dict(
        {
            "id": f"ledger-{uuid.uuid4().hex[:8]}",
            "title": "Ledger quiz",
            "questions": [
                {
                    "id": f"q{i}",
                    "kind": "choice",
                    "text": f"Question {i}",
                    "options": OPTIONS,
                    "accepted": [RIGHT],
                    "time_limit_s": shorter.get(i, time_limit_s),
                }
                for i in range(questions)
            ],
        }
    )
    Store(firestore()).save_quiz(quiz)
    return quiz.id


def fingerprint(sessions: list[str]) -> tuple[int, int]:
    """(answer documents, sum of scores) over the sessions: unchanged for a few seconds,
    the store has settled."""
    db = firestore()
    answers = scores = 0
    for session_id in sessions:
        ref = db.collection("sessions").document(session_id)
        answers += sum(1 for _ in ref.collection("answers").select([]).stream())
        scores += sum(int(d.get("score")) for d in ref.collection("participants").select(["score"]).stream())
    return answers, scores


@dataclass
class Stored:
    """What the sessions hold once the run is over."""

    docs: dict[tuple[str, str, str], dict[str, Any]]  # (uid, session, question) -> answer document
    participants: dict[tuple[str, str], dict[str, Any]]  # (session, uid) -> participant
    timings: dict[tuple[str, str], Timing]  # (session, question) -> its timing
    # Answer documents per (uid, session, question), counted before `docs` keeps one each.
    doc_counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)


def read_stored(sessions: list[str]) -> Stored:
    db = firestore()
    stored = Stored({}, {}, {})
    for session_id in sessions:
        ref = db.collection("sessions").document(session_id)
        session = ref.get().to_dict() or {}
        for qid, timing in (session.get("timings") or {}).items():
            stored.timings[(session_id, qid)] = timing_from_doc(timing)
        for doc in ref.collection("answers").stream():
            data = doc.to_dict() or {}
            key = (data["uid"], session_id, data["question_id"])
            stored.doc_counts[key] += 1
            stored.docs[key] = data | {"doc_id": doc.id}
        for doc in ref.collection("participants").stream():
            stored.participants[(session_id, doc.id)] = doc.to_dict() or {}
    return stored
