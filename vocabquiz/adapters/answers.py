"""The answers half of the Firestore store: scoring one answer in a transaction, a batch
in one commit with no read, and reading what is stored. The rules (judging, the first
answer counts, how a verdict moves a player's totals) are the domain's; this commits them.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from google.api_core import exceptions as gexc
from google.cloud import firestore

from vocabquiz.adapters import documents
from vocabquiz.adapters.documents import CHANGED_AT, CHANGED_NOW, session_ref
from vocabquiz.domain import scoring
from vocabquiz.domain.errors import Busy, NoSession, NotJoined
from vocabquiz.domain.ids import answer_id
from vocabquiz.domain.model import NewAnswer, Participant, Verdict
from vocabquiz.observability import tracing
from vocabquiz.service.ports import AnswersRefused, Judge, Scored, Stored


class FirestoreAnswers:
    db: firestore.Client

    def score_answer(self, session_id: str, answer: NewAnswer, judge: Judge) -> Scored:
        """Score a player's answer to a question exactly once, in a transaction.

        The answer's id is derived from (user, question), and the transaction creates it
        only if absent: a redelivered command finds it and replays the stored verdict.
        """
        uid, question_id, message_id = answer.uid, answer.question_id, answer.message_id
        ref = session_ref(self.db, session_id)
        participant_ref = ref.collection("participants").document(uid)
        the_answer_id = answer_id(uid, question_id)
        answer_ref = ref.collection("answers").document(the_answer_id)
        attempts = 0
        committed_at: datetime | None = None

        @firestore.transactional
        def run(txn: firestore.Transaction) -> Scored:
            nonlocal attempts, committed_at
            attempts += 1
            committed_at = None
            session_snap, participant_snap, answer_snap = documents.get_all(
                txn, ref, participant_ref, answer_ref
            )
            if not session_snap.exists:
                raise NoSession(session_id)
            if not participant_snap.exists:
                raise NotJoined(session_id)
            participant = documents.participant_from_doc(uid, participant_snap.to_dict() or {})
            if answer_snap.exists:
                stored = answer_snap.to_dict() or {}
                scoring.require_same_message(stored.get("message_id", ""), message_id)
                verdict = Verdict(stored["is_correct"], stored["points"], stored["time_taken_ms"])
                score_after = stored.get("score_after")
                if score_after is None:  # stored by a batch commit: computed below, outside
                    score_after = -1
                    committed_at = answer_snap.update_time
                replay = dataclasses.replace(participant, score=score_after)
                return Scored(the_answer_id, replay, question_id, verdict, replayed=True)
            new = judge(documents.session_from_doc(session_id, session_snap.to_dict() or {}))
            scored = scoring.apply_totals(participant, scoring.totals_change(new))
            stored = documents.answer_to_doc(new) | {"score_after": scored.score} | documents.expiry()
            txn.create(answer_ref, stored)
            totals = {k: getattr(scored, k) for k in documents.TOTALS}
            txn.update(participant_ref, totals | {CHANGED_AT: CHANGED_NOW})
            return Scored(the_answer_id, scored, question_id, new.verdict, replayed=False)

        with tracing.tracer().start_as_current_span("score transaction") as span:
            try:
                scored = cast(Scored, documents.commit(self.db, run))
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
        ref = session_ref(self.db, session_id)
        batch = self.db.batch()
        transforms = [documents.totals_transforms(scoring.totals_change(a)) for a in answers]
        expiry = documents.expiry()
        for a, change in zip(answers, transforms, strict=True):
            batch.create(
                ref.collection("answers").document(answer_id(a.uid, a.question_id)),
                documents.answer_to_doc(a) | expiry,
            )
            batch.update(ref.collection("participants").document(a.uid), change)
        try:
            results = batch.commit()
        except (gexc.AlreadyExists, gexc.NotFound) as exc:
            raise AnswersRefused(str(exc)) from exc
        except gexc.Aborted as exc:
            raise Busy(str(exc)) from exc
        participants = []
        # Writes alternate answer, participant: the participants' results are every second.
        for a, change, result in zip(answers, transforms, results[1::2], strict=True):
            total = documents.totals_from_results(change, result.transform_results, self.db)
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
        ref = session_ref(self.db, session_id)
        refs = [
            ref.collection("answers").document(answer_id(uid, question_id)) for uid, question_id in answers
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
                session_ref(self.db, session_id)
                .collection("answers")
                .where(filter=firestore.FieldFilter("uid", "in", uids[start : start + 30]))
                .select(["uid", "points"])
            )
            for doc in query.stream():
                points[doc.get("uid")].append((doc.update_time, int(doc.get("points"))))
        return [sum(p for at, p in points[uid] if at <= committed) for uid, committed in answers]

    def has_answered(self, session_id: str, uid: str, question_id: str) -> bool:
        ref = session_ref(self.db, session_id).collection("answers").document(answer_id(uid, question_id))
        return bool(ref.get().exists)

    def answers_to(self, session_id: str, question_id: str) -> Iterator[tuple[str, bool]]:
        query = (
            session_ref(self.db, session_id)
            .collection("answers")
            .where(filter=firestore.FieldFilter("question_id", "==", question_id))
            .select(["answer", "is_correct"])
        )
        for doc in query.stream():
            yield doc.get("answer"), doc.get("is_correct")

    def answers_changed(
        self, session_id: str, question_id: str, since: datetime | None
    ) -> tuple[dict[str, tuple[str, bool]], datetime | None]:
        """Answers to a question stored after `since` (all for None) by answer id, as
        (answer, is_correct), and the time of this read (see participants_changed)."""
        query: Any = (
            session_ref(self.db, session_id)
            .collection("answers")
            .where(filter=firestore.FieldFilter("question_id", "==", question_id))
        )
        if since is not None:
            query = query.where(filter=firestore.FieldFilter(CHANGED_AT, ">", since))
        snapshots = list(query.select(["answer", "is_correct"]).stream())
        read_time = snapshots[0].read_time if snapshots else None
        return {doc.id: (doc.get("answer"), doc.get("is_correct")) for doc in snapshots}, read_time

    def all_answers(self, session_id: str) -> list[dict[str, Any]]:
        return self._answers(session_ref(self.db, session_id).collection("answers"))

    def answers_of(self, session_id: str, uid: str) -> list[dict[str, Any]]:
        """One player's answers: a query on `uid`, never the whole session's."""
        answers = session_ref(self.db, session_id).collection("answers")
        return self._answers(answers.where(filter=firestore.FieldFilter("uid", "==", uid)))

    @staticmethod
    def _answers(query: Any) -> list[dict[str, Any]]:
        fields = ["uid", "question_id", "answer", "is_correct", "points", "time_taken_ms"]
        return [doc.to_dict() or {} for doc in query.select(fields).stream()]
