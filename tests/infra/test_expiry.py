"""Stored documents do not pile up: every collection the Firestore store writes has a TTL
policy on the field the store stamps (declared in firestore.indexes.json, where terraform
reads the field overrides), each left out of indexing as Firestore advises for TTL
timestamps. Which documents carry the field is held on the emulator
(tests/e2e/test_retention.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from vocabquiz.adapters import quotas
from vocabquiz.adapters.documents import EXPIRES_AT

ROOT = Path(__file__).resolve().parents[2]


def _written_collections() -> set[str]:
    source = "\n".join(p.read_text() for p in (ROOT / "vocabquiz" / "adapters").glob("*.py"))
    named = set(re.findall(r'collection\("([a-z_]+)"\)', source))
    return named | {quotas.COLLECTION}


def test_every_collection_the_store_writes_expires_by_a_ttl_policy_on_its_field() -> None:
    overrides = json.loads((ROOT / "firestore.indexes.json").read_text())["fieldOverrides"]
    ttl = {o["collectionGroup"]: o for o in overrides if o.get("ttl")}
    assert set(ttl) == _written_collections()
    for group, override in ttl.items():
        assert override == {"collectionGroup": group, "fieldPath": EXPIRES_AT, "ttl": True, "indexes": []}
    assert quotas.EXPIRES_AT == EXPIRES_AT


def test_terraform_turns_a_ttl_override_into_a_ttl_config() -> None:
    module = (ROOT / "terraform" / "modules" / "firestore" / "main.tf").read_text()
    assert 'dynamic "ttl_config"' in module and "try(each.value.ttl, false)" in module
