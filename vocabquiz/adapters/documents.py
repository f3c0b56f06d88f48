"""Firestore documents <-> domain objects, and the small helpers every store part uses.

Layout: quizzes/{quiz} (public questions, owner, whether public) and
quizzes/{quiz}/private/key (answers); sessions/{code} with private/quiz (the quiz frozen
at creation, in the session's play order), participants/{uid},
names/{name_key}, banned/{uid}, answers/{uid}_{question} and public/leaderboard.

Retention: every document of a session carries `expires_at`, SESSION_RETENTION after it
was last written, and so does an anonymous user's quiz (ANONYMOUS_QUIZ_RETENTION); TTL
policies on that field (firestore.indexes.json) delete them. Other quizzes are kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers

from vocabquiz.domain.catalog import QuizEntry, Visibility
from vocabquiz.domain.errors import Busy
from vocabquiz.domain.model import Kind, NewAnswer, Participant, Question, Quiz, Session, Status, Timing
from vocabquiz.domain.scoring import TotalsChange

# Every participant and answer write stamps its commit time here: reads ask what changed.
CHANGED_AT = "changed_at"
CHANGED_NOW = firestore.SERVER_TIMESTAMP
# A participant's current gateway connection: a disconnect from an older one is stale.
CONNECTION_ID = "connection_id"
# Firestore's TTL policies delete a document once the time in this field has passed.
EXPIRES_AT = "expires_at"
# Sessions are kept for the host's results, as long as the seed's retention of completed
# sessions; an anonymous user's quiz as long as Identity Platform keeps the user.
SESSION_RETENTION = timedelta(days=90)
ANONYMOUS_QUIZ_RETENTION = timedelta(days=30)


def expiry(retention: timedelta = SESSION_RETENTION) -> dict[str, datetime]:
    """The field that has a document deleted `retention` from now."""
    return {EXPIRES_AT: datetime.now(UTC) + retention}


def session_ref(db: firestore.Client, session_id: str) -> firestore.DocumentReference:
    return db.collection("sessions").document(session_id)


def commit(db: firestore.Client, run: Callable[[Any], Any]) -> Any:
    """Run a @transactional function in a new transaction. The client retries a conflict
    itself; one that outlasts its retries ("Failed to commit transaction in N attempts",
    caused by ABORTED) becomes Busy: nothing was written."""
    try:
        return run(db.transaction())
    except ValueError as exc:
        if isinstance(exc.__cause__, gexc.Aborted):
            raise Busy(str(exc)) from exc
        raise


def get_all(txn: firestore.Transaction, *refs: firestore.DocumentReference) -> list[Any]:
    """Read several documents in one round trip; snapshots in the order of `refs`."""
    by_path = {snap.reference.path: snap for snap in txn.get_all(list(refs))}
    return [by_path[ref.path] for ref in refs]


def count(query: firestore.CollectionReference | firestore.Query) -> int:
    counting: Any = query.count()  # the library's annotations are off here
    return int(counting.get()[0][0].value)


# -- documents <-> domain -------------------------------------------------------------


# A player's totals, which an answer moves by field transforms (`totals_transforms`).
TOTALS = ("score", "correct_count", "answered_count", "score_reached_at_ms")


def totals_transforms(change: TotalsChange) -> dict[str, Any]:
    """The domain's change to a player's totals as field transforms: the commit moves them
    without reading the document, and returns the results."""
    transforms: dict[str, Any] = {
        "score": firestore.Increment(change.points),
        "correct_count": firestore.Increment(change.correct),
        "answered_count": firestore.Increment(1),
        CHANGED_AT: CHANGED_NOW,
    }
    if change.reached_at_ms is not None:
        transforms["score_reached_at_ms"] = firestore.Maximum(change.reached_at_ms)
    return transforms


def totals_from_results(
    transforms: dict[str, Any], results: Sequence[Any], db: firestore.Client
) -> dict[str, int]:
    """A write's transform results by field: they follow its fields in sorted order (how
    the client library builds the transforms)."""
    new = dict(zip(sorted(transforms), results, strict=True))
    return {k: int(cast(int, _helpers.decode_value(v, db))) for k, v in new.items() if k in TOTALS}


def answer_to_doc(a: NewAnswer) -> dict[str, Any]:
    return {
        CHANGED_AT: CHANGED_NOW,
        "uid": a.uid,
        "question_id": a.question_id,
        "answer": a.answer,
        "is_correct": a.verdict.correct,
        "points": a.verdict.points,
        "time_taken_ms": a.verdict.time_taken_ms,
        "received_at_ms": a.received_at_ms,
        "message_id": a.message_id,
    }


def quiz_to_doc(quiz: Quiz, visibility: Visibility) -> dict[str, Any]:
    """A quiz's document: what players may see of it, and who may list and host it."""
    return {
        "title": quiz.title,
        "questions": [q.public() for q in quiz.questions],
        "question_count": len(quiz.questions),  # what a list needs, without the questions
        "owner_uid": visibility.owner_uid,
        "public": visibility.public,
    }


def visibility_from_doc(d: dict[str, Any]) -> Visibility:
    # A document written before quizzes had `public`: an owner's is private, the rest library.
    return Visibility.of(d.get("owner_uid"), bool(d.get("public", False)))


def quiz_entry_from_doc(quiz_id: str, d: dict[str, Any]) -> QuizEntry:
    return QuizEntry(quiz_id, d["title"], d["question_count"], visibility_from_doc(d))


def quiz_key(quiz: Quiz) -> dict[str, Any]:
    """The answers, by question id (nested: a question may be called `expires_at`)."""
    answers = {
        q.id: {"accepted": list(q.accepted), "explanation": q.explanation, "example": q.example}
        for q in quiz.questions
    }
    return {"key": answers}


def quiz_from_docs(quiz_id: str, public: dict[str, Any], key: dict[str, Any]) -> Quiz:
    questions = tuple(
        Question(
            id=q["question_id"],
            kind=Kind(q["kind"]),
            text=q["text"],
            options=tuple(q.get("options", ())),
            accepted=tuple(key[q["question_id"]]["accepted"]),
            points=q["points"],
            time_limit_s=q["time_limit_s"],
            explanation=key[q["question_id"]].get("explanation", ""),
            example=key[q["question_id"]].get("example", ""),
        )
        for q in public["questions"]
    )
    return Quiz(quiz_id, public["title"], questions)


def timing_to_doc(t: Timing) -> dict[str, Any]:
    return dataclasses.asdict(t)


def timing_from_doc(d: dict[str, Any]) -> Timing:
    return Timing(d["index"], d["question_id"], d["started_at_ms"], d["deadline_ms"], d.get("revealed_at_ms"))


def session_to_doc(s: Session) -> dict[str, Any]:
    return {
        "code": s.id,
        "quiz_id": s.quiz_id,
        "host_uid": s.host_uid,
        "status": s.status.value,
        "max_participants": s.max_participants,
        "question_count": s.question_count,
        "auto_advance": s.auto_advance,
        "created_at_ms": s.created_at_ms,
        "current": timing_to_doc(s.current) if s.current else None,
        "revealed": s.revealed,
        "timings": {qid: timing_to_doc(t) for qid, t in s.timings.items()},
    }


def session_from_doc(session_id: str, d: dict[str, Any]) -> Session:
    return Session(
        id=session_id,
        quiz_id=d["quiz_id"],
        host_uid=d["host_uid"],
        status=Status(d["status"]),
        max_participants=d["max_participants"],
        question_count=d["question_count"],
        auto_advance=d["auto_advance"],
        created_at_ms=d["created_at_ms"],
        current=timing_from_doc(d["current"]) if d.get("current") else None,
        revealed=d.get("revealed", False),
        timings={qid: timing_from_doc(t) for qid, t in d.get("timings", {}).items()},
    )


def participant_to_doc(p: Participant) -> dict[str, Any]:
    return dataclasses.asdict(p) | {"uid": p.uid}


def participant_from_doc(uid: str, d: dict[str, Any]) -> Participant:
    fields = {f.name for f in dataclasses.fields(Participant)} - {"uid"}
    return Participant(uid=uid, **{k: v for k, v in d.items() if k in fields})
