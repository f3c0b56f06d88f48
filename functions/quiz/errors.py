"""Refusals the domain raises; each carries the stable protocol code a client sees."""

from __future__ import annotations

from protocol import ErrorCode


class GameError(Exception):
    """A command the game refuses. Never retried: the same input gives the same answer."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
