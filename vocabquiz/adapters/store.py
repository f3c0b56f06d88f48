"""The Firestore store (the service's Store port): quizzes, sessions and participants
here, answers in answers.py, quotas in quotas.py, the documents' shapes in documents.py. Its twin is
memory.MemoryStore.

Each rule (admission, lifecycle, scoring) is the domain's, run on what a transaction read;
the store keeps every effect exactly-once on at-least-once delivery. Per-answer writes
touch only the player's own documents; the session document changes on lifecycle
transitions only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from google.api_core import exceptions as gexc
from google.cloud import firestore

from vocabquiz.adapters import documents
from vocabquiz.adapters.answers import FirestoreAnswers
from vocabquiz.adapters.documents import CHANGED_AT, CHANGED_NOW, CONNECTION_ID, session_ref
from vocabquiz.adapters.quotas import FirestoreQuotas
from vocabquiz.domain import admission, catalog, names
from vocabquiz.domain.catalog import QuizPage, StoredQuiz, Visibility
from vocabquiz.domain.errors import Busy, GameError, NoSession, NotJoined
from vocabquiz.domain.ids import new_session_code
from vocabquiz.domain.model import Participant, Quiz, Session, Status
from vocabquiz.domain.play_order import play_order
from vocabquiz.protocol import ErrorCode
from vocabquiz.service.ports import Joined

log = logging.getLogger("quiz.store")
DISCONNECT_ATTEMPTS = 5

DOCUMENT_ID = "__name__"
PARTICIPANT_FIELDS = [
    "username",
    "score",
    "score_reached_at_ms",
    "correct_count",
    "answered_count",
    "connected",
    "joined_at_ms",
]
# 1 while a participant is connected, 0 while away: beside `connected` because Firestore
# sums numbers, not booleans, and one aggregation then counts seats and players present.
PRESENT = "present"


class Store(FirestoreAnswers, FirestoreQuotas):
    def __init__(self, client: firestore.Client) -> None:
        self.db = client
        self._quiz_cache: dict[str, Quiz] = {}

    # -- quizzes ------------------------------------------------------------------

    def save_quiz(
        self, quiz: Quiz, owner_uid: str | None = None, public: bool = False, anonymous: bool = False
    ) -> None:
        """Store a quiz. A host (`owner_uid`) may create a quiz or replace their own; the
        seeding and import tools (no owner) may write any, into the public library. An
        anonymous owner's quiz expires (documents.ANONYMOUS_QUIZ_RETENTION)."""
        ref = self.db.collection("quizzes").document(quiz.id)
        visibility = Visibility.of(owner_uid, public)

        @firestore.transactional
        def run(txn: firestore.Transaction) -> None:
            existing = ref.get(transaction=txn)
            stored = documents.visibility_from_doc(existing.to_dict() or {}) if existing.exists else None
            catalog.require_may_save(quiz.id, owner_uid, stored)
            expiry = documents.expiry(documents.ANONYMOUS_QUIZ_RETENTION) if anonymous else {}
            txn.set(ref, documents.quiz_to_doc(quiz, visibility) | expiry)
            txn.set(ref.collection("private").document("key"), documents.quiz_key(quiz) | expiry)

        documents.commit(self.db, run)

    def list_quizzes(self, uid: str, limit: int, after: str | None = None) -> QuizPage:
        """Public quizzes and `uid`'s own, by id, after `after`: one query (two equality
        filters OR'd, each served by a single-field index) that reads one more than a
        page to know whether another follows."""
        quizzes = self.db.collection("quizzes")
        query = quizzes.where(
            filter=firestore.Or(
                [firestore.FieldFilter("public", "==", True), firestore.FieldFilter("owner_uid", "==", uid)]
            )
        ).order_by(DOCUMENT_ID)
        if after is not None:
            query = query.start_after({DOCUMENT_ID: quizzes.document(after)})
        listed = query.select(["title", "question_count", "owner_uid", "public"]).limit(limit + 1)
        found = [documents.quiz_entry_from_doc(doc.id, doc.to_dict() or {}) for doc in listed.stream()]
        page = found[:limit]
        return page, page[-1].quiz_id if len(found) > limit else None

    def stored_quiz(self, quiz_id: str) -> StoredQuiz | None:
        ref = self.db.collection("quizzes").document(quiz_id)
        key_ref = ref.collection("private").document("key")
        by_path = {snap.reference.path: snap for snap in self.db.get_all([ref, key_ref])}
        public, key = by_path[ref.path], by_path[key_ref.path]
        if not public.exists or not key.exists:
            return None
        doc = public.to_dict() or {}
        quiz = documents.quiz_from_docs(quiz_id, doc, (key.to_dict() or {})["key"])
        return StoredQuiz(quiz, documents.visibility_from_doc(doc))

    def load_quiz(self, quiz_id: str) -> Quiz | None:
        stored = self.stored_quiz(quiz_id)
        return stored.quiz if stored else None

    def session_quiz(self, session_id: str) -> Quiz:
        """The quiz as frozen when the session was created; immutable, so cached."""
        quiz = self._quiz_cache.get(session_id)
        if quiz is None:
            data = session_ref(self.db, session_id).collection("private").document("quiz").get().to_dict()
            if data is None:
                raise NoSession(session_id)
            quiz = documents.quiz_from_docs(data["quiz_id"], data["public"], data["key"])
            self._quiz_cache[session_id] = quiz
        return quiz

    # -- sessions -----------------------------------------------------------------

    def create_session(
        self, quiz: Quiz, host_uid: str, max_participants: int, auto_advance: bool, now_ms: int
    ) -> Session:
        """A session under a fresh code, with `quiz` frozen in the code's play order."""
        for _ in range(10):
            code = new_session_code()
            played = play_order(quiz, code)
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
            ref = session_ref(self.db, code)
            batch = self.db.batch()
            batch.create(ref, documents.session_to_doc(session) | documents.expiry())
            public = {"title": played.title, "questions": [q.public() for q in played.questions]}
            frozen = (
                {"quiz_id": played.id, "public": public} | documents.quiz_key(played) | documents.expiry()
            )
            batch.create(ref.collection("private").document("quiz"), frozen)
            try:
                batch.commit()
            except gexc.Conflict:
                continue  # code taken: draw another
            self._quiz_cache[code] = played
            return session
        raise RuntimeError("Could not draw a free session code in 10 tries")

    def get_session(self, session_id: str) -> Session:
        snap = session_ref(self.db, session_id).get()
        if not snap.exists:
            raise NoSession(session_id)
        return documents.session_from_doc(snap.id, snap.to_dict() or {})

    def transition(
        self, session_id: str, change: Callable[[Session], Session | None]
    ) -> tuple[Session, Session | None]:
        """Apply `change` to the session in a transaction; returns (before, after), with
        after None when `change` decided there was nothing to do.

        A commit whose outcome is unknown (its reply lost; the library's retry then finds
        the transaction closed) is settled by reading the session: if it is what this
        change wrote, the change happened, once. A host's step is not retried blindly:
        "next" twice would skip a question."""
        ref = session_ref(self.db, session_id)
        attempt: list[tuple[Session, Session | None]] = []

        @firestore.transactional
        def run(txn: firestore.Transaction) -> tuple[Session, Session | None]:
            snap = ref.get(transaction=txn)
            if not snap.exists:
                raise NoSession(session_id)
            before = documents.session_from_doc(snap.id, snap.to_dict() or {})
            after = change(before)
            if after is not None:
                txn.set(ref, documents.session_to_doc(after) | documents.expiry())
            attempt[:] = [(before, after)]
            return before, after

        try:
            return cast(tuple[Session, Session | None], documents.commit(self.db, run))
        except gexc.GoogleAPICallError:
            if not attempt or attempt[0][1] is None:
                raise
            snap = ref.get()
            if not snap.exists or documents.session_from_doc(snap.id, snap.to_dict() or {}) != attempt[0][1]:
                raise
            log.warning(
                "a transition's commit outcome was unknown: it had committed",
                extra={"json_fields": {"session_id": session_id}},
            )
            return attempt[0]

    # -- participants -------------------------------------------------------------

    def join(self, session_id: str, uid: str, username: str, now_ms: int, connection_id: str = "") -> Joined:
        """Seat a player (or welcome one back) under a unique display name, as
        `admission` decides on what the transaction read.

        Capacity is checked outside the transaction: a count query inside it would lock
        the whole participants range, and a burst of joins would queue on that lock. A
        newcomer is seated first and then counts; if the session overflowed, the seats
        go to the earliest-seated (server timestamps), and the late racer leaves again.
        """
        ref = session_ref(self.db, session_id)
        participants = ref.collection("participants")
        participant_ref = participants.document(uid)
        name_ref = ref.collection("names").document(names.name_key(username))

        @firestore.transactional
        def run(txn: firestore.Transaction) -> Joined:
            banned_ref = ref.collection("banned").document(uid)
            session_snap, banned, existing, claim = documents.get_all(
                txn, ref, banned_ref, participant_ref, name_ref
            )
            if not session_snap.exists:
                raise NoSession(session_id)
            session = documents.session_from_doc(session_id, session_snap.to_dict() or {})
            seated = (
                documents.participant_from_doc(uid, existing.to_dict() or {}) if existing.exists else None
            )
            participant = admission.admit(
                session,
                uid,
                username,
                now_ms,
                banned=banned.exists,
                seated=seated,
                name_owner=claim.get("uid") if claim.exists else None,
            )
            stamps = {CONNECTION_ID: connection_id, CHANGED_AT: CHANGED_NOW, PRESENT: 1}
            if seated is not None:
                if seated.username != username:
                    txn.delete(ref.collection("names").document(names.name_key(seated.username)))
                txn.update(participant_ref, {"username": username, "connected": True} | stamps)
            else:
                txn.create(
                    participant_ref,
                    documents.participant_to_doc(participant)
                    | stamps
                    | {"seated_at": CHANGED_NOW}
                    | documents.expiry(),
                )
            txn.set(name_ref, {"uid": uid} | documents.expiry())
            return Joined(session, participant, 0, seated is None)

        if not participant_ref.get().exists:
            admission.check_capacity(documents.count(participants), self._max_participants(session_id))
        joined = cast(Joined, documents.commit(self.db, run))
        count, present = _seats_and_present(participants)
        maximum = joined.session.max_participants
        if joined.is_new and count > maximum:
            earliest = [
                doc.id for doc in participants.order_by("seated_at").limit(maximum).select([]).stream()
            ]
            if not admission.keeps_seat(uid, earliest, count, maximum):
                batch = self.db.batch()
                batch.delete(participant_ref)
                batch.delete(name_ref)
                batch.commit()
                admission.check_capacity(count, maximum)
        return dataclasses.replace(joined, participant_count=admission.shown_count(present, maximum))

    def _max_participants(self, session_id: str) -> int:
        snap = session_ref(self.db, session_id).get(["max_participants"])
        if not snap.exists:
            raise NoSession(session_id)
        return int(snap.get("max_participants"))

    def players_ahead(self, session_id: str, score: int) -> int:
        """How many players have a higher score (a count, not a read of each)."""
        participants = session_ref(self.db, session_id).collection("participants")
        return documents.count(participants.where(filter=firestore.FieldFilter("score", ">", score)))

    def participant(self, session_id: str, uid: str) -> Participant:
        snap = session_ref(self.db, session_id).collection("participants").document(uid).get()
        if not snap.exists:
            raise NotJoined(session_id)
        return documents.participant_from_doc(uid, snap.to_dict() or {})

    def seated(self, session_id: str, uids: Sequence[str]) -> set[str]:
        participants = session_ref(self.db, session_id).collection("participants")
        found = self.db.get_all([participants.document(uid) for uid in uids], field_paths=[])
        return {snap.id for snap in found if snap.exists}

    def set_connected(
        self, session_id: str, uid: str, connected: bool, connection_id: str = ""
    ) -> tuple[Participant, int, bool]:
        """(the participant now, the players present after it, whether they were
        connected before). Connecting records the connection, so a late disconnect of an
        older one (see `disconnect`) changes nothing."""
        participants = session_ref(self.db, session_id).collection("participants")
        participant = self.participant(session_id, uid)
        change: dict[str, Any] = {"connected": connected, PRESENT: int(connected), CHANGED_AT: CHANGED_NOW}
        if connected:
            change[CONNECTION_ID] = connection_id
        participants.document(uid).update(change)
        _, present = _seats_and_present(participants)
        return dataclasses.replace(participant, connected=connected), present, participant.connected

    def disconnect(self, session_id: str, uid: str, connection_id: str) -> tuple[Participant, int] | None:
        """Mark a player away because their socket closed, if it was their current
        connection and they were connected; None otherwise (they are back on another
        socket, left already, or were never seated: a host watching, say)."""
        participants = session_ref(self.db, session_id).collection("participants")
        ref = participants.document(uid)
        # Optimistic, not a transaction: a transaction's lock on the player's document
        # queued the REJOINs and answers of a reconnect storm behind it (409 lock timeouts,
        # retried for up to a minute). The update applies only if nothing changed since the
        # read; otherwise it reads again.
        for _ in range(DISCONNECT_ATTEMPTS):
            snap = ref.get()
            doc = snap.to_dict() or {}
            if not snap.exists or not doc.get("connected") or doc.get(CONNECTION_ID) != connection_id:
                return None
            try:
                ref.update(
                    {"connected": False, PRESENT: 0, CHANGED_AT: CHANGED_NOW},
                    option=self.db.write_option(last_update_time=snap.update_time),
                )
            except gexc.FailedPrecondition:
                continue  # changed under us (a REJOIN, an answer): look again
            participant = dataclasses.replace(documents.participant_from_doc(uid, doc), connected=False)
            return participant, _seats_and_present(participants)[1]
        raise Busy(f"{uid}'s seat in {session_id} kept changing")

    def present_count(self, session_id: str) -> int:
        return _seats_and_present(session_ref(self.db, session_id).collection("participants"))[1]

    def kick(self, session_id: str, uid: str) -> Participant:
        """Remove a player for good: their seat and name are freed, and a ban stops a rejoin."""
        ref = session_ref(self.db, session_id)
        participant_ref = ref.collection("participants").document(uid)

        @firestore.transactional
        def run(txn: firestore.Transaction) -> Participant:
            snap = participant_ref.get(transaction=txn)
            if not snap.exists:
                raise GameError(ErrorCode.NOT_JOINED, f"{uid} is not in session {session_id}")
            participant = documents.participant_from_doc(uid, snap.to_dict() or {})
            txn.delete(participant_ref)
            txn.delete(ref.collection("names").document(names.name_key(participant.username)))
            # A stamped tombstone: leaderboards that read only what changed see the removal.
            tombstone = {"uid": uid, CHANGED_AT: CHANGED_NOW} | documents.expiry()
            txn.set(ref.collection("banned").document(uid), tombstone)
            return participant

        return cast(Participant, documents.commit(self.db, run))

    def participants(self, session_id: str) -> list[Participant]:
        return self.participants_changed(session_id, since=None)[0]

    def participants_changed(
        self, session_id: str, since: datetime | None
    ) -> tuple[list[Participant], set[str], datetime | None]:
        """Participants written after `since` (all of them for None), the uids removed
        after `since` (a kick leaves a stamped tombstone in `banned`), and the time of
        this read: every write stamps `changed_at` with its commit time, so the next read
        asks for what changed after (about) this one."""
        ref = session_ref(self.db, session_id)
        query: Any = ref.collection("participants")
        if since is not None:
            query = query.where(filter=firestore.FieldFilter(CHANGED_AT, ">", since))
        snapshots = list(query.select(PARTICIPANT_FIELDS).stream())
        read_time = snapshots[0].read_time if snapshots else None
        removed: set[str] = set()
        if since is not None:
            tombstones = ref.collection("banned").where(filter=firestore.FieldFilter(CHANGED_AT, ">", since))
            removed = {doc.id for doc in tombstones.select([]).stream()}
        changed = [documents.participant_from_doc(doc.id, doc.to_dict() or {}) for doc in snapshots]
        return changed, removed, read_time

    def save_leaderboard_snapshot(self, session_id: str, payload: dict[str, Any], now_ms: int) -> None:
        public = {k: v for k, v in payload.items() if k != "ranks"}
        ref = session_ref(self.db, session_id).collection("public").document("leaderboard")
        ref.set({**public, "updated_at_ms": now_ms} | documents.expiry())


def _seats_and_present(participants: firestore.CollectionReference) -> tuple[int, int]:
    """(seats taken, players present) in one aggregation query: a count and a sum of
    `present`, as cheap as the count alone (a read per 1,000 index entries). With two
    aggregations Firestore counts only documents that hold `present`: every participant
    document is written with it."""
    counting: Any = participants  # the library's annotations are off here
    result = {r.alias: r.value for r in counting.count(alias="seats").sum(PRESENT, alias=PRESENT).get()[0]}
    return int(result["seats"]), int(result[PRESENT])
