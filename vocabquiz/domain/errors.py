"""Refusals the domain raises; each carries the stable protocol code a client sees."""

from __future__ import annotations

from vocabquiz.protocol import ErrorCode


class GameError(Exception):
    """A command the game refuses. Never retried: the same input gives the same answer."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NoSession(GameError):
    def __init__(self, session_id: str) -> None:
        super().__init__(ErrorCode.INVALID_SESSION, f"Session {session_id} does not exist")


class NotJoined(GameError):
    def __init__(self, session_id: str) -> None:
        super().__init__(ErrorCode.NOT_JOINED, f"You have not joined session {session_id}")


class AlreadyAnswered(GameError):
    """The first answer counts: another attempt at an answered question."""

    def __init__(self) -> None:
        super().__init__(ErrorCode.ALREADY_ANSWERED, "Only your first answer counts")


class Busy(Exception):
    """The store could not commit under contention, after its own retries. Nothing was
    written: the caller answers 503 and the sender (Pub/Sub, Cloud Tasks, a host's
    browser) tries again."""
