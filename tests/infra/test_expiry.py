"""The quota counters (one Firestore document per user, action and day) do not pile up:
a TTL policy, declared where terraform reads the field overrides, names the collection and
the field the store writes, and the field is left out of indexing as Firestore advises for
TTL timestamps."""

from __future__ import annotations

import json
from pathlib import Path

from vocabquiz.adapters.quotas import COLLECTION, EXPIRES_AT

ROOT = Path(__file__).resolve().parents[2]


def test_quota_counters_expire_by_a_ttl_policy_on_the_field_the_store_writes() -> None:
    overrides = json.loads((ROOT / "firestore.indexes.json").read_text())["fieldOverrides"]
    ttl = [o for o in overrides if o.get("ttl")]
    assert ttl == [{"collectionGroup": COLLECTION, "fieldPath": EXPIRES_AT, "ttl": True, "indexes": []}]


def test_terraform_turns_a_ttl_override_into_a_ttl_config() -> None:
    module = (ROOT / "terraform" / "modules" / "firestore" / "main.tf").read_text()
    assert 'dynamic "ttl_config"' in module and "try(each.value.ttl, false)" in module
