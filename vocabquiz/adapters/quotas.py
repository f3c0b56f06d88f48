"""The quotas part of the Firestore store: one counter document per user, action and UTC
day, moved in a transaction that refuses to pass the limit. Each carries an `expires_at`
a day after its day ends, when the TTL policy (firestore.indexes.json) deletes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from google.cloud import firestore

from vocabquiz.adapters import documents

COLLECTION = "quotas"
# A TTL policy on this field (firestore.indexes.json) deletes a counter once its day is over.
EXPIRES_AT = documents.EXPIRES_AT


class FirestoreQuotas:
    db: firestore.Client

    def use_quota(self, uid: str, action: str, day: str, limit: int) -> bool:
        ref = self._counter(uid, action, day)
        expires_at = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(days=2)

        @firestore.transactional
        def run(txn: firestore.Transaction) -> bool:
            snap = ref.get(transaction=txn)
            used = int((snap.to_dict() or {}).get("count", 0)) if snap.exists else 0
            if used >= limit:
                return False
            counter = {"uid": uid, "action": action, "day": day, "count": used + 1, EXPIRES_AT: expires_at}
            txn.set(ref, counter)
            return True

        return cast(bool, documents.commit(self.db, run))

    def return_quota(self, uid: str, action: str, day: str) -> None:
        # Only a use counted moments ago is returned, so the count never goes below zero.
        self._counter(uid, action, day).update({"count": firestore.Increment(-1)})

    def _counter(self, uid: str, action: str, day: str) -> firestore.DocumentReference:
        # The uid leads the id: ids that start alike (a date) would crowd one tablet.
        return self.db.collection(COLLECTION).document(f"{uid}_{action}_{day}")
