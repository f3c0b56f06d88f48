"""Firestore persistence: documents <-> domain objects, and the transactions that keep
every effect exactly-once on at-least-once delivery.

Layout: quizzes/{quiz} (public questions) and quizzes/{quiz}/private/key (answers);
sessions/{code} with private/quiz (the quiz frozen at creation), participants/{uid},
names/{name_key}, banned/{uid}, answers/{uid}_{question} and public/leaderboard.
Per-answer writes touch only the player's own documents; the session document changes
on lifecycle transitions only.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers

from vocabquiz.adapters.naming import answer_id
from vocabquiz.domain import names
from vocabquiz.domain.errors import Busy, GameError
from vocabquiz.domain.model import (
    Kind,
    NewAnswer,
    Participant,
    Question,
    Quiz,
    Session,
    Status,
    Timing,
    Verdict,
)
from vocabquiz.domain.scoring import judge_answer
from vocabquiz.observability import tracing
from vocabquiz.protocol import ErrorCode

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a room
CODE_LENGTH = 6
# Every participant write stamps its commit time here: leaderboards read only what changed.
CHANGED_AT = "changed_at"
CHANGED_NOW = firestore.SERVER_TIMESTAMP
# A participant's current gateway connection: a disconnect from an older one is stale.
CONNECTION_ID = "connection_id"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Joined:
    session: Session
    participant: Participant
    participant_count: int
    is_new: bool


@dataclass(frozen=True, slots=True)
class Stored:
    """An answer as stored: its verdict, the message that brought it, and its player's
    score right after it."""

    verdict: Verdict
    message_id: str
    score_after: int


class AnswersRefused(Exception):
    """A batch commit refused whole: an answer of it exists already (a redelivery or a
    second attempt) or a player's document does not (never joined, or kicked). Nothing
    was written; the caller scores that batch one answer at a time."""


@dataclass(frozen=True, slots=True)
class Scored:
    answer_id: str
    participant: Participant
    question_id: str
    verdict: Verdict
    # True when this command was already scored (a redelivery): republish, change nothing.
    replayed: bool
    # Times the transaction ran (more than one: Firestore aborted it on contention).
    attempts: int = 1


class Store:
    def __init__(self, client: firestore.Client) -> None:
        self.db = client
        self._quiz_cache: dict[str, Quiz] = {}

    def _commit(self, run: Callable[[Any], Any]) -> Any:
        """Run a @transactional function in a new transaction. The client retries a
        conflict itself; one that outlasts its retries ("Failed to commit transaction in
        N attempts", caused by ABORTED) becomes Busy: nothing was written."""
        try:
            return run(self.db.transaction())
        except ValueError as exc:
            if isinstance(exc.__cause__, gexc.Aborted):
                raise Busy(str(exc)) from exc
            raise

    # -- quizzes ------------------------------------------------------------------

    def save_quiz(self, quiz: Quiz, owner_uid: str | None = None) -> None:
        """Store a quiz. A host (`owner_uid`) may create a quiz or replace their own; the
        seeding and import tools (no owner) may write any."""
        ref = self.db.collection("quizzes").document(quiz.id)

        @firestore.transactional
        def run(txn: firestore.Transaction) -> None:
            existing = ref.get(transaction=txn)
            if (
                owner_uid is not None
                and existing.exists
                and (existing.to_dict() or {}).get("owner_uid") != owner_uid
            ):
                raise GameError(ErrorCode.QUIZ_EXISTS, f"Quiz {quiz.id} exists and is not yours")
            public = {
                "title": quiz.title,
                "questions": [q.public() for q in quiz.questions],
                "owner_uid": owner_uid,
            }
            txn.set(ref, public)
            txn.set(ref.collection("private").document("key"), _quiz_key(quiz))

        self._commit(run)

    def list_quizzes(self) -> list[dict[str, Any]]:
        return [
            {"quiz_id": doc.id, "title": doc.get("title"), "question_count": len(doc.get("questions"))}
            for doc in self.db.collection("quizzes").stream()
        ]

    def load_quiz(self, quiz_id: str) -> Quiz | None:
        ref = self.db.collection("quizzes").document(quiz_id)
        public, key = ref.get(), ref.collection("private").document("key").get()
        if not public.exists or not key.exists:
            return None
        return _quiz_from_docs(quiz_id, public.to_dict() or {}, key.to_dict() or {})

    def session_quiz(self, session_id: str) -> Quiz:
        """The quiz as frozen when the session was created; immutable, so cached."""
        quiz = self._quiz_cache.get(session_id)
        if quiz is None:
            doc = self._session_ref(session_id).collection("private").document("quiz").get()
            data = doc.to_dict()
            if data is None:
                raise GameError(ErrorCode.INVALID_SESSION, f"Session {session_id} does not exist")
            quiz = _quiz_from_docs(data["quiz_id"], data["public"], data["key"])
            self._quiz_cache[session_id] = quiz
        return quiz

    # -- sessions -----------------------------------------------------------------

    def create_session(
        self, quiz: Quiz, host_uid: str, max_participants: int, auto_advance: bool, now_ms: int
    ) -> Session:
        for _ in range(10):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            session = Session(
                id=code,
                quiz_id=quiz.id,
                host_uid=host_uid,
                status=Status.WAITING,
                max_participants=max_participants,
                question_count=len(quiz.questions),
                auto_advance=auto_advance,
                created_at_ms=now_ms,
            )
            ref = self._session_ref(code)
            batch = self.db.batch()
            batch.create(ref, _session_to_doc(session))
            batch.create(
                ref.collection("private").document("quiz"),
                {
                    "quiz_id": quiz.id,
                    "public": {"title": quiz.title, "questions": [q.public() for q in quiz.questions]},
                    "key": _quiz_key(quiz),
                },
            )
            try:
                batch.commit()
            except gexc.Conflict:
                continue  # code taken: draw another
            self._quiz_cache[code] = quiz
            return session
        raise RuntimeError("Could not draw a free session code in 10 tries")

    def get_session(self, session_id: str) -> Session:
        snap = self._session_ref(session_id).get()
        if not snap.exists:
            raise GameError(ErrorCode.INVALID_SESSION, f"Session {session_id} does not exist")
        return _session_from_doc(snap.id, snap.to_dict() or {})

    def transition(
        self, session_id: str, change: Callable[[Session], Session | None]
    ) -> tuple[Session, Session | None]:
        """Apply `change` to the session in a transaction; returns (before, after), with
        after None when `change` decided there was nothing to do."""
        ref = self._session_ref(session_id)

        @firestore.transactional
        def run(txn: firestore.Transaction) -> tuple[Session, Session | None]:
            snap = ref.get(transaction=txn)
            if not snap.exists:
                raise GameError(ErrorCode.INVALID_SESSION, f"Session {session_id} does not exist")
            before = _session_from_doc(snap.id, snap.to_dict() or {})
            after = change(before)
            if after is not None:
                txn.set(ref, _session_to_doc(after))
            return before, after

        return cast(tuple[Session, Session | None], self._commit(run))

    # -- participants -------------------------------------------------------------

    def join(self, session_id: str, uid: str, raw_name: str, now_ms: int, connection_id: str = "") -> Joined:
        """Seat a player (or welcome one back) under a unique display name.

        Capacity is checked outside the transaction: a count query inside it would lock
        the whole participants range, and a burst of joins would queue on that lock. A
        newcomer is seated first and then counts; if the session overflowed, the seats
        go to the earliest-seated (server timestamps), and the late racer leaves again.
        """
        try:
            username = names.clean_display_name(raw_name)
        except names.InvalidName as exc:
            raise GameError(ErrorCode.INVALID_NAME, exc.reason) from None
        session_ref = self._session_ref(session_id)
        participant_ref = session_ref.collection("participants").document(uid)
        name_ref = session_ref.collection("names").document(names.name_key(username))

        @firestore.transactional
        def run(txn: firestore.Transaction) -> Joined:
            banned_ref = session_ref.collection("banned").document(uid)
            session_snap, banned, existing, claim = _get_all(
                txn, session_ref, banned_ref, participant_ref, name_ref
            )
            if not session_snap.exists:
                raise GameError(ErrorCode.INVALID_SESSION, f"Session {session_id} does not exist")
            session = _session_from_doc(session_id, session_snap.to_dict() or {})
            if session.status is Status.COMPLETED:
                raise GameError(ErrorCode.SESSION_NOT_ACTIVE, "Session has ended")
            if banned.exists:
                raise GameError(ErrorCode.KICKED, "You were removed from this session")
            if claim.exists and claim.get("uid") != uid:
                raise GameError(ErrorCode.NAME_TAKEN, f"The name {username!r} is taken in this session")
            if existing.exists:
                old = _participant_from_doc(uid, existing.to_dict() or {})
                participant = dataclasses.replace(old, username=username, connected=True)
                if old.username != username:
                    txn.delete(session_ref.collection("names").document(names.name_key(old.username)))
                txn.update(
                    participant_ref,
                    {
                        "username": username,
                        "connected": True,
                        CONNECTION_ID: connection_id,
                        CHANGED_AT: CHANGED_NOW,
                    },
                )
            else:
                participant = Participant(uid, username, joined_at_ms=now_ms)
                txn.create(
                    participant_ref,
                    _participant_to_doc(participant)
                    | {CONNECTION_ID: connection_id, "seated_at": CHANGED_NOW, CHANGED_AT: CHANGED_NOW},
                )
            txn.set(name_ref, {"uid": uid})
            return Joined(session, participant, 0, not existing.exists)

        participants = session_ref.collection("participants")
        if not participant_ref.get().exists and _count(participants) >= self._max_participants(session_id):
            raise GameError(ErrorCode.SESSION_FULL, "Session at capacity")
        joined = cast(Joined, self._commit(run))
        count = _count(participants)
        if joined.is_new and count > joined.session.max_participants:
            seated = (
                participants.order_by("seated_at").limit(joined.session.max_participants).select([]).stream()
            )
            if uid not in {doc.id for doc in seated}:
                batch = self.db.batch()
                batch.delete(participant_ref)
                batch.delete(name_ref)
                batch.commit()
                raise GameError(ErrorCode.SESSION_FULL, "Session at capacity")
        return dataclasses.replace(joined, participant_count=min(count, joined.session.max_participants))

    def _max_participants(self, session_id: str) -> int:
        snap = self._session_ref(session_id).get(["max_participants"])
        if not snap.exists:
            raise GameError(ErrorCode.INVALID_SESSION, f"Session {session_id} does not exist")
        return int(snap.get("max_participants"))

    def rank_of(self, session_id: str, score: int) -> int:
        """Competition rank (1, 2, 2, 4): one more than the players strictly ahead."""
        ahead = (
            self._session_ref(session_id)
            .collection("participants")
            .where(filter=firestore.FieldFilter("score", ">", score))
        )
        return 1 + _count(ahead)

    def participant(self, session_id: str, uid: str) -> Participant:
        snap = self._session_ref(session_id).collection("participants").document(uid).get()
        if not snap.exists:
            raise GameError(ErrorCode.NOT_JOINED, f"You have not joined session {session_id}")
        return _participant_from_doc(uid, snap.to_dict() or {})

    def set_connected(
        self, session_id: str, uid: str, connected: bool, connection_id: str = ""
    ) -> tuple[Participant, int, bool]:
        """(the participant now, the participant count, whether they were connected
        before). Connecting records the connection, so a late disconnect of an older one
        (see `disconnect`) changes nothing."""
        ref = self._session_ref(session_id).collection("participants").document(uid)
        participant = self.participant(session_id, uid)
        change: dict[str, Any] = {"connected": connected, CHANGED_AT: CHANGED_NOW}
        if connected:
            change[CONNECTION_ID] = connection_id
        ref.update(change)
        count = _count(self._session_ref(session_id).collection("participants"))
        return dataclasses.replace(participant, connected=connected), count, participant.connected

    def disconnect(self, session_id: str, uid: str, connection_id: str) -> tuple[Participant, int] | None:
        """Mark a player away because their socket closed, if it was their current
        connection and they were connected; None otherwise (they are back on another
        socket, left already, or were never seated: a host watching, say)."""
        ref = self._session_ref(session_id).collection("participants").document(uid)

        @firestore.transactional
        def run(txn: firestore.Transaction) -> Participant | None:
            snap = ref.get(transaction=txn)
            doc = snap.to_dict() or {}
            if not snap.exists or not doc.get("connected") or doc.get(CONNECTION_ID) != connection_id:
                return None
            txn.update(ref, {"connected": False, CHANGED_AT: CHANGED_NOW})
            return dataclasses.replace(_participant_from_doc(uid, doc), connected=False)

        participant = cast(Participant | None, self._commit(run))
        if participant is None:
            return None
        return participant, _count(self._session_ref(session_id).collection("participants"))

    def kick(self, session_id: str, uid: str) -> Participant:
        """Remove a player for good: their seat and name are freed, and a ban stops a rejoin."""
        session_ref = self._session_ref(session_id)
        participant_ref = session_ref.collection("participants").document(uid)

        @firestore.transactional
        def run(txn: firestore.Transaction) -> Participant:
            snap = participant_ref.get(transaction=txn)
            if not snap.exists:
                raise GameError(ErrorCode.NOT_JOINED, f"{uid} is not in session {session_id}")
            participant = _participant_from_doc(uid, snap.to_dict() or {})
            txn.delete(participant_ref)
            txn.delete(session_ref.collection("names").document(names.name_key(participant.username)))
            # A stamped tombstone: leaderboards that read only what changed see the removal.
            txn.set(session_ref.collection("banned").document(uid), {"uid": uid, CHANGED_AT: CHANGED_NOW})
            return participant

        return cast(Participant, self._commit(run))

    def has_answered(self, session_id: str, uid: str, question_id: str) -> bool:
        ref = self._session_ref(session_id).collection("answers").document(answer_id(uid, question_id))
        return bool(ref.get().exists)

    def all_answers(self, session_id: str) -> list[dict[str, Any]]:
        query = (
            self._session_ref(session_id)
            .collection("answers")
            .select(["uid", "question_id", "is_correct", "points", "time_taken_ms"])
        )
        return [doc.to_dict() or {} for doc in query.stream()]

    def participants(self, session_id: str) -> list[Participant]:
        return self.participants_changed(session_id, since=None)[0]

    def answers_changed(
        self, session_id: str, question_id: str, since: datetime | None
    ) -> tuple[dict[str, tuple[str, bool]], datetime | None]:
        """Answers to a question stored after `since` (all for None) by answer id, as
        (answer, is_correct), and the time of this read (see participants_changed)."""
        query: Any = (
            self._session_ref(session_id)
            .collection("answers")
            .where(filter=firestore.FieldFilter("question_id", "==", question_id))
        )
        if since is not None:
            query = query.where(filter=firestore.FieldFilter(CHANGED_AT, ">", since))
        snapshots = list(query.select(["answer", "is_correct"]).stream())
        read_time = snapshots[0].read_time if snapshots else None
        return {doc.id: (doc.get("answer"), doc.get("is_correct")) for doc in snapshots}, read_time

    def participants_changed(
        self, session_id: str, since: datetime | None
    ) -> tuple[list[Participant], set[str], datetime | None]:
        """Participants written after `since` (all of them for None), the uids removed
        after `since` (a kick leaves a stamped tombstone in `banned`), and the time of
        this read: every write stamps `changed_at` with its commit time, so the next read
        asks for what changed after (about) this one."""
        participants = self._session_ref(session_id).collection("participants")
        query: Any = participants
        if since is not None:
            query = query.where(filter=firestore.FieldFilter(CHANGED_AT, ">", since))
        query = query.select(["username", "score", "score_reached_at_ms", "correct_count", "answered_count"])
        snapshots = list(query.stream())
        read_time = snapshots[0].read_time if snapshots else None
        removed: set[str] = set()
        if since is not None:
            banned = self._session_ref(session_id).collection("banned")
            tombstones = banned.where(filter=firestore.FieldFilter(CHANGED_AT, ">", since)).select([])
            removed = {doc.id for doc in tombstones.stream()}
        changed = [_participant_from_doc(doc.id, doc.to_dict() or {}) for doc in snapshots]
        return changed, removed, read_time

    # -- answers ------------------------------------------------------------------

    def score_answer(
        self, session_id: str, uid: str, question_id: str, answer: str, received_at_ms: int, message_id: str
    ) -> Scored:
        """Score the first answer of `uid` to `question_id`, exactly once.

        The answer's id is derived from (user, question), and the transaction creates it
        only if absent: a redelivered command finds it and replays the stored verdict.
        """
        session_ref = self._session_ref(session_id)
        participant_ref = session_ref.collection("participants").document(uid)
        the_answer_id = answer_id(uid, question_id)
        answer_ref = session_ref.collection("answers").document(the_answer_id)
        quiz = self.session_quiz(session_id)
        question = quiz.question(question_id)
        if question is None:
            raise GameError(ErrorCode.INVALID_QUESTION, f"No question {question_id} in this quiz")

        attempts = 0
        committed_at: datetime | None = None

        @firestore.transactional
        def run(txn: firestore.Transaction) -> Scored:
            nonlocal attempts, committed_at
            attempts += 1
            committed_at = None
            session_snap, participant_snap, answer_snap = _get_all(
                txn, session_ref, participant_ref, answer_ref
            )
            if not session_snap.exists:
                raise GameError(ErrorCode.INVALID_SESSION, f"Session {session_id} does not exist")
            if not participant_snap.exists:
                raise GameError(ErrorCode.NOT_JOINED, f"You have not joined session {session_id}")
            participant = _participant_from_doc(uid, participant_snap.to_dict() or {})
            if answer_snap.exists:
                stored = answer_snap.to_dict() or {}
                if stored.get("message_id") != message_id:
                    raise GameError(ErrorCode.ALREADY_ANSWERED, "Only your first answer counts")
                verdict = Verdict(stored["is_correct"], stored["points"], stored["time_taken_ms"])
                score_after = stored.get("score_after")
                if score_after is None:  # stored by a batch commit: computed below, outside
                    score_after = -1
                    committed_at = answer_snap.update_time
                replay = dataclasses.replace(participant, score=score_after)
                return Scored(the_answer_id, replay, question_id, verdict, replayed=True)
            session = _session_from_doc(session_id, session_snap.to_dict() or {})
            timing = session.timings.get(question_id)
            if timing is None:
                raise GameError(ErrorCode.QUESTION_CLOSED, f"Question {question_id} has not started")
            verdict = judge_answer(question, timing, answer, received_at_ms)
            scored = dataclasses.replace(
                participant,
                score=participant.score + verdict.points,
                correct_count=participant.correct_count + verdict.correct,
                answered_count=participant.answered_count + 1,
                score_reached_at_ms=received_at_ms if verdict.points else participant.score_reached_at_ms,
            )
            new = NewAnswer(uid, question_id, answer, verdict, received_at_ms, message_id)
            txn.create(answer_ref, _answer_to_doc(new) | {"score_after": scored.score})
            txn.update(
                participant_ref,
                {
                    "score": scored.score,
                    "correct_count": scored.correct_count,
                    "answered_count": scored.answered_count,
                    "score_reached_at_ms": scored.score_reached_at_ms,
                    CHANGED_AT: CHANGED_NOW,
                },
            )
            return Scored(the_answer_id, scored, question_id, verdict, replayed=False)

        with tracing.tracer().start_as_current_span("score transaction") as span:
            try:
                scored = cast(Scored, self._commit(run))
            finally:
                span.set_attribute("firestore.transaction.attempts", attempts)
        if committed_at is not None:
            (score,) = self.scores_after(session_id, [(uid, committed_at)])
            scored = dataclasses.replace(
                scored, participant=dataclasses.replace(scored.participant, score=score)
            )
        return dataclasses.replace(scored, attempts=attempts)

    def commit_answers(self, session_id: str, answers: Sequence[NewAnswer]) -> list[Participant]:
        """Store judged answers in one atomic commit, with no read: each answer document
        is created only if absent, and its player's totals move by field transforms whose
        results (the new totals) come back with the commit. One answer per player (a
        request may write a document once). Returns each player's totals, in order;
        raises AnswersRefused when any answer exists already or any player does not."""
        session_ref = self._session_ref(session_id)
        batch = self.db.batch()
        changes = [_totals_change(a) for a in answers]
        for a, change in zip(answers, changes, strict=True):
            batch.create(
                session_ref.collection("answers").document(answer_id(a.uid, a.question_id)), _answer_to_doc(a)
            )
            batch.update(session_ref.collection("participants").document(a.uid), change)
        try:
            results = batch.commit()
        except (gexc.AlreadyExists, gexc.NotFound) as exc:
            raise AnswersRefused(str(exc)) from exc
        except gexc.Aborted as exc:
            raise Busy(str(exc)) from exc
        # Writes alternate answer, participant; a write's transform results follow its
        # fields in sorted order (how the client library builds the transforms).
        participants = []
        for a, change, result in zip(answers, changes, results[1::2], strict=True):
            new = dict(zip(sorted(change), result.transform_results, strict=True))
            total = {
                k: int(cast(int, _helpers.decode_value(v, self.db))) for k, v in new.items() if k in TOTALS
            }
            participants.append(
                Participant(
                    uid=a.uid,
                    username="",
                    score=total["score"],
                    correct_count=total["correct_count"],
                    answered_count=total["answered_count"],
                    score_reached_at_ms=total.get("score_reached_at_ms", 0),
                )
            )
        return participants

    def stored_answers(self, session_id: str, answers: Sequence[tuple[str, str]]) -> dict[str, Stored]:
        """Of these (uid, question) answers, those that exist already, by answer id, in one
        read, each with the score its player had right after it."""
        refs = [
            self._session_ref(session_id).collection("answers").document(answer_id(uid, question_id))
            for uid, question_id in answers
        ]
        found = [snap for snap in self.db.get_all(refs) if snap.exists]
        docs = [(snap.id, snap.to_dict() or {}, snap.update_time) for snap in found]
        missing = [(doc["uid"], committed) for _, doc, committed in docs if doc.get("score_after") is None]
        computed = dict(zip(missing, self.scores_after(session_id, missing), strict=True))
        return {
            the_id: Stored(
                Verdict(doc["is_correct"], doc["points"], doc["time_taken_ms"]),
                doc["message_id"],
                doc["score_after"]
                if doc.get("score_after") is not None
                else computed[(doc["uid"], committed)],
            )
            for the_id, doc, committed in docs
        }

    def scores_after(self, session_id: str, answers: Sequence[tuple[str, datetime]]) -> list[int]:
        """Each player's score right after their answer committed at the given time: the
        sum of their answers committed up to then (one answer per player per commit, so
        commit times order a player's answers). For answers stored without `score_after`
        by a batch commit. One query per 30 players."""
        uids = sorted({uid for uid, _ in answers})
        points: defaultdict[str, list[tuple[datetime, int]]] = defaultdict(list)
        for start in range(0, len(uids), 30):  # an `in` filter takes at most 30 values
            query = (
                self._session_ref(session_id)
                .collection("answers")
                .where(filter=firestore.FieldFilter("uid", "in", uids[start : start + 30]))
                .select(["uid", "points"])
            )
            for doc in query.stream():
                points[doc.get("uid")].append((doc.update_time, int(doc.get("points"))))
        return [sum(p for at, p in points[uid] if at <= committed) for uid, committed in answers]

    def answers_to(self, session_id: str, question_id: str) -> Iterator[tuple[str, bool]]:
        query = (
            self._session_ref(session_id)
            .collection("answers")
            .where(filter=firestore.FieldFilter("question_id", "==", question_id))
            .select(["answer", "is_correct"])
        )
        for doc in query.stream():
            yield doc.get("answer"), doc.get("is_correct")

    def save_leaderboard_snapshot(self, session_id: str, payload: dict[str, Any], now_ms: int) -> None:
        public = {k: v for k, v in payload.items() if k != "ranks"}
        ref = self._session_ref(session_id).collection("public").document("leaderboard")
        ref.set({**public, "updated_at_ms": now_ms})

    def _session_ref(self, session_id: str) -> firestore.DocumentReference:
        return self.db.collection("sessions").document(session_id)


def _get_all(txn: firestore.Transaction, *refs: firestore.DocumentReference) -> list[Any]:
    """Read several documents in one round trip; snapshots in the order of `refs`."""
    by_path = {snap.reference.path: snap for snap in txn.get_all(list(refs))}
    return [by_path[ref.path] for ref in refs]


def _count(query: firestore.CollectionReference | firestore.Query) -> int:
    counting: Any = query.count()  # the library's annotations are off here
    return int(counting.get()[0][0].value)


# -- documents <-> domain -------------------------------------------------------------


# A player's totals, which an answer moves by field transforms (`_totals_change`).
TOTALS = ("score", "correct_count", "answered_count", "score_reached_at_ms")


def _totals_change(a: NewAnswer) -> dict[str, Any]:
    change: dict[str, Any] = {
        "score": firestore.Increment(a.verdict.points),
        "correct_count": firestore.Increment(int(a.verdict.correct)),
        "answered_count": firestore.Increment(1),
        CHANGED_AT: CHANGED_NOW,
    }
    if a.verdict.points:  # ties rank the player who reached the score first
        change["score_reached_at_ms"] = firestore.Maximum(a.received_at_ms)
    return change


def _answer_to_doc(a: NewAnswer) -> dict[str, Any]:
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


def _quiz_key(quiz: Quiz) -> dict[str, Any]:
    return {q.id: {"accepted": list(q.accepted), "explanation": q.explanation} for q in quiz.questions}


def _quiz_from_docs(quiz_id: str, public: dict[str, Any], key: dict[str, Any]) -> Quiz:
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
        )
        for q in public["questions"]
    )
    return Quiz(quiz_id, public["title"], questions)


def _timing_to_doc(t: Timing) -> dict[str, Any]:
    return dataclasses.asdict(t)


def _timing_from_doc(d: dict[str, Any]) -> Timing:
    return Timing(d["index"], d["question_id"], d["started_at_ms"], d["deadline_ms"], d.get("revealed_at_ms"))


def _session_to_doc(s: Session) -> dict[str, Any]:
    return {
        "code": s.id,
        "quiz_id": s.quiz_id,
        "host_uid": s.host_uid,
        "status": s.status.value,
        "max_participants": s.max_participants,
        "question_count": s.question_count,
        "auto_advance": s.auto_advance,
        "created_at_ms": s.created_at_ms,
        "current": _timing_to_doc(s.current) if s.current else None,
        "revealed": s.revealed,
        "timings": {qid: _timing_to_doc(t) for qid, t in s.timings.items()},
    }


def _session_from_doc(session_id: str, d: dict[str, Any]) -> Session:
    return Session(
        id=session_id,
        quiz_id=d["quiz_id"],
        host_uid=d["host_uid"],
        status=Status(d["status"]),
        max_participants=d["max_participants"],
        question_count=d["question_count"],
        auto_advance=d["auto_advance"],
        created_at_ms=d["created_at_ms"],
        current=_timing_from_doc(d["current"]) if d.get("current") else None,
        revealed=d.get("revealed", False),
        timings={qid: _timing_from_doc(t) for qid, t in d.get("timings", {}).items()},
    )


def _participant_to_doc(p: Participant) -> dict[str, Any]:
    return dataclasses.asdict(p) | {"uid": p.uid}


def _participant_from_doc(uid: str, d: dict[str, Any]) -> Participant:
    fields = {f.name for f in dataclasses.fields(Participant)} - {"uid"}
    return Participant(uid=uid, **{k: v for k, v in d.items() if k in fields})
