"""Ids derived from what they name, so a retry or redelivery lands on the same id."""

from __future__ import annotations

import hashlib
import secrets

SESSION_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a room
SESSION_CODE_LENGTH = 6


def stable_hash(text: str) -> int:
    """Same value in every process (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def answer_id(uid: str, question_id: str) -> str:
    return f"{uid}_{question_id}"


def task_id(kind: str, session_id: str, slot: int) -> str:
    # Cloud Tasks advises against sequential names (they hot-spot its index): lead with
    # a hash, keep the readable part after it.
    prefix = f"{stable_hash(f'{session_id}/{slot}'):016x}"
    return f"{prefix}-{kind}-{session_id}-{slot}"


def new_session_code() -> str:
    """A session's join code, drawn at random (the store retries one that is taken)."""
    return "".join(secrets.choice(SESSION_CODE_ALPHABET) for _ in range(SESSION_CODE_LENGTH))
